/**
 * Config-time checks of gitAuth blocks (a rule of config/rules.ts) and the
 * warning for a config file that holds secrets and is readable by others.
 * No message ever contains a secret value.
 */
import { statSync } from "node:fs";
import type { ConfigIssue } from "../errors.ts";
import type { FetchitConfig } from "../config/types.ts";
import { remoteKind, stripUserinfo } from "./remote-url.ts";

type Loose = Record<string, unknown>;
const isRecord = (v: unknown): v is Loose => typeof v === "object" && v !== null && !Array.isArray(v);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Issues of one gitAuth block at `where` (e.g. "targetConfigs[0].gitAuth"). */
function blockIssues(a: Loose, where: string, env: Record<string, string | undefined>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  if (a.ssh === true && (typeof a.sshKeyFile !== "string" || a.sshKeyFile === "")) {
    out.push({
      path: `${where}.sshKeyFile`,
      message: "required when ssh is true: the SSH private key, e.g. /etc/fetchit/deploy_key (names without a / are looked up in ~/.ssh/; FetchIt defaulted to /opt/mount/.ssh/id_rsa)",
    });
  }
  for (const key of ["sshKeyFile", "sshKnownHosts"]) {
    const v = a[key];
    if (typeof v === "string" && /['\n\r\0]/.test(v)) out.push({ path: `${where}.${key}`, message: "must not contain quotes or line breaks" });
  }
  const name = a.envSecret;
  if (typeof name === "string" && name !== "") {
    if (!ENV_NAME.test(name)) {
      // Never echo the value: it may be the token itself, put here by mistake.
      out.push({ path: `${where}.envSecret`, message: "must be the NAME of an environment variable (letters, digits, _), not the token itself; put the token in that variable (or in pat)" });
    } else if (!env[name]) {
      out.push({
        path: `${where}.envSecret`,
        message: `names the environment variable ${name}, which is not set (or empty) in fetchit's environment; set it (systemd: Environment= or EnvironmentFile= in a drop-in; podman: --secret NAME,type=env,target=${name})`,
      });
    }
  }
  return out;
}

/** The gitAuth rule: every block (top level and per target), and ssh auth on an https target. */
export function gitAuthIssues(config: FetchitConfig, env: Record<string, string | undefined> = process.env): ConfigIssue[] {
  const c = config as unknown as Loose;
  const out: ConfigIssue[] = [];
  const global = isRecord(c.gitAuth) ? c.gitAuth : undefined;
  if (global) out.push(...blockIssues(global, "gitAuth", env));
  const targets = Array.isArray(c.targetConfigs) ? c.targetConfigs : [];
  targets.forEach((t: unknown, i) => {
    if (!isRecord(t)) return;
    const own = isRecord(t.gitAuth) ? t.gitAuth : undefined;
    if (own) out.push(...blockIssues(own, `targetConfigs[${i}].gitAuth`, env));
    const auth = t.gitAuth !== undefined ? own : global;
    if (auth?.ssh === true && t.disconnected !== true && typeof t.url === "string" && remoteKind(t.url) === "http") {
      const from = own ? `targetConfigs[${i}].gitAuth` : "gitAuth";
      out.push({
        path: `targetConfigs[${i}].url`,
        message: `${from}.ssh is true but this url is ${stripUserinfo(t.url).split(":")[0]}; use the ssh url (e.g. git@host:owner/repo.git), or give this target its own gitAuth`,
      });
    }
  });
  return out;
}

/** Keys of the config that hold secrets (paths only), e.g. ["gitAuth.password"]. */
export function secretPaths(config: FetchitConfig): string[] {
  const c = config as unknown as Loose;
  const out: string[] = [];
  const block = (v: unknown, where: string) => {
    if (!isRecord(v)) return;
    for (const key of ["password", "pat"]) if (typeof v[key] === "string" && v[key] !== "") out.push(`${where}.${key}`);
  };
  block(c.gitAuth, "gitAuth");
  block(c.configReload, "configReload");
  if (isRecord(c.configReload) && hasPassword(c.configReload.configURL)) out.push("configReload.configURL");
  (Array.isArray(c.targetConfigs) ? c.targetConfigs : []).forEach((t: unknown, i) => {
    if (!isRecord(t)) return;
    block(t.gitAuth, `targetConfigs[${i}].gitAuth`);
    if (hasPassword(t.url)) out.push(`targetConfigs[${i}].url`);
  });
  return out;
}

/** True for `scheme://user:password@…`. */
function hasPassword(url: unknown): boolean {
  return typeof url === "string" && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url);
}

/**
 * A warning when `file` holds secrets and group or others may read it, naming
 * the keys (not their values) and the chmod to run; undefined otherwise (also
 * when `file` is not a file, e.g. "$FETCHIT_CONFIG").
 */
export function configSecretsWarning(file: string, config: FetchitConfig): string | undefined {
  const keys = secretPaths(config);
  if (keys.length === 0) return undefined;
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o044) === 0) return undefined;
  const who = mode & 0o004 ? "every user" : "its group";
  return `config file ${file} holds secrets (${keys.join(", ")}) and is readable by ${who} (mode ${mode.toString(8)}); run: chmod 600 ${file} (or use gitAuth.envSecret)`;
}
