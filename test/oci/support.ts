/**
 * Shared setup of the OCI tests: trees on disk, an OCI source on a fresh
 * state dir with its requests traced, and keys for signing.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TraceEvent } from "../../src/oci/client.ts";
import { createOciSource, type OciSourceOptions } from "../../src/oci/index.ts";
import { silentLogger } from "../../src/log.ts";
import { tempDir } from "../support/git.ts";

/** Writes `files` (path → content) into a new directory; returns it. */
export function tree(files: Record<string, string>, dir = tempDir("fetchit-oci-tree-")): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** An OCI source for `url` (tlsVerify false: the test registries speak plain HTTP) with every request recorded. */
export function tracedOciSource(url: string, opts: Partial<OciSourceOptions> = {}) {
  const calls: TraceEvent[] = [];
  const state = opts.cacheDir ?? tempDir("fetchit-oci-state-");
  const source = createOciSource({ url, cacheDir: state, tmpDir: join(state, "tmp"), log: silentLogger, reuseMs: 0, tlsVerify: false, env: { HOME: state }, ...opts, trace: (e) => calls.push(e) });
  return { source, calls, state, count: (method: string, kind?: "manifests" | "blobs") => calls.filter((c) => c.method === method && (!kind || c.url.includes(`/${kind}/`))).length };
}

/** A PKCS#8 private and SPKI public key pair as PEM files (WebCrypto-generated). */
export async function keyPair(algo: "ECDSA" | "Ed25519"): Promise<{ privateKey: string; publicKey: string }> {
  const params = algo === "ECDSA" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const pem = (kind: string, der: ArrayBuffer) => `-----BEGIN ${kind}-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END ${kind}-----\n`;
  const dir = tempDir("fetchit-oci-keys-");
  const privateKey = join(dir, "key.pem");
  const publicKey = join(dir, "key.pub");
  writeFileSync(privateKey, pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey)), { mode: 0o600 });
  writeFileSync(publicKey, pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", pair.publicKey)));
  return { privateKey, publicKey };
}
