/**
 * Where to ask for a repository, as Podman decides it
 * (containers-registries.conf(5), containers-certs.d(5)): `[[registry]]`
 * entries matched by `prefix`/`location` (longest match), their `mirror`
 * list tried in order before the primary, `insecure`/`blocked`; CA
 * certificates (and a client certificate) from `certs.d/HOST[:PORT]/`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { GitError } from "../errors.ts";

/** One place a repository can be read from. */
export interface Endpoint {
  registry: string;
  repository: string;
  /** false: accept any certificate, and plain HTTP when TLS is not spoken (a lab registry). */
  tlsVerify: boolean;
  mirror: boolean;
}

interface RegistryEntry {
  prefix?: string;
  location?: string;
  insecure?: boolean;
  blocked?: boolean;
  mirror?: { location?: string; insecure?: boolean }[];
  "pull-from-mirror"?: string;
}

/** registries.conf files: `$CONTAINERS_REGISTRIES_CONF` alone, else the user's or /etc's file plus /etc's `.d` drop-ins. */
function confFiles(env: NodeJS.ProcessEnv): string[] {
  if (env.CONTAINERS_REGISTRIES_CONF) return [env.CONTAINERS_REGISTRIES_CONF];
  const user = join(env.HOME || homedir(), ".config", "containers", "registries.conf");
  const main = process.getuid?.() !== 0 && existsSync(user) ? user : "/etc/containers/registries.conf";
  const dropDir = "/etc/containers/registries.conf.d";
  const drops = existsSync(dropDir) ? readdirSync(dropDir).filter((f) => f.endsWith(".conf")).sort().map((f) => join(dropDir, f)) : [];
  return [main, ...drops];
}

function readEntries(env: NodeJS.ProcessEnv): RegistryEntry[] {
  const out: RegistryEntry[] = [];
  for (const file of confFiles(env)) {
    if (!existsSync(file)) continue;
    let doc: { registry?: RegistryEntry[] };
    try {
      doc = Bun.TOML.parse(readFileSync(file, "utf8")) as typeof doc;
    } catch (err) {
      throw new GitError(`${file}: not valid TOML (${(err as Error).message}); fix it (containers-registries.conf(5))`);
    }
    out.push(...(doc.registry ?? []));
  }
  return out;
}

/** True when `name` (host/repo) is `prefix` or below it. */
const under = (name: string, prefix: string) => name === prefix || name.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);

/**
 * The endpoints to try for `registry/repository`, mirrors first. `tlsVerify`
 * false (the target's setting) wins over the conf; a conf `insecure` entry
 * turns verification off for that location.
 */
export function endpointsFor(registry: string, repository: string, opts: { tlsVerify?: boolean; byDigest?: boolean; env?: NodeJS.ProcessEnv } = {}): Endpoint[] {
  const name = `${registry}/${repository}`;
  const entries = readEntries(opts.env ?? process.env);
  const match = entries
    .map((e) => ({ e, prefix: e.prefix ?? e.location ?? "" }))
    .filter(({ prefix }) => prefix && under(name, prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  const verify = opts.tlsVerify !== false;
  if (!match) return [{ registry, repository, tlsVerify: verify, mirror: false }];
  const { e, prefix } = match;
  if (e.blocked) throw new GitError(`${name} is blocked by registries.conf ([[registry]] ${prefix}: blocked = true); unblock it or use another registry`, { retryable: false });
  const rewrite = (location: string): [string, string] => {
    const full = location.replace(/\/+$/, "") + name.slice(prefix.replace(/\/+$/, "").length);
    const slash = full.indexOf("/");
    return [full.slice(0, slash), full.slice(slash + 1)];
  };
  const primary = e.location ? rewrite(e.location) : [registry, repository];
  const pull = e["pull-from-mirror"] ?? "all";
  const useMirrors = pull === "all" || (pull === "digest-only" && opts.byDigest) || (pull === "tag-only" && !opts.byDigest);
  const mirrors = useMirrors ? (e.mirror ?? []).filter((m) => m.location) : [];
  return [
    ...mirrors.map((m) => {
      const [r, repo] = rewrite(m.location!);
      return { registry: r, repository: repo, tlsVerify: verify && !m.insecure, mirror: true };
    }),
    { registry: primary[0]!, repository: primary[1]!, tlsVerify: verify && !e.insecure, mirror: false },
  ];
}

export interface TlsFiles {
  ca?: string[];
  cert?: string;
  key?: string;
}

/** CA certificates (`*.crt`) and a client pair (`*.cert` + `*.key`) for `host[:port]` from the certs.d directories. */
export function tlsFilesFor(registry: string, dirs = ["/etc/containers/certs.d", "/etc/docker/certs.d", join(homedir(), ".config", "containers", "certs.d")]): TlsFiles {
  const out: TlsFiles = {};
  for (const base of dirs) {
    const dir = join(base, registry);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      const text = () => readFileSync(join(dir, f), "utf8");
      if (f.endsWith(".crt")) (out.ca ??= []).push(text());
      else if (f.endsWith(".cert")) out.cert = text();
      else if (f.endsWith(".key")) out.key = text();
    }
  }
  return out;
}
