/**
 * gitAuth over SSH against a real sshd on a loopback port: key + known_hosts,
 * unknown and changed host keys, the explicit opt-out, passphrase-protected
 * keys (through SSH_ASKPASS, never argv) and unusable key files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GitAuth } from "../../src/config/types.ts";
import { GitError } from "../../src/errors.ts";
import { keyIsEncrypted, resolveSshPath } from "../../src/git/auth-ssh.ts";
import { createLogger } from "../../src/log.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { startSshd, type TestSshd } from "../support/sshd.ts";
import { tracedSource } from "./source-fixture.ts";

const PASSPHRASE = "key-pass-Phrase-4471";
let sshd: TestSshd;
let locked: TestSshd;
let remote: TestRemote;
beforeAll(async () => {
  [sshd, locked, remote] = await Promise.all([startSshd(), startSshd({ passphrase: PASSPHRASE }), createRemote({ "apps/a.yaml": "a: 1\n" })]);
});
afterAll(async () => {
  await Promise.all([sshd?.close(), locked?.close()]);
});

function sourceWith(server: TestSshd, auth: GitAuth, where = "gitAuth") {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
  return { ...tracedSource(server.url(remote.dir), { log, auth: { auth, where } }), lines };
}

const fail = async (p: Promise<unknown>) => (await p.catch((e: unknown) => e)) as GitError;

describe("gitAuth over SSH", () => {
  test("key + known_hosts: fetches; the log names the key file in use", async () => {
    const t = sourceWith(sshd, { ssh: true, sshKeyFile: sshd.clientKey, sshKnownHosts: sshd.knownHosts });
    const head = await t.source.fetch();
    expect(head).toBe(await remote.head());
    expect((await t.source.diff(null, head, { targetPath: "apps" })).map((c) => c.relPath)).toEqual(["a.yaml"]);
    expect(t.lines.join("\n")).toContain(`key ${sshd.clientKey} from gitAuth`);
  });

  test("known_hosts defaults to the file next to the key", async () => {
    const dir = tempDir("fetchit-sshkeys-");
    copyFileSync(sshd.clientKey, join(dir, "deploy_key"));
    chmodSync(join(dir, "deploy_key"), 0o600);
    const auth = { ssh: true, sshKeyFile: join(dir, "deploy_key") };
    const missing = await fail(sourceWith(sshd, auth).source.fetch());
    expect(missing.retryable).toBe(false);
    expect(missing.message).toContain(`gitAuth.sshKnownHosts: no known_hosts file at ${join(dir, "known_hosts")}`);
    expect(missing.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${join(dir, "known_hosts")}`);
    copyFileSync(sshd.knownHosts, join(dir, "known_hosts"));
    expect(await sourceWith(sshd, auth).source.fetch()).toBe(await remote.head());
  });

  test("a changed host key is refused with a clear, permanent error", async () => {
    const err = await fail(sourceWith(sshd, { ssh: true, sshKeyFile: sshd.clientKey, sshKnownHosts: sshd.wrongKnownHosts }).source.fetch());
    expect(err).toBeInstanceOf(GitError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`the host key of 127.0.0.1 does NOT match the one in ${sshd.wrongKnownHosts}`);
    expect(err.message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
    expect(err.message).not.toContain("@@@");
  });

  test("an unknown host key is refused; the explicit opt-out accepts it and warns", async () => {
    const empty = join(tempDir("fetchit-kh-"), "known_hosts");
    writeFileSync(empty, "");
    const err = await fail(sourceWith(sshd, { ssh: true, sshKeyFile: sshd.clientKey, sshKnownHosts: empty }, "targetConfigs[1].gitAuth").source.fetch());
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`the host key of 127.0.0.1 is not in ${empty}`);
    expect(err.message).toContain("targetConfigs[1].gitAuth.sshStrictHostKeyChecking: false");
    const t = sourceWith(sshd, { ssh: true, sshKeyFile: sshd.clientKey, sshKnownHosts: sshd.wrongKnownHosts, sshStrictHostKeyChecking: false });
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(t.lines.join("\n")).toContain("gitAuth.sshStrictHostKeyChecking is false: the server's host key is NOT verified");
  });

  test("a key the server does not accept: permanent error naming the key", async () => {
    const err = await fail(sourceWith(sshd, { ssh: true, sshKeyFile: locked.clientKey, sshKnownHosts: sshd.knownHosts, password: PASSPHRASE }).source.fetch());
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`the server refused the SSH key ${locked.clientKey} from gitAuth`);
  });

  test("passphrase-protected key: the passphrase (password) reaches ssh through askpass, never argv; wrong one is a clear error", async () => {
    const t = sourceWith(locked, { ssh: true, sshKeyFile: locked.clientKey, sshKnownHosts: locked.knownHosts, password: PASSPHRASE });
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(t.calls.flat().join(" ")).not.toContain(PASSPHRASE);
    expect(t.lines.join("\n")).not.toContain(PASSPHRASE);
    const wrong = await fail(sourceWith(locked, { ssh: true, sshKeyFile: locked.clientKey, sshKnownHosts: locked.knownHosts, password: "not-it" }).source.fetch());
    expect(wrong.retryable).toBe(false);
    expect(wrong.retryable).toBe(false);
    expect(wrong.message).toContain("or gitAuth.password is not the key's passphrase");
    expect(wrong.message).not.toContain("not-it");
    const none = await fail(sourceWith(locked, { ssh: true, sshKeyFile: locked.clientKey, sshKnownHosts: locked.knownHosts }).source.fetch());
    expect(none.retryable).toBe(false);
    expect(none.message).toContain(`gitAuth.sshKeyFile: the SSH key ${locked.clientKey} is protected by a passphrase; set gitAuth.password`);
  });

  test("unusable key files: missing, or readable by others", async () => {
    const missing = await fail(sourceWith(sshd, { ssh: true, sshKeyFile: "/nonexistent/id_ed25519", sshKnownHosts: sshd.knownHosts }).source.fetch());
    expect(missing.message).toContain("gitAuth.sshKeyFile: the SSH key /nonexistent/id_ed25519 does not exist");
    const open = join(tempDir("fetchit-sshkeys-"), "key");
    copyFileSync(sshd.clientKey, open);
    chmodSync(open, 0o644);
    const err = await fail(sourceWith(sshd, { ssh: true, sshKeyFile: open, sshKnownHosts: sshd.knownHosts }).source.fetch());
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`run: chmod 600 ${open}`);
  });

  test("an ssh url without ssh: true says how to configure a key", async () => {
    const err = await fail(tracedSource(sshd.url(remote.dir), { auth: { auth: undefined, where: "gitAuth" } }).source.fetch());
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("set gitAuth.ssh: true and gitAuth.sshKeyFile");
  });

  test("passphrase detection covers OpenSSH and PEM keys", async () => {
    const dir = tempDir("fetchit-sshkeys-");
    const gen = async (name: string, pass: string, format: string[]) => {
      const p = Bun.spawn(["ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", pass, ...format, "-f", join(dir, name)], { stdout: "ignore", stderr: "pipe" });
      if ((await p.exited) !== 0) throw new Error(await new Response(p.stderr).text());
      return join(dir, name);
    };
    expect(keyIsEncrypted(locked.clientKey)).toBe(true);
    expect(keyIsEncrypted(sshd.clientKey)).toBe(false);
    expect(keyIsEncrypted(await gen("pem-locked", "pw-long-1", ["-m", "PEM"]))).toBe(true);
    expect(keyIsEncrypted(await gen("pem-open", "", ["-m", "PEM"]))).toBe(false);
    expect(keyIsEncrypted(await gen("pkcs8-locked", "pw-long-2", ["-m", "PKCS8"]))).toBe(true);
  });

  test("relative key names are looked up in ~/.ssh/", () => {
    expect(resolveSshPath("id_ed25519", "/home/op")).toBe("/home/op/.ssh/id_ed25519");
    expect(resolveSshPath("~/keys/k", "/home/op")).toBe("/home/op/keys/k");
    expect(resolveSshPath("/etc/fetchit/k", "/home/op")).toBe("/etc/fetchit/k");
  });
});
