/**
 * Real signing keys for the commit verification tests: an OpenPGP key made
 * by gpg in a temporary GNUPGHOME (no passphrase) and SSH keys made by
 * ssh-keygen, and commits signed with them in a test remote.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { run } from "./archives.ts";
import { tempDir, type TestRemote } from "./git.ts";

/** Who signs a commit; null = unsigned. */
export type Signer = { kind: "gpg"; home: string; fingerprint: string; email: string } | { kind: "ssh"; keyFile: string; publicKey: string } | null;

const need = (tool: string, pkg: string) => async () => {
  await run(["sh", "-c", `command -v ${tool}`], "/").catch(() => {
    throw new Error(`${tool} is missing: apt-get install ${pkg} (test/support/prepare.sh installs it)`);
  });
};

/** A new ed25519 OpenPGP signing key for `email`; its public key exported (armored) to `<home>/public.asc`. */
export async function gpgKey(name: string, email: string): Promise<Extract<Signer, { kind: "gpg" }> & { publicFile: string }> {
  await need("gpg", "gnupg")();
  const home = tempDir("fetchit-gnupg-");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: home };
  // Key generation and signing start a gpg-agent for this home: stop it with stopAgent.
  await run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", `${name} <${email}>`, "ed25519", "sign", "never"], "/", env);
  const listing = await run(["gpg", "--batch", "--with-colons", "--list-keys", email], "/", env);
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(listing)?.[1] ?? "";
  const publicFile = join(home, "public.asc");
  writeFileSync(publicFile, await run(["gpg", "--batch", "--armor", "--export", email], "/", env));
  return { kind: "gpg", home, fingerprint, email, publicFile };
}

/** Stops the gpg-agent a key generation started (one per GNUPGHOME). */
export async function stopAgent(home: string): Promise<void> {
  await run(["gpgconf", "--kill", "all"], "/", { GNUPGHOME: home }).catch(() => undefined);
}

/** A new ed25519 SSH key pair without passphrase. */
export async function sshKey(comment: string): Promise<Extract<Signer, { kind: "ssh" }>> {
  await need("ssh-keygen", "openssh-client")();
  const keyFile = join(tempDir("fetchit-sshkey-"), "id_ed25519");
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyFile], "/");
  return { kind: "ssh", keyFile, publicKey: (await Bun.file(`${keyFile}.pub`).text()).trim() };
}

/** An allowed signers file trusting `keys` (principal → SSH signer). */
export function allowedSigners(keys: Record<string, Extract<Signer, { kind: "ssh" }>>): string {
  const file = join(tempDir("fetchit-allowed-"), "allowed_signers");
  writeFileSync(file, Object.entries(keys).map(([who, k]) => `${who} ${k.publicKey}\n`).join(""));
  return file;
}

/** Writes (null: deletes) files in the remote and commits them, signed by `signer`; returns the sha. */
export async function signedCommit(remote: TestRemote, files: Record<string, string | null>, message: string, signer: Signer): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(remote.dir, name);
    if (content === null) await rm(path, { force: true });
    else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
  await run(["git", "add", "--all"], remote.dir);
  const sign =
    signer === null
      ? ["-c", "commit.gpgsign=false"]
      : signer.kind === "gpg"
        ? ["-c", `user.signingkey=${signer.fingerprint}`, "-c", "gpg.format=openpgp"]
        : ["-c", `user.signingkey=${signer.keyFile}`, "-c", "gpg.format=ssh"];
  const env: Record<string, string> = signer?.kind === "gpg" ? { GNUPGHOME: signer.home } : {};
  await run(["git", ...sign, "commit", "--allow-empty", ...(signer ? ["-S"] : []), "-q", "-m", message], remote.dir, env);
  return (await run(["git", "rev-parse", "HEAD"], remote.dir)).trim();
}
