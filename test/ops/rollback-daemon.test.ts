/**
 * A rollback as operators see it from `fetchit run` (a real process): the `rolled_back` webhook on
 * a local receiver, GET /status with the quarantine, GET /metrics with fetchit_rollbacks_total and
 * fetchit_quarantined (checked by the strict exposition parser). (STATUS= wording: test/unit/rollout-surfaces.test.ts.)
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { freePort } from "../support/podman.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { parseExposition } from "./exposition.ts";

let running: FetchitProcess | undefined;
afterEach(async () => {
  await running?.stop("SIGKILL");
  running = undefined;
});

test("fetchit run: rolled_back webhook, /status quarantined, /metrics counters, and no second event on later runs", async () => {
  const events: Record<string, unknown>[] = [];
  const rx = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (req) => (events.push((await req.json()) as Record<string, unknown>), new Response(null, { status: 204 })) });
  try {
    const remote = await createRemote({ "files/app.conf": "v1\n" });
    const dest = join(tempDir("fetchit-rbd-"), "out");
    const flag = join(tempDir("fetchit-rbd-flag-"), "fail-once");
    // The gate fails once (the bad commit's), then passes (the rollback's own gate).
    const methods =
      `    filetransfer:\n      - name: conf\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "0 0 1 1 *"\n` +
      `        health:\n          window: 0\n          command: "if [ -e ${flag} ]; then rm -f ${flag}; echo app.conf rejected >&2; exit 1; fi"\n`;
    const port = await freePort();
    const h = harness(undefined, `${targetConfig(remote.url, methods)}notify:\n  - url: http://127.0.0.1:${rx.port}/hook\nlisten:\n  address: 127.0.0.1:${port}\n`);
    running = spawnFetchit(["run", ...h.flags()]);
    const base = `http://127.0.0.1:${port}`;
    const status = async () => ((await (await fetch(`${base}/status`)).json()) as { methods: Record<string, unknown>[] }).methods[0]!;
    const good = await remote.head();
    await waitFor("the first commit applied", async () => (await status().catch(() => undefined))?.appliedCommit === good, 60_000);

    await Bun.write(flag, "");
    const bad = await remote.commit({ "files/app.conf": "v2\n", "files/new.conf": "new\n" }, "tune app");
    expect((await fetch(`${base}/sync?wait=true`, { method: "POST" })).status).toBe(200);
    const rolled = await waitFor("the rolled_back webhook", () => events.find((e) => e.event === "rolled_back"), 30_000);
    expect(rolled).toMatchObject({ target: "t1", method: "filetransfer/conf", commit: bad });
    expect(String(rolled!.summary)).toContain("app.conf rejected");
    expect(readFileSync(join(dest, "app.conf"), "utf8")).toBe("v1\n");
    expect(existsSync(join(dest, "new.conf"))).toBe(false);

    const s = await status();
    expect(s).toMatchObject({ appliedCommit: good, quarantined: { commit: bad, subject: "tune app" }, rollbacks: 1, unhealthy: null, rollingBack: null });
    const samples = parseExposition(await (await fetch(`${base}/metrics`)).text());
    expect(samples.find((x) => x.name === "fetchit_rollbacks_total")?.value).toBe(1);
    expect(samples.find((x) => x.name === "fetchit_quarantined")).toMatchObject({ labels: { commit: bad }, value: 1 });

    // Later runs on the quarantined head: no new event, nothing rewritten.
    expect((await fetch(`${base}/sync?wait=true`, { method: "POST" })).status).toBe(200);
    await Bun.sleep(500);
    expect(events.filter((e) => e.event === "rolled_back" || e.event === "apply-failed")).toHaveLength(1);
  } finally {
    rx.stop(true);
  }
}, 120_000);
