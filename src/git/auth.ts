/**
 * Git credentials: turns the effective `gitAuth` block of a target (its own,
 * else the global one) into extra environment for the git child processes.
 * Secrets travel ONLY through that environment (readable by the same user
 * only), never through argv, files, logs or error messages:
 * - HTTP(S): `http.<origin>/.extraHeader = Authorization: Basic …` set with
 *   GIT_CONFIG_COUNT/KEY/VALUE, scoped to the remote's origin, plus an empty
 *   `credential.helper` so no helper of the host can store the password.
 *   Credentials embedded in the URL (`https://user:pass@host/…`) are moved
 *   into that header too; git only ever sees the URL without them.
 * - SSH: see auth-ssh.ts (`ssh -i KEY -o IdentitiesOnly=yes …`, passphrase
 *   through SSH_ASKPASS reading an environment variable).
 *
 * {@link httpAuthHeaders} gives other HTTP clients (configReload downloads)
 * the same credentials as request headers.
 */
import type { GitAuth } from "../config/types.ts";
import { GitError } from "../errors.ts";
import { sshAccess } from "./auth-ssh.ts";
import { remoteKind } from "./remote-url.ts";

export type Env = Record<string, string | undefined>;

/** User name sent with a personal access token when gitAuth has no username (FetchIt's choice). */
export const PAT_USER = "fetchit";

/** Where the auth came from, for messages: "gitAuth" or "targetConfigs[0].gitAuth". */
export interface AuthOrigin {
  auth?: GitAuth;
  where: string;
}

/** What git needs to reach one remote. */
export interface GitAccess {
  /** Extra environment for every git command of this source (may hold secrets: never log it). */
  env: Record<string, string>;
  /** GIT_SSH_COMMAND, when the auth layer sets one. */
  sshCommand?: string;
  /** Safe description of the credentials in use, e.g. `user "alice" from gitAuth`; undefined = anonymous. */
  describe?: string;
  /** A clearer message for an authentication failure (git's stderr on one line), or undefined. */
  explain?: (detail: string) => string | undefined;
}

/** git's words for "the server wants (other) credentials". */
const HTTP_AUTH_FAILED = /authentication failed|could not read (username|password)|terminal prompts disabled|returned error: 40[13]/i;

export interface AccessOptions {
  /** Environment envSecret is read from. Default process.env. */
  env?: Env;
  /** Home directory relative key and known_hosts names are resolved against (`~/.ssh/`). */
  home?: string;
  /** A private directory where the SSH askpass helper may be written (no secrets go into it). */
  helperDir: string;
}

/** The auth block that applies to a target: its own `gitAuth` (even empty: anonymous), else the global one. */
export function effectiveGitAuth(global: GitAuth | undefined, target: { gitAuth?: GitAuth }, index: number): AuthOrigin {
  if (target.gitAuth !== undefined) return { auth: target.gitAuth, where: `targetConfigs[${index}].gitAuth` };
  return { auth: global, where: "gitAuth" };
}

/**
 * Environment and ssh command for reaching `url` with `origin.auth`.
 * @throws GitError (not retryable) when envSecret names an unset variable or the SSH key is unusable.
 */
export function gitAccess(url: string, origin: AuthOrigin, opts: AccessOptions): GitAccess {
  const kind = remoteKind(url);
  const auth = origin.auth ?? {};
  if (kind === "ssh" && auth.ssh) return sshAccess(url, auth, origin.where, opts);
  if (kind === "ssh") {
    const explain = (d: string) =>
      /permission denied|host key verification failed/i.test(d) ? `ssh refused (${d}); to use a deploy key and a known_hosts file set ${origin.where}.ssh: true and ${origin.where}.sshKeyFile` : undefined;
    return { env: {}, explain };
  }
  if (kind !== "http") return { env: {} };
  const basic = httpCredentials(url, origin, opts.env ?? process.env);
  if (!basic) {
    const set = origin.where === "gitAuth" ? "gitAuth or targetConfigs[N].gitAuth" : origin.where;
    return { env: {}, explain: (d) => (HTTP_AUTH_FAILED.test(d) ? `the server requires credentials and none are configured; set ${set}` : undefined) };
  }
  const header = `Authorization: Basic ${Buffer.from(`${basic.user}:${basic.secret}`).toString("base64")}`;
  return {
    env: gitConfigEnv([
      [`http.${httpOrigin(url)}/.extraHeader`, header],
      ["credential.helper", ""],
    ]),
    describe: `user "${basic.user}" ${basic.from}`,
    explain: (d) => (HTTP_AUTH_FAILED.test(d) ? `the server rejected the credentials (user "${basic.user}" ${basic.from}); check ${basic.fields}` : undefined),
  };
}

