/**
 * Quarantine refs (fleet): pushed by the host that rolled a commit back, seen
 * by every host in the ls-remote it makes anyway; real git over file:// and
 * smart HTTP with push (basic auth) and without (read-only).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { GitError } from "../../src/errors.ts";
import { parseQuarantineRefs, pushQuarantineRef, QUARANTINE_PATTERN, quarantineMessage, readQuarantineNote } from "../../src/git/quarantine-refs.ts";
import { createGitRunner } from "../../src/git/runner.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";

let remote: TestRemote;
let bad: string;
let http: TestHttpServer;
let readonly: TestHttpServer;

/** A host's bare clone holding `commit`, as fetchit keeps one. */
async function hostClone(url: string, commit: string) {
  const dir = join(tempDir("fetchit-qr-"), "clone.git");
  Bun.spawnSync(["git", "init", "-q", "--bare", dir]);
  const git = createGitRunner({ dir });
  await git.run(["fetch", "--no-tags", "--", url, `+refs/heads/main:refs/fetchit/head`]);
  expect((await git.run(["rev-parse", "refs/fetchit/head"])).trim()).toBe(commit);
  return Object.assign(git, { dir });
}
const remoteRef = (fetchUrl: string) => ({ fetchUrl, displayUrl: fetchUrl.replace(/\/\/[^@/]*@/, "//"), branch: "main" });

beforeAll(async () => {
  remote = await createRemote({ "a.txt": "good\n" });
  await remote.branch("main");
  bad = await remote.commit({ "a.txt": "bad\n" }, "a bad commit");
  http = await serveHttp(remote.dir, { auth: { username: "canary", password: "s3cret-push" } });
  readonly = await serveHttp(remote.dir);
});
afterAll(async () => {
  await http.close();
  await readonly.close();
});

test("a host pushes refs/fetchit/quarantine/<sha> over file://; every host sees it in ls-remote and reads who and why", async () => {
  const a = await hostClone(remote.url, bad);
  await pushQuarantineRef(a, remoteRef(remote.url), bad, quarantineMessage(bad, "raw/web.json: container web exited with code 1", new Date("2026-12-03T10:00:00Z"), "canary-1"));
  const b = await hostClone(remote.url, bad);
  const listed = await b.run(["ls-remote", "--", remote.url, "refs/heads/main", QUARANTINE_PATTERN]);
  expect(parseQuarantineRefs(listed)).toEqual([bad]);
  expect(listed).toContain(`${bad}\trefs/heads/main`); // one request gives the head and the quarantine refs
  const note = await readQuarantineNote(b, remoteRef(remote.url), bad);
  expect(note).toContain("host: canary-1");
  expect(note).toContain("reason: raw/web.json: container web exited with code 1");
  expect(note).toContain("at: 2026-12-03T10:00:00.000Z");
  // the tag object is a real annotated tag of the bad commit
  const tag = Bun.spawnSync(["git", "-C", remote.dir, "cat-file", "-p", `refs/fetchit/quarantine/${bad}`]).stdout.toString();
  expect(tag).toContain(`object ${bad}\ntype commit\n`);
  // deleting the ref on the server releases the commit
  Bun.spawnSync(["git", "-C", remote.dir, "update-ref", "-d", `refs/fetchit/quarantine/${bad}`]);
  expect(parseQuarantineRefs(await b.run(["ls-remote", "--", remote.url, "refs/heads/main", QUARANTINE_PATTERN]))).toEqual([]);
  expect(await readQuarantineNote(b, remoteRef(remote.url), bad)).toBe("");
});

test("over smart HTTP: pushed with credentials that may push; a read-only host is refused but still sees the ref", async () => {
  const withCreds = http.url.replace("http://", "http://canary:s3cret-push@");
  const a = await hostClone(withCreds, bad);
  await pushQuarantineRef(a, remoteRef(withCreds), bad, quarantineMessage(bad, "unit app.service failed", new Date(), "canary-2"));
  expect(http.requests.some((r) => r.startsWith("POST /") && r.includes("git-receive-pack 200"))).toBe(true);
  const ro = await hostClone(readonly.url, bad);
  expect(parseQuarantineRefs(await ro.run(["ls-remote", "--", readonly.url, "refs/heads/main", QUARANTINE_PATTERN]))).toEqual([bad]);
  const err = await pushQuarantineRef(ro, remoteRef(readonly.url), bad, "x").catch((e) => e);
  expect(err).toBeInstanceOf(GitError);
  expect(err.message).toContain(`push (quarantine report) ${readonly.url}`);
  expect(String(err.message)).not.toContain("s3cret");
  // nothing left behind in the refused host's clone
  expect(Bun.spawnSync(["git", "-C", ro.dir, "for-each-ref"]).stdout.toString()).not.toContain("quarantine");
  Bun.spawnSync(["git", "-C", remote.dir, "update-ref", "-d", `refs/fetchit/quarantine/${bad}`]);
});

test("only full commit names count; peeled entries and other refs are ignored", () => {
  const sha = "a".repeat(40);
  const out = [`${"1".repeat(40)}\trefs/heads/main`, `${"2".repeat(40)}\trefs/fetchit/quarantine/${sha}`, `${"3".repeat(40)}\trefs/fetchit/quarantine/${sha}^{}`, `${"4".repeat(40)}\trefs/fetchit/quarantine/abc`, ""].join("\n");
  expect(parseQuarantineRefs(out)).toEqual([sha]);
});
