/**
 * Offline commit signature verification (`verifyCommitsInfo.gpgKeyring` /
 * `sshAllowedSigners`): every commit between the last applied one and the
 * new head (the head alone on a first apply) must carry a good signature by
 * a key from those files, checked by git itself (`%G?` of `git log`, the
 * same check as `git verify-commit`). GPG runs in a private, throw-away
 * GNUPGHOME holding only the keyring's keys (trusted as given); the host's
 * keyrings and git configs are never consulted. Works without a network.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GitError } from "../errors.ts";
import { gitAt, isImportedTree } from "./disconnected-import.ts";
import { gitEnv } from "./runner.ts";

export interface VerifyKeys {
  /** OpenPGP public keys (armored or binary) whose signatures are accepted. */
  gpgKeyring?: string;
  /** SSH allowed signers file (git's gpg.ssh.allowedSignersFile format). */
  sshAllowedSigners?: string;
}

export interface CommitVerifier {
  /**
   * Throws a GitError (not retryable) naming each commit of `from..head`
   * (`head` alone when `from` is null or equal to it) that is unsigned or not
   * signed by a trusted key.
   */
  verify(from: string | null, head: string): Promise<void>;
}

interface Checked {
  sha: string;
  status: string;
  key: string;
  signer: string;
  author: string;
  subject: string;
}

const WHY: Record<string, string> = {
  N: "is not signed",
  B: "has a bad signature (the content does not match it)",
  E: "is signed by a key that is not in the trusted keys",
  U: "is signed by a key that is not trusted (not in sshAllowedSigners, or not for this signer)",
  X: "has an expired signature",
  Y: "is signed by an expired key",
  R: "is signed by a revoked key",
};

/** A verifier for the bare repository `repoDir`; temporary GNUPGHOMEs go under `tmpDir`. */
export function createCommitVerifier(repoDir: string, keys: VerifyKeys, tmpDir: string): CommitVerifier {
  return {
    async verify(from, head) {
      const checked = await checkRange(repoDir, keys, tmpDir, from, head);
      const bad = checked.filter((c) => c.status !== "G");
      if (bad.length === 0) return;
      const lines = await Promise.all(bad.slice(0, 5).map((c) => describe(repoDir, c)));
      const more = bad.length > 5 ? `; and ${bad.length - 5} more` : "";
      const range = from && from !== head ? `${from.slice(0, 9)}..${head.slice(0, 9)}` : head.slice(0, 9);
      throw new GitError(
        `commit signature verification failed for ${range} (verifyCommitsInfo): ${lines.join("; ")}${more}. ` +
          "Nothing of it is applied and the state stays at the last applied commit; push commits signed by a key in gpgKeyring or sshAllowedSigners, or add the signer's key there and run fetchit sync to check this commit again.",
        { retryable: false },
      );
    },
  };
}

async function describe(repoDir: string, c: Checked): Promise<string> {
  const who = c.signer ? `${c.signer}, key ${c.key}` : c.key ? `key ${c.key}` : "";
  let line = `commit ${c.sha.slice(0, 12)} "${c.subject}" (author ${c.author}) ${WHY[c.status] ?? `failed verification (${c.status})`}${who ? ` [signer: ${who}]` : ""}`;
  if (c.status === "N" && (await isImportedTree(repoDir, c.sha))) {
    line += " — it was made by fetchit from a plain file tree; verification needs a git bundle or an archive holding .git with signed commits";
  }
  return line;
}

/** `%G?` and signer of every commit in the range, through git with only the given keys. */
async function checkRange(repoDir: string, keys: VerifyKeys, tmpDir: string, from: string | null, head: string): Promise<Checked[]> {
  for (const [name, path] of Object.entries(keys)) {
    if (path && !existsSync(path)) throw new GitError(`verifyCommitsInfo.${name}: ${path} does not exist; nothing is applied until it does`, { local: true });
  }
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const home = await mkdtemp(join(tmpDir, "gnupg-"));
  try {
    await writeFile(join(home, "gpg.conf"), "no-autostart\ntrust-model always\n");
    if (keys.gpgKeyring) await importKeyring(home, keys.gpgKeyring);
    const env: Record<string, string> = {
      GNUPGHOME: home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "gpg.ssh.allowedSignersFile",
      GIT_CONFIG_VALUE_0: keys.sshAllowedSigners ?? "/dev/null",
    };
    const range = from && from !== head ? [head, `^${from}`] : ["-1", head];
    const out = await gitAt(repoDir, ["log", "--format=%H%x1f%G?%x1f%GK%x1f%GS%x1f%an <%ae>%x1f%s%x1e", ...range, "--"], env);
    return out
      .split("\x1e")
      .map((r) => r.trim())
      .filter(Boolean)
      .map((r) => {
        const [sha = "", status = "N", key = "", signer = "", author = "", subject = ""] = r.split("\x1f");
        return { sha, status, key, signer, author, subject };
      });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Imports the public keys of `file` into `home`; an unreadable keyring is a config problem. */
async function importKeyring(home: string, file: string): Promise<void> {
  let proc;
  try {
    proc = Bun.spawn(["gpg", "--batch", "--no-autostart", "--homedir", home, "--import", file], {
      env: { ...gitEnv(""), GNUPGHOME: home },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (err) {
    throw new GitError(`verifyCommitsInfo.gpgKeyring: cannot run gpg (${(err as Error).message}); install GnuPG (dnf install gnupg2 / apt-get install gnupg)`, { local: true });
  }
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0 || !/imported|unchanged/.test(err)) {
    const detail = err.trim().split("\n").slice(-2).join("; ");
    throw new GitError(`verifyCommitsInfo.gpgKeyring: ${file}: gpg could not import keys from it: ${detail || `exit ${code}`}; export them with gpg --export --armor KEYID > FILE`, { local: true });
  }
}
