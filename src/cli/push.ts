/**
 * `fetchit push DIR oci://REGISTRY/REPO:TAG [--annotation k=v] [--sign KEY]
 * [--tls-verify=false] [--authfile F]`: packs DIR as one reproducible layer,
 * pushes it (and a signature), prints the manifest digest. What a CI
 * pipeline runs instead of oras and cosign. Flags are spelled as Podman's.
 */
import { statSync } from "node:fs";
import { FetchitError } from "../errors.ts";
import { pushDirectory } from "../oci/index.ts";
import type { Env } from "./options.ts";

export interface PushCommandOptions {
  annotation?: string | string[];
  sign?: string;
  tlsVerify?: boolean | string;
  authfile?: string;
}

export async function pushCommand(dir: string, url: string, opts: PushCommandOptions, env: Env, print: (line: string) => void): Promise<number> {
  try {
    if (!dir || !url) throw new FetchitError("usage: fetchit push DIR oci://REGISTRY/REPO:TAG");
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new FetchitError(`push: ${dir} is not a directory`);
    const annotations: Record<string, string> = {};
    for (const a of [opts.annotation ?? []].flat()) {
      const eq = String(a).indexOf("=");
      if (eq <= 0) throw new FetchitError(`--annotation ${a}: expected KEY=VALUE`);
      annotations[String(a).slice(0, eq)] = String(a).slice(eq + 1);
    }
    const tlsVerify = !(opts.tlsVerify === false || opts.tlsVerify === "false");
    const res = await pushDirectory(dir, url, { annotations, tlsVerify, env, ...(opts.sign ? { signKey: opts.sign } : {}), ...(opts.authfile ? { authFile: opts.authfile } : {}) });
    print(res.digest);
    return 0;
  } catch (err) {
    if (!(err instanceof FetchitError)) throw err;
    print(`fetchit push: ${err.message}`);
    return 1;
  }
}
