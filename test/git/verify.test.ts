/**
 * Offline commit signature verification (verifyCommitsInfo.gpgKeyring and
 * sshAllowedSigners) through the real CLI and filetransfer: real gpg and
 * ssh-keygen keys, real signed commits, every commit of the new range checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { silentLogger } from "../../src/log.ts";
import { disconnectedConfig, packRepo } from "../support/archives.ts";
import { harness, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";
import { allowedSigners, gpgKey, signedCommit, sshKey, stopAgent } from "../support/signing.ts";

const ft = (dest: string) =>
  `    filetransfer:\n      - name: ft\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n`;
const verified = (url: string, dest: string, keys: string) =>
  `targetConfigs:\n  - name: signed\n    url: ${url}\n    branch: main\n    verifyCommitsInfo:\n${keys}${ft(dest)}`;

async function status(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
}
const read = (dest: string, name: string) => readFileSync(join(dest, name), "utf8");

let alice: Awaited<ReturnType<typeof gpgKey>>;
let mallory: Awaited<ReturnType<typeof gpgKey>>;
const servers: TestHttpServer[] = [];
beforeAll(async () => {
  alice = await gpgKey("Alice", "alice@example.test");
  mallory = await gpgKey("Mallory", "mallory@example.test");
});
afterAll(async () => {
  await stopAgent(alice.home);
  await stopAgent(mallory.home);
  for (const s of servers) await s.close();
});

/** A remote whose initial commit is unsigned (as createRemote makes it) and a signed one on top. */
async function signedRemote(): Promise<TestRemote> {
  const remote = await createRemote({ "files/a.conf": "v1\n" });
  await signedCommit(remote, { "files/a.conf": "v2\n" }, "signed v2", alice);
  return remote;
}

describe("GPG keyring", () => {
  test("a signed head is applied on the first run (only the head is checked then)", async () => {
    const remote = await signedRemote();
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, verified(remote.url, dest, `      gpgKeyring: ${alice.publicFile}\n`));
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("v2\n");
  });

  test("an unsigned commit in the middle of a range is refused: error names it, state and files stay; signed-only range applies", async () => {
    const remote = await signedRemote();
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, verified(remote.url, dest, `      gpgKeyring: ${alice.publicFile}\n`));
    await h.cli("sync");
    const applied = await remote.head();
    const unsigned = await signedCommit(remote, { "files/a.conf": "sneaky\n" }, "sneaky unsigned change", null);
    await signedCommit(remote, { "files/b.conf": "b\n" }, "signed on top", alice);
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    const st = await status(h);
    expect(st.appliedCommit).toBe(applied);
    expect(st.lastError.retryable).toBe(false);
    expect(st.lastError.message).toContain(`commit ${unsigned.slice(0, 12)} "sneaky unsigned change" (author Fetchit Test <test@fetchit.invalid>) is not signed`);
    expect(st.lastError.message).not.toContain("signed on top");
    expect(read(dest, "a.conf")).toBe("v2\n");
    expect(existsSync(join(dest, "b.conf"))).toBe(false);
    // History rewritten without the unsigned commit: applied.
    await remote.resetHard(applied);
    await signedCommit(remote, { "files/b.conf": "b\n" }, "signed again", alice);
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "b.conf")).toBe("b\n");
  });

  test("a commit signed by a key outside the keyring is refused and names the key", async () => {
    const remote = await signedRemote();
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, verified(remote.url, dest, `      gpgKeyring: ${alice.publicFile}\n`));
    await h.cli("sync");
    const evil = await signedCommit(remote, { "files/a.conf": "evil\n" }, "mallory was here", mallory);
    expect((await h.cli("sync")).code).toBe(1);
    const msg = (await status(h)).lastError.message;
    expect(msg).toContain(`commit ${evil.slice(0, 12)} "mallory was here"`);
    expect(msg).toContain("is signed by a key that is not in the trusted keys");
    expect(msg).toContain(mallory.fingerprint.slice(-16));
    expect(read(dest, "a.conf")).toBe("v2\n");
  });

  test("over smart HTTP (shallow fetch deepened): every commit of the range is seen", async () => {
    const remote = await signedRemote();
    const server = await serveHttp(remote.dir);
    servers.push(server);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, verified(server.url, dest, `      gpgKeyring: ${alice.publicFile}\n`));
    expect((await h.cli("sync")).code).toBe(0);
    const unsigned = await signedCommit(remote, { "files/a.conf": "x\n" }, "unsigned over http", null);
    await signedCommit(remote, { "files/a.conf": "y\n" }, "signed over http", alice);
    expect((await h.cli("sync")).code).toBe(1);
    expect((await status(h)).lastError.message).toContain(`commit ${unsigned.slice(0, 12)} "unsigned over http"`);
  });

  test("a missing keyring file: nothing applied, the error names the key and the file", async () => {
    const remote = await signedRemote();
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, verified(remote.url, dest, "      gpgKeyring: /nonexistent/keys.asc\n"));
    expect((await h.cli("sync")).code).toBe(1);
    expect((await status(h)).lastError.message).toContain("verifyCommitsInfo.gpgKeyring: /nonexistent/keys.asc does not exist");
    expect(existsSync(dest)).toBe(false);
  });
});

