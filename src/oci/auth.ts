/**
 * Registry credentials as Podman finds them (containers-auth.json(5)): the
 * first auth file that exists of `$REGISTRY_AUTH_FILE`,
 * `$XDG_RUNTIME_DIR/containers/auth.json`, `/run/containers/0/auth.json`
 * (root), `~/.config/containers/auth.json`, `~/.docker/config.json`; the entry
 * for `host/repo/path` (most specific first) or `host`. Credentials stay in
 * memory: never logged, never in argv or state.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { GitError } from "../errors.ts";

export interface Credentials {
  username: string;
  password: string;
}

/** Auth files in Podman's lookup order; `explicit` (e.g. --authfile) replaces the search. */
export function authFileCandidates(env: NodeJS.ProcessEnv = process.env, explicit?: string): string[] {
  if (explicit) return [explicit];
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  if (process.getuid?.() === 0) out.push("/run/containers/0/auth.json");
  const home = env.HOME || homedir();
  out.push(join(home, ".config", "containers", "auth.json"), join(home, ".docker", "config.json"));
  return out;
}

/** Keys to look up for `registry/repository`, most specific first. */
function lookupKeys(registry: string, repository: string): string[] {
  const parts = repository.split("/");
  const keys: string[] = [];
  for (let n = parts.length; n > 0; n--) keys.push(`${registry}/${parts.slice(0, n).join("/")}`);
  keys.push(registry);
  if (registry === "docker.io") keys.push("https://index.docker.io/v1/", "index.docker.io");
  return keys;
}

/** Decodes one `auths` entry (`auth` = base64 user:password, or username/password fields). */
function decodeEntry(entry: unknown, file: string, key: string): Credentials | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.auth === "string" && e.auth) {
    const plain = Buffer.from(e.auth, "base64").toString("utf8");
    const colon = plain.indexOf(":");
    if (colon < 0) throw new GitError(`${file}: auths["${key}"].auth is not base64 of user:password; log in again (podman login)`);
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (typeof e.username === "string" && typeof e.password === "string") return { username: e.username, password: e.password };
  if (typeof e.identitytoken === "string" && e.identitytoken) return { username: "<token>", password: e.identitytoken };
  return undefined;
}

/** Credentials for `registry/repository` from the first auth file that exists, or undefined (anonymous). */
export function findCredentials(registry: string, repository: string, opts: { env?: NodeJS.ProcessEnv; authFile?: string } = {}): Credentials | undefined {
  for (const file of authFileCandidates(opts.env, opts.authFile)) {
    if (!existsSync(file)) {
      if (opts.authFile) throw new GitError(`auth file ${file} does not exist; create it with podman login --authfile ${file}`);
      continue;
    }
    let doc: { auths?: Record<string, unknown> };
    try {
      doc = JSON.parse(readFileSync(file, "utf8")) as typeof doc;
    } catch (err) {
      throw new GitError(`${file}: not valid JSON (${(err as Error).message.split("\n")[0]}); fix it or log in again (podman login)`);
    }
    const auths = doc.auths ?? {};
    for (const key of lookupKeys(registry, repository)) {
      const found = decodeEntry(auths[key], file, key) ?? decodeEntry(auths[`https://${key}`], file, `https://${key}`);
      if (found) return found;
    }
  }
  return undefined;
}