/** How {@link httpAuthHeaders} sends a token (pat/envSecret); user/password is always Basic. */
export type TokenScheme = "basic" | "bearer" | "token";

/**
 * Request headers carrying the credentials of `auth` for an HTTP(S) `url`, or
 * {} when there are none. Default: `Authorization: Basic …`, exactly what git
 * sends. `tokenAs` "bearer" / "token" sends a pat or envSecret token as
 * `Authorization: Bearer <t>` / `token <t>` instead (GitHub raw/API style).
 * For configReload downloads: `fetch(url, { headers: httpAuthHeaders(url, config.gitAuth) })`.
 * Credentials embedded in `url` are used when `auth` has none; strip them from
 * the URL you fetch with `stripUserinfo`. Never log the result.
 * @throws GitError when envSecret names an unset variable.
 */
export function httpAuthHeaders(url: string, auth: GitAuth | undefined, env: Env = process.env, where = "gitAuth", tokenAs: TokenScheme = "basic"): Record<string, string> {
  if (remoteKind(url) !== "http") return {};
  const basic = httpCredentials(url, { auth, where }, env);
  if (!basic) return {};
  const isToken = !!(auth?.envSecret || auth?.pat);
  if (isToken && tokenAs === "bearer") return { Authorization: `Bearer ${basic.secret}` };
  if (isToken && tokenAs === "token") return { Authorization: `token ${basic.secret}` };
  return { Authorization: `Basic ${Buffer.from(`${basic.user}:${basic.secret}`).toString("base64")}` };
}

interface BasicCredentials {
  user: string;
  secret: string;
  /** "from gitAuth.pat" etc. */
  from: string;
  /** Which keys to check when the server refuses them. */
  fields: string;
}

/** envSecret, else pat, else username/password, else userinfo in the URL; undefined when none. */
function httpCredentials(url: string, origin: AuthOrigin, env: Env): BasicCredentials | undefined {
  const a = origin.auth ?? {};
  const where = origin.where;
  const user = a.username || PAT_USER;
  if (a.envSecret) {
    // Never echo a value that is not a variable name: it may be the token itself.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.envSecret)) throw new GitError(`${where}.envSecret: must be the NAME of an environment variable, not the token itself`);
    const token = env[a.envSecret];
    if (!token) {
      throw new GitError(
        `${where}.envSecret: the environment variable ${a.envSecret} is not set (or empty) in fetchit's environment; set it (systemd: Environment= or EnvironmentFile= in a drop-in; podman: --secret NAME,type=env,target=${a.envSecret})`,
      );
    }
    return { user, secret: token, from: `from ${where}.envSecret (${a.envSecret})`, fields: `the token in $${a.envSecret}${a.username ? ` and ${where}.username` : ""}` };
  }
  if (a.pat) return { user, secret: a.pat, from: `from ${where}.pat`, fields: `${where}.pat${a.username ? ` and ${where}.username` : ""}` };
  if (a.username || a.password) {
    return { user: a.username ?? "", secret: a.password ?? "", from: `from ${where}.username/password`, fields: `${where}.username and ${where}.password` };
  }
  const info = urlUserinfo(url);
  if (info) return { ...info, from: "from the url", fields: "the user name and password in the url" };
  return undefined;
}

/** Decoded `user[:password]` of an http(s) URL, or undefined. */
export function urlUserinfo(url: string): { user: string; secret: string } | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@?#]*)@/i.exec(url);
  if (!m?.[1]) return undefined;
  const [user = "", ...rest] = m[1].split(":");
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return { user: decode(user), secret: decode(rest.join(":")) };
}

/** `scheme://host[:port]` of an http(s) URL, as git's http.<url>.* matching expects. */
function httpOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new GitError(`git: cannot parse the remote URL host of ${url.replace(/\/\/[^/@]*@/, "//***@")}`);
  }
}

/** GIT_CONFIG_COUNT/KEY_n/VALUE_n: config for one git process without argv or files. */
export function gitConfigEnv(entries: [string, string][]): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}
