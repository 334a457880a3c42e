import { afterAll, describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { GitError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { createRemote } from "../support/git.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";
import { tracedSource } from "./source-fixture.ts";

const servers: TestHttpServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(dir: string, auth?: { username: string; password: string }): Promise<TestHttpServer> {
  const server = await serveHttp(dir, { auth });
  servers.push(server);
  return server;
}

/** Every file under `dir`, as text. */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, "latin1")))).join("\n");
}

describe("smart HTTP", () => {
  test("fetches shallow over http, then short-circuits on ls-remote", async () => {
    const remote = await createRemote({ "apps/a.yaml": "a" });
    await remote.commit({ "apps/b.yaml": "b" });
    const server = await serve(remote.dir);
    const t = tracedSource(server.url);
    const head = await t.source.fetch();
    expect(head).toBe(await remote.head());
    expect((await t.source.diff(null, head, { targetPath: "apps" })).map((c) => c.relPath)).toEqual(["a.yaml", "b.yaml"]);
    expect(await Bun.file(join(t.source.dir, "shallow")).exists()).toBe(true);
    const posts = server.requests.filter((r) => r.startsWith("POST")).length;
    expect(await t.source.fetch()).toBe(head);
    expect(t.count("fetch")).toBe(1);
    expect(server.requests.filter((r) => r.startsWith("POST")).length).toBe(posts + 1);
  });

  test("basic auth: credentials in the URL work and are never written to disk or logs", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const server = await serve(remote.dir, { username: "alice", password: "s3cret-pw" });
    const lines: string[] = [];
    const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
    const authed = server.url.replace("http://", "http://alice:s3cret-pw@");
    const t = tracedSource(authed, { log });
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(t.source.url).toBe(server.url);
    expect(await allText(t.source.dir)).not.toContain("s3cret");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain("s3cret");
    expect(t.calls.flat().join(" ")).not.toContain("s3cret");
  });

  test("missing or wrong credentials fail fast and are not retryable", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const server = await serve(remote.dir, { username: "alice", password: "right" });
    for (const url of [server.url, server.url.replace("http://", "http://alice:wrong@")]) {
      const err = await tracedSource(url).source.fetch().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitError);
      expect((err as GitError).retryable).toBe(false);
      expect((err as GitError).message).not.toContain("wrong");
    }
    expect(server.requests.some((r) => r.endsWith(" 401"))).toBe(true);
  });

  test("gzip-encoded request bodies are passed to http-backend", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const server = await serve(remote.dir);
    const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, "0") + s;
    const body = pkt(`want ${await remote.head()} no-progress\n`) + "0000" + pkt("done\n");
    const res = await fetch(`${server.url}/git-upload-pack`, {
      method: "POST",
      headers: { "Content-Type": "application/x-git-upload-pack-request", "Content-Encoding": "gzip" },
      body: gzipSync(Buffer.from(body)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-git-upload-pack-result");
    expect(Buffer.from(await res.arrayBuffer()).includes("PACK")).toBe(true);
  });
});