describe("SSH allowed signers", () => {
  test("signed by an allowed key: applied; by another key: refused with the key's fingerprint", async () => {
    const bob = await sshKey("bob");
    const eve = await sshKey("eve");
    const remote = await createRemote({ "files/a.conf": "v1\n" });
    await signedCommit(remote, { "files/a.conf": "bob\n" }, "bob signs", bob);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, verified(remote.url, dest, `      sshAllowedSigners: ${allowedSigners({ "bob@example.test": bob })}\n`));
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("bob\n");
    const evil = await signedCommit(remote, { "files/a.conf": "eve\n" }, "eve signs", eve);
    expect((await h.cli("sync")).code).toBe(1);
    const msg = (await status(h)).lastError.message;
    expect(msg).toContain(`commit ${evil.slice(0, 12)} "eve signs"`);
    expect(msg).toContain("not trusted");
    expect(msg).toMatch(/key SHA256:[A-Za-z0-9+/]+/);
    expect(read(dest, "a.conf")).toBe("bob\n");
  });

  test("GPG and SSH together: a range mixing both trusted kinds is applied", async () => {
    const bob = await sshKey("bob");
    const remote = await signedRemote();
    const dest = join(tempDir("fetchit-dest-"), "app");
    const keys = `      gpgKeyring: ${alice.publicFile}\n      sshAllowedSigners: ${allowedSigners({ "bob@example.test": bob })}\n`;
    const h = harness(undefined, verified(remote.url, dest, keys));
    await h.cli("sync");
    await signedCommit(remote, { "files/a.conf": "ssh\n" }, "ssh signed", bob);
    await signedCommit(remote, { "files/a.conf": "gpg\n" }, "gpg signed", alice);
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("gpg\n");
  });
});

describe("disconnected and gitsign", () => {
  test("a git bundle is verified like a remote: an unsigned commit inside it is refused", async () => {
    const remote = await signedRemote();
    const file = join(tempDir("fetchit-media-"), "repo.bundle");
    await packRepo(remote.dir, "bundle", file);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest, `    verifyCommitsInfo:\n      gpgKeyring: ${alice.publicFile}\n`));
    expect((await h.cli("sync")).code).toBe(0);
    const unsigned = await signedCommit(remote, { "files/a.conf": "usb-evil\n" }, "unsigned on the stick", null);
    await packRepo(remote.dir, "bundle", file);
    expect((await h.cli("sync")).code).toBe(1);
    expect((await status(h)).lastError.message).toContain(`commit ${unsigned.slice(0, 12)}`);
    expect(read(dest, "a.conf")).toBe("v2\n");
  });

  test("a plain-tree archive cannot be verified, and says why", async () => {
    const remote = await signedRemote();
    const file = join(tempDir("fetchit-media-"), "repo.tar");
    await packRepo(remote.dir, "tar-tree", file);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest, `    verifyCommitsInfo:\n      gpgKeyring: ${alice.publicFile}\n`));
    expect((await h.cli("sync")).code).toBe(1);
    expect((await status(h)).lastError.message).toContain("made by fetchit from a plain file tree");
    expect(existsSync(dest)).toBe(false);
  });

  test("gitsignVerify without keys: the target does not run and the note says to use gpg or ssh keys; with keys it runs", async () => {
    const yaml = (keys: string) => verified("https://example.invalid/r.git", "/tmp/x", `      gitsignVerify: true\n${keys}`);
    const none = buildJobs(parseConfig(yaml(""), "config.yaml").config!, tempDir("fetchit-state-"), silentLogger);
    expect(none.jobs).toEqual([]);
    expect(none.unavailable.join("\n")).toContain("gitsign (Sigstore/Rekor) verification is not supported");
    expect(none.unavailable.join("\n")).toContain("set verifyCommitsInfo.gpgKeyring or sshAllowedSigners instead");
    const withKeys = buildJobs(parseConfig(yaml(`      gpgKeyring: ${alice.publicFile}\n`), "config.yaml").config!, tempDir("fetchit-state-"), silentLogger);
    expect(withKeys.jobs.length).toBe(1);
    expect(withKeys.jobs[0]?.verifier).toBeDefined();
    expect(withKeys.unavailable.join("\n")).toContain("gitsign signatures are not checked");
  });
});
