/** The config download against a real local HTTP server: limits, credentials, and no secret in any error. */
import { afterAll, expect, test } from "bun:test";
import { downloadConfig, MAX_CONFIG_BYTES } from "../../src/reload/http.ts";

const seen: (string | null)[] = [];
let port = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req): Response | Promise<Response> {
    seen.push(req.headers.get("authorization"));
    const path = new URL(req.url).pathname;
    if (path === "/hang") return new Promise<Response>(() => {});
    if (path === "/huge") return new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(64 * 1024)) }));
    if (path === "/declared") return new Response("x".repeat(MAX_CONFIG_BYTES + 1));
    if (path === "/denied") return new Response("no", { status: 401, statusText: "Unauthorized" });
    if (path === "/moved") return Response.redirect(`http://127.0.0.1:${port}/ok`, 302);
    return new Response("targetConfigs: []\n");
  },
});
port = server.port ?? 0;
afterAll(() => void server.stop(true));
const url = (path: string, userinfo = "") => `http://${userinfo}127.0.0.1:${port}${path}`;
const failure = (p: Promise<unknown>) => p.then(() => "no error", (e: Error) => e.message);

test("a 200 answer is the config, redirects followed; a silent server times out", async () => {
  expect(await downloadConfig(url("/moved"))).toBe("targetConfigs: []\n");
  expect(await failure(downloadConfig(url("/hang", "u:pw-HANG@"), { timeoutMs: 300 }))).toBe(`cannot download the config from ${url("/hang")}: no answer within 0.3 s`);
});

test("a config over 1 MiB is refused, declared or streamed", async () => {
  expect(await failure(downloadConfig(url("/declared")))).toContain("more than the 1048576 accepted");
  expect(await failure(downloadConfig(url("/huge")))).toContain("is more than 1048576 bytes");
});

test("credentials: envSecret or pat as a token, else username/password or URL userinfo as basic; 401 hints at gitAuth", async () => {
  seen.length = 0;
  await downloadConfig(url("/ok"), { auth: { envSecret: "CFG_TOKEN", pat: "ignored" }, env: { CFG_TOKEN: "t-ENV" } });
  await downloadConfig(url("/ok"), { auth: { pat: "t-PAT" } });
  await downloadConfig(url("/ok"), { auth: { username: "u", password: "p" } });
  await downloadConfig(url("/ok", "x:y@"));
  expect(seen).toEqual(["token t-ENV", "token t-PAT", `Basic ${btoa("u:p")}`, `Basic ${btoa("x:y")}`]);
  const denied = await failure(downloadConfig(url("/denied", "x:pw-DENIED@")));
  expect(denied).toBe(`config URL ${url("/denied")} answered HTTP 401 Unauthorized, not 200; check gitAuth (pat, envSecret or username/password)`);
  expect(await failure(downloadConfig(url("/ok"), { auth: { envSecret: "UNSET_VAR" }, env: {} }))).toContain("gitAuth.envSecret: the environment variable UNSET_VAR is not set");
});
