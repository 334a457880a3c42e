/**
 * A bad commit stopped fleet-wide through git: three hosts (state dirs) on one
 * smart-HTTP repository with staged waves. The wave-0 canary applies the bad
 * commit, its health gate fails, it rolls back and pushes
 * refs/fetchit/quarantine/<sha>; the later wave and a read-only host never
 * apply it; `fetchit retry` releases it; a fix reaches everyone. Real git,
 * real http-backend, `fetchit sync` through the CLI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, type Harness } from "../support/fetchit.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";

let remote: TestRemote;
let pushable: TestHttpServer;
let anonymous: TestHttpServer;
const INTERVAL_S = 3;

interface Host { h: Harness; dest: string }
function host(wave: number, url: string, auth = ""): Host {
  const dest = join(tempDir("fetchit-fleet-"), "app");
  const h = harness(
    undefined,
    `host:\n  labels:\n    wave: ${wave}\nrollout:\n  waves: 2\n  interval: ${INTERVAL_S}s\n  report: true\ntargetConfigs:\n  - name: fleet\n    url: ${url}\n    branch: main\n${auth}` +
      `    filetransfer:\n      - name: app\n        targetPath: conf\n        destinationDirectory: ${dest}\n        schedule: "*/1 * * * *"\n        health:\n          window: 0\n          command: "grep -q good ${dest}/app.conf"\n`,
  );
  return { h, dest };
}
const content = (x: Host) => (existsSync(join(x.dest, "app.conf")) ? readFileSync(join(x.dest, "app.conf"), "utf8") : "(none)");
const serverRefs = () => Bun.spawnSync(["git", "-C", remote.dir, "for-each-ref", "--format=%(refname)", "refs/fetchit/quarantine/"]).stdout.toString().trim();

beforeAll(async () => {
  remote = await createRemote({ "conf/app.conf": "good v1\n" });
  pushable = await serveHttp(remote.dir, { auth: { username: "canary", password: "push-secret" } });
  anonymous = await serveHttp(remote.dir);
});
afterAll(async () => {
  await pushable.close();
  await anonymous.close();
});

test("the canary quarantines a bad commit and tells the fleet; later waves and read-only hosts never apply it; retry and a fix", async () => {
  const canary = host(0, pushable.url, "    gitAuth:\n      username: canary\n      password: push-secret\n");
  const later = host(1, anonymous.url);
  const readOnly = host(0, anonymous.url);
  for (const x of [canary, later, readOnly]) expect((await x.h.cli("sync", "--now")).code).toBe(0);
  for (const x of [canary, later, readOnly]) expect(content(x)).toBe("good v1\n");

  const bad = await remote.commit({ "conf/app.conf": "broken v2\n" }, "bad config");
  // wave 1 waits: nothing applied, sync says until when
  const waiting = await later.h.cli("sync");
  expect(waiting.code).toBe(0);
  expect(waiting.out.join("\n")).toContain(`skipped   fleet filetransfer/app @ ${bad.slice(0, 9)} (waiting for wave 1 of 2, due at `);
  expect(content(later)).toBe("good v1\n");
  expect((await later.h.cli("plan")).out.join("\n")).toContain(`head ${bad.slice(0, 9)} waits for wave 1 of 2, due at `);

  // the canary applies it, the gate fails, it rolls back and pushes the quarantine ref
  const c = await canary.h.cli("sync");
  expect(c.code).toBe(1);
  expect(c.out.join("\n")).toContain(`rolled back ${bad.slice(0, 9)}`);
  expect(content(canary)).toBe("good v1\n");
  expect(serverRefs()).toBe(`refs/fetchit/quarantine/${bad}`);
  const tag = Bun.spawnSync(["git", "-C", remote.dir, "cat-file", "-p", `refs/fetchit/quarantine/${bad}`]).stdout.toString();
  expect(tag).toContain(`object ${bad}`);
  expect(tag).toMatch(/reason: .*grep -q good/);
  expect(tag).not.toContain("push-secret");

  // a read-only wave-0 host never applies it, nor does wave 1 once due
  expect((await readOnly.h.cli("plan")).out.join("\n")).toContain(`head ${bad.slice(0, 9)} was quarantined by another host`);
  const ro = await readOnly.h.cli("sync");
  expect(ro.code).toBe(1);
  expect(ro.out.join("\n")).toContain("quarantined by another host");
  expect(content(readOnly)).toBe("good v1\n");
  await Bun.sleep(INTERVAL_S * 1000 + 500);
  const due = await later.h.cli("sync");
  expect(due.out.join("\n")).toContain("quarantined by another host");
  expect(content(later)).toBe("good v1\n");
  const status = JSON.parse((await later.h.cli("status", "--json")).out.join("\n"));
  expect(status.methods[0].appliedCommit).not.toBe(bad);

  // retry releases it on that host only: applied, gate fails, rolled back there too
  expect((await readOnly.h.cli("retry")).code).toBe(0);
  const retried = await readOnly.h.cli("sync");
  expect(retried.out.join("\n")).toContain(`rolled back ${bad.slice(0, 9)}`);
  expect(content(readOnly)).toBe("good v1\n");

  // a fix reaches every host (wave 1 once due), and clears their quarantines
  const fix = await remote.commit({ "conf/app.conf": "good v3\n" }, "fix");
  for (const x of [canary, readOnly]) expect((await x.h.cli("sync")).code).toBe(0);
  expect((await later.h.cli("sync", "--now")).code).toBe(0);
  for (const x of [canary, later, readOnly]) expect(content(x)).toBe("good v3\n");
  const after = JSON.parse((await canary.h.cli("status", "--json")).out.join("\n"));
  expect(after.methods[0]).toMatchObject({ appliedCommit: fix, quarantined: null });
  // one request per tick at the server: ls-remote lists the head and the quarantine refs together
  expect(pushable.requests.filter((r) => r.includes("git-upload-pack")).length).toBeGreaterThan(0);
}, 120_000);
