/**
 * gitAuth over real smart HTTP (git http-backend behind a basic-auth server):
 * username/password, pat, envSecret, credentials in the url, wrong and
 * missing credentials, and the headers configReload reuses.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GitAuth } from "../../src/config/types.ts";
import { GitError } from "../../src/errors.ts";
import { httpAuthHeaders } from "../../src/git/index.ts";
import { createLogger } from "../../src/log.ts";
import { createRemote } from "../support/git.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";
import { tracedSource } from "./source-fixture.ts";

const servers: TestHttpServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function privateRepo(username: string, password: string) {
  const remote = await createRemote({ "apps/a.yaml": "a: 1\n" });
  const server = await serveHttp(remote.dir, { auth: { username, password } });
  servers.push(server);
  return { remote, server };
}

/** Every file under `dir`, as text. */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, "latin1")))).join("\n");
}

function sourceWith(url: string, auth: GitAuth | undefined, where = "gitAuth") {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
  const t = tracedSource(url, { log, auth: { auth, where } });
  return { ...t, lines };
}

describe("gitAuth over HTTP basic auth", () => {
  test("two sources of one repository with different credentials never share a fetch: the wrong password fails even while the right one fetches", async () => {
    const { remote, server } = await privateRepo("carol", "pw-Carol-5511");
    const good = sourceWith(server.url, { username: "carol", password: "pw-Carol-5511" });
    const bad = tracedSource(server.url, { cacheDir: good.cacheDir, auth: { auth: { username: "carol", password: "wrong" }, where: "targetConfigs[1].gitAuth" } });
    const [ok, refused] = await Promise.allSettled([good.source.fetch(), bad.source.fetch()]);
    expect(ok.status === "fulfilled" && ok.value).toBe(await remote.head());
    expect(refused.status).toBe("rejected");
    expect(String(refused.status === "rejected" && refused.reason)).toContain("the server rejected the credentials");
    // the same credentials do share one fetch
    const again = tracedSource(server.url, { cacheDir: good.cacheDir, auth: { auth: { username: "carol", password: "pw-Carol-5511" }, where: "gitAuth" } });
    await Promise.all([good.source.fetch(), again.source.fetch()]);
    expect(good.count("ls-remote") + again.count("ls-remote")).toBe(2); // 1 from the first round + 1 shared
  });

  test("username/password: fetches; the password is in no argument, file or log line", async () => {
    const { remote, server } = await privateRepo("alice", "pw-Alice-7731");
    const t = sourceWith(server.url, { username: "alice", password: "pw-Alice-7731" });
    const head = await t.source.fetch();
    expect(head).toBe(await remote.head());
    expect((await t.source.diff(null, head, { targetPath: "apps" })).map((c) => c.relPath)).toEqual(["a.yaml"]);
    expect(t.calls.flat().join(" ")).not.toContain("pw-Alice");
    expect(await allText(t.cacheDir)).not.toContain("pw-Alice");
    expect(await allText(t.cacheDir)).not.toContain(Buffer.from("alice:pw-Alice-7731").toString("base64"));
    expect(t.lines.join("\n")).toContain('user \\"alice\\" from gitAuth.username/password');
    expect(t.lines.join("\n")).not.toContain("pw-Alice");
    // the header is sent up front: no request was ever answered 401 (no challenge round trip)
    expect(await t.source.fetch()).toBe(head);
    expect(server.requests.length).toBeGreaterThan(2);
    expect(server.requests.filter((r) => !r.endsWith(" 200"))).toEqual([]);
  });

  test("wrong password: a permanent error naming the URL and the config keys, never the secret; one request, no retry", async () => {
    const { server } = await privateRepo("alice", "right-pw");
    const t = sourceWith(server.url, { username: "alice", password: "wrong-pw-5521" }, "targetConfigs[3].gitAuth");
    const err = (await t.source.fetch().catch((e: unknown) => e)) as GitError;
    expect(err).toBeInstanceOf(GitError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`git ls-remote ${server.url} (branch main) failed: the server rejected the credentials`);
    expect(err.message).toContain("targetConfigs[3].gitAuth.username and targetConfigs[3].gitAuth.password");
    expect(`${err.message} ${String(err.cause)} ${err.stack}`).not.toContain("wrong-pw");
    expect(server.requests).toEqual([expect.stringMatching(/info\/refs\?service=git-upload-pack 401$/)]);
    expect(t.count("fetch")).toBe(0);
  });

  test("no credentials for a private repository: says which key to set", async () => {
    const { server } = await privateRepo("alice", "pw");
    const err = (await sourceWith(server.url, undefined).source.fetch().catch((e: unknown) => e)) as GitError;
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("the server requires credentials and none are configured; set gitAuth or targetConfigs[N].gitAuth");
  });

  test("pat is sent as user fetchit (FetchIt), or as username when one is given", async () => {
    const a = await privateRepo("fetchit", "ghp_patValue0001");
    expect(await sourceWith(a.server.url, { pat: "ghp_patValue0001" }).source.fetch()).toBe(await a.remote.head());
    const b = await privateRepo("bob", "glpat-Value0002");
    expect(await sourceWith(b.server.url, { username: "bob", pat: "glpat-Value0002" }).source.fetch()).toBe(await b.remote.head());
  });

  test("envSecret: the token is read from the named variable and overrides pat; unset is a clear permanent error", async () => {
    const { remote, server } = await privateRepo("fetchit", "tok-from-env-9090");
    process.env.FETCHIT_TEST_GIT_TOKEN = "tok-from-env-9090";
    try {
      const t = sourceWith(server.url, { envSecret: "FETCHIT_TEST_GIT_TOKEN", pat: "stale-pat" });
      expect(await t.source.fetch()).toBe(await remote.head());
      expect(t.lines.join("\n")).not.toContain("tok-from-env");
    } finally {
      delete process.env.FETCHIT_TEST_GIT_TOKEN;
    }
    const before = server.requests.length;
    const err = (await sourceWith(server.url, { envSecret: "FETCHIT_TEST_GIT_TOKEN" }).source.fetch().catch((e: unknown) => e)) as GitError;
    expect(err).toBeInstanceOf(GitError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`git ${server.url} (branch main): gitAuth.envSecret: the environment variable FETCHIT_TEST_GIT_TOKEN is not set`);
    expect(server.requests.length).toBe(before);
  });

  test("credentials in the url go into the header, not git's arguments; gitAuth wins over them", async () => {
    const { remote, server } = await privateRepo("carol", "url-pw:with@chars");
    const withCreds = server.url.replace("http://", `http://carol:${encodeURIComponent("url-pw:with@chars")}@`);
    const t = sourceWith(withCreds, undefined);
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(t.calls.flat().join(" ")).not.toContain("url-pw");
    expect(t.calls.flat().join(" ")).toContain(server.url);
    const wrongInUrl = server.url.replace("http://", "http://carol:nope@");
    const u = sourceWith(wrongInUrl, { username: "carol", password: "url-pw:with@chars" });
    expect(await u.source.fetch()).toBe(await remote.head());
  });

  test("httpAuthHeaders gives other HTTP clients (configReload) exactly git's credentials", async () => {
    const { server } = await privateRepo("fetchit", "hdr-token-1");
    const refs = `${server.url}/info/refs?service=git-upload-pack`;
    expect((await fetch(refs)).status).toBe(401);
    const headers = httpAuthHeaders(refs, { pat: "hdr-token-1" });
    expect((await fetch(refs, { headers })).status).toBe(200);
    expect(httpAuthHeaders(refs, undefined)).toEqual({});
    expect(httpAuthHeaders("git@host:o/r.git", { pat: "x" })).toEqual({});
    const fromUrl = httpAuthHeaders(refs.replace("http://", "http://fetchit:hdr-token-1@"), undefined);
    expect((await fetch(refs, { headers: fromUrl })).status).toBe(200);
    expect(() => httpAuthHeaders(refs, { envSecret: "FETCHIT_TEST_UNSET_VAR_1" })).toThrow("FETCHIT_TEST_UNSET_VAR_1 is not set");
    expect(() => httpAuthHeaders(refs, { envSecret: "ghp_tok.en-val" })).toThrow(/^gitAuth\.envSecret: must be the NAME of an environment variable, not the token itself$/);
    expect(httpAuthHeaders(refs, { pat: "t1" }, {}, "gitAuth", "bearer")).toEqual({ Authorization: "Bearer t1" });
    expect(httpAuthHeaders(refs, { pat: "t1" }, {}, "gitAuth", "token")).toEqual({ Authorization: "token t1" });
    expect(httpAuthHeaders(refs, { username: "u", password: "p" }, {}, "gitAuth", "bearer")).toEqual({ Authorization: `Basic ${btoa("u:p")}` });
  });
});
