/**
 * SSH access for git: `GIT_SSH_COMMAND = ssh -i KEY -o IdentitiesOnly=yes
 * -o UserKnownHostsFile=FILE -o StrictHostKeyChecking=yes …`. Only paths go
 * into that command line. A key passphrase (`password` with `ssh: true`, as in
 * FetchIt) reaches ssh through SSH_ASKPASS: a helper script that prints the
 * environment variable FETCHIT_SSH_PASSPHRASE (the script holds no secret).
 *
 * Relative `sshKeyFile`/`sshKnownHosts` names are looked up in `~/.ssh/` of
 * the user running fetchit (FetchIt looked them up in /opt/mount/.ssh/); the
 * known_hosts file defaults to `known_hosts` next to the key.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { GitAuth } from "../config/types.ts";
import { GitError } from "../errors.ts";
import type { AccessOptions, GitAccess } from "./auth.ts";
import { sshHostPort } from "./remote-url.ts";

/** Environment variable holding the key passphrase for the askpass helper. */
export const PASSPHRASE_VAR = "FETCHIT_SSH_PASSPHRASE";
const ASKPASS_NAME = "fetchit-ssh-askpass";
const ASKPASS_SCRIPT = `#!/bin/sh\n# fetchit: prints the SSH key passphrase from the environment; no secret is stored here.\nprintf '%s\\n' "$${PASSPHRASE_VAR}"\n`;

/** `/abs` as is, `~/x` under home, anything else under `~/.ssh/`. */
export function resolveSshPath(name: string, home: string = homedir()): string {
  if (name.startsWith("/")) return name;
  if (name.startsWith("~/")) return join(home, name.slice(2));
  return join(home, ".ssh", name);
}

/** The key and known_hosts files an ssh gitAuth block uses (no checks). */
export function sshFiles(auth: GitAuth, home: string = homedir()): { key?: string; knownHosts?: string } {
  const key = auth.sshKeyFile ? resolveSshPath(auth.sshKeyFile, home) : undefined;
  if (auth.sshStrictHostKeyChecking === false) return { key };
  const knownHosts = auth.sshKnownHosts ? resolveSshPath(auth.sshKnownHosts, home) : key ? join(dirname(key), "known_hosts") : undefined;
  return { key, knownHosts };
}

/** Single-quotes `s` for the shell git runs GIT_SSH_COMMAND with. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * GIT_SSH_COMMAND and environment for `auth` (with `ssh: true`) and ssh `url`.
 * @throws GitError (local: fixed on the host, retried) when the key or the known_hosts file is missing or unusable.
 */
export function sshAccess(url: string, auth: GitAuth, where: string, opts: AccessOptions): GitAccess {
  const home = opts.home ?? homedir();
  const { key, knownHosts } = sshFiles(auth, home);
  if (!key) throw new GitError(`${where}.sshKeyFile: required when ${where}.ssh is true (the private key, e.g. /etc/fetchit/deploy_key)`);
  checkKey(key, `${where}.sshKeyFile`);
  if (!auth.password && keyIsEncrypted(key)) {
    throw new GitError(`${where}.sshKeyFile: the SSH key ${key} is protected by a passphrase; set ${where}.password to it (given to ssh through SSH_ASKPASS, never on a command line)`);
  }
  const strict = knownHosts !== undefined;
  if (knownHosts && !existsSync(knownHosts)) {
    const { host, port } = sshHostPort(url);
    const scan = `ssh-keyscan ${port ? `-p ${port} ` : ""}${host} >> ${knownHosts}`;
    throw new GitError(
      `${where}.sshKnownHosts: no known_hosts file at ${knownHosts}, so the host key of ${host} cannot be verified; add it with \`${scan}\` (check the fingerprint), set ${where}.sshKnownHosts, or opt out with ${where}.sshStrictHostKeyChecking: false`,
      { local: true },
    );
  }
  const args = ["ssh", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=30", "-o", "BatchMode=yes"];
  args.push("-o", `UserKnownHostsFile=${knownHosts ?? "/dev/null"}`, "-o", `StrictHostKeyChecking=${strict ? "yes" : "no"}`);
  const env: Record<string, string> = {};
  if (auth.password) {
    // BatchMode forbids the passphrase prompt; publickey only, so askpass is asked for nothing but the passphrase.
    args.splice(args.indexOf("BatchMode=yes") - 1, 2, "-o", "NumberOfPasswordPrompts=1", "-o", "PreferredAuthentications=publickey");
    env.SSH_ASKPASS = writeAskpass(opts.helperDir);
    env.SSH_ASKPASS_REQUIRE = "force";
    env[PASSPHRASE_VAR] = auth.password;
  }
  return {
    env,
    sshCommand: args.map(shellQuote).join(" "),
    describe: `key ${key} from ${where}`,
    explain: (detail) => explainSsh(detail, { key, knownHosts, where, url, passphrase: !!auth.password }),
  };
}

/** The key must be a readable regular file that ssh accepts (no group/other access). */
function checkKey(key: string, field: string): void {
  let mode: number;
  try {
    const st = statSync(key);
    if (!st.isFile()) throw new Error("not a regular file");
    accessSync(key, constants.R_OK);
    mode = st.mode & 0o777;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(err as Error).message})`;
    throw new GitError(`${field}: the SSH key ${key} ${why}; bare names are looked up in ~/.ssh/ of the user running fetchit`, { local: true });
  }
  if (mode & 0o077) {
    throw new GitError(`${field}: the SSH key ${key} is accessible by group or others (mode ${mode.toString(8)}), so ssh refuses it; run: chmod 600 ${key}`, { local: true });
  }
}

/** True for a passphrase-protected private key: OpenSSH format with a cipher other than "none", or encrypted PEM/PKCS#8. */
export function keyIsEncrypted(key: string): boolean {
  const text = readFileSync(key, "latin1");
  if (/Proc-Type: 4,ENCRYPTED|-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) return true;
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END/.exec(text);
  if (!m?.[1]) return false;
  const raw = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
  const magic = "openssh-key-v1\0";
  if (raw.toString("latin1", 0, magic.length) !== magic || raw.length < magic.length + 4) return false;
  const len = raw.readUInt32BE(magic.length);
  return raw.toString("latin1", magic.length + 4, magic.length + 4 + len) !== "none";
}

/** Writes the askpass helper (idempotent) into `dir`, mode 0700; returns its path. */
function writeAskpass(dir: string): string {
  const path = join(dir, ASKPASS_NAME);
  const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  if (current !== ASKPASS_SCRIPT) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, ASKPASS_SCRIPT, { mode: 0o700 });
  }
  chmodSync(path, 0o700);
  return path;
}

/** Lines of an ssh failure worth repeating (not the "@@@" banner). */
const KEEP = /^(fatal|error|offending|host key|no \S+ host key is known|permission denied|load key|warning: identity file|.*connection refused|.*could not resolve)/i;

interface SshFacts {
  key: string;
  knownHosts?: string;
  where: string;
  url: string;
  passphrase: boolean;
}

/** A clear sentence for the usual ssh failures, or undefined. */
function explainSsh(detail: string, f: SshFacts): string | undefined {
  const said = detail
    .split("; ")
    .filter((l) => KEEP.test(l))
    .join("; ");
  const { host, port } = sshHostPort(f.url);
  const entry = port ? `'[${host}]:${port}'` : host;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed/i.test(detail)) {
    return `the host key of ${host} does NOT match the one in ${f.knownHosts}: the server was re-keyed or someone is intercepting; verify the new fingerprint, then update ${f.knownHosts} (ssh-keygen -R ${entry} -f ${f.knownHosts}) (ssh: ${said})`;
  }
  if (/host key verification failed|no \S+ host key is known/i.test(detail)) {
    return `the host key of ${host} is not in ${f.knownHosts}; add it with ssh-keyscan (check the fingerprint) or opt out with ${f.where}.sshStrictHostKeyChecking: false (ssh: ${said})`;
  }
  if (/incorrect passphrase|bad passphrase|load key .*(invalid format|error in libcrypto)/i.test(detail)) {
    return `cannot load the SSH key ${f.key}: wrong passphrase (${f.where}.password) or not a private key (ssh: ${said})`;
  }
  if (/permission denied \(/i.test(detail)) {
    const pass = f.passphrase ? `, or ${f.where}.password is not the key's passphrase` : "";
    return `the server refused the SSH key ${f.key} from ${f.where}: add its public key to the server (deploy key) or check the user in the url${pass} (ssh: ${said})`;
  }
  return undefined;
}
