/**
 * Health gates of the raw method against the real Podman service (4.3, and 5.4
 * with FETCHIT_TEST_PODMAN=5) through `fetchit sync`: containers that exit at
 * once, crash-loop late in the window, fail their healthcheck; one-shots that
 * exit 0 or 1; healthy containers. The gates use `rollback: false`, so a failed
 * gate is reported and the commit stays applied (docs/health.md).
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { createRemote, type TestRemote } from "../support/git.ts";
import { harness, SLEEPER, targetConfig, type Harness } from "../support/fetchit.ts";
import { withSharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => (podman = p));

const spec = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, ...extra });
const rawWithHealth = (health: string) =>
  `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n        health:\n${health
    .split("\n")
    .map((l) => `          ${l}`)
    .join("\n")}\n`;

async function statusOf(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
}

/** Syncs once; returns the exit code, the seconds it took and the method's status. */
async function timedSync(h: Harness) {
  const t0 = Date.now();
  const r = await h.cli("sync");
  return { code: r.code, seconds: (Date.now() - t0) / 1000, out: r.out.join("\n"), st: await statusOf(h) };
}

describe("raw health gate", () => {
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    remote = await createRemote({ "raw/a.json": spec("hg-a") });
    h = harness(podman, targetConfig(remote.url, rawWithHealth("window: 5s\nrollback: false")));
  });

  test("a container that exits at once fails the gate; the commit stays applied and the failure names container and exit code", async () => {
    expect((await timedSync(h)).code).toBe(0);
    const c = await remote.commit({ "raw/a.json": spec("hg-a", { Command: ["sh", "-c", "echo boom-$HOSTNAME >&2; exit 3"] }) }, "break a");
    const r = await timedSync(h);
    expect(r.code).toBe(1);
    expect(r.out).toContain("failed");
    expect(r.st.appliedCommit).toBe(c);
    expect(r.st.lastError.commit).toBe(c);
    expect(r.st.lastError.files).toEqual(["raw/a.json"]);
    expect(r.st.lastError.message).toMatch(/raw\/a\.json: health gate: container hg-a (exited with code 3|restarted)/);
    expect(r.st.lastError.message).toContain("last log lines");
    expect(r.st.lastError.message).toContain("boom-");
    expect(r.seconds).toBeLessThan(4.5); // found at the first samples, not after the window
    // Nothing new: the next run makes no change and keeps the report.
    const again = await timedSync(h);
    expect(again.out).toContain("unchanged");
    expect(again.st.lastError.commit).toBe(c);
  });

  test("a crash loop that starts only after 3 s inside a 5 s window fails the gate", async () => {
    await remote.commit({ "raw/a.json": spec("hg-a", { Command: ["sh", "-c", "sleep 3; exit 1"] }) }, "late crash");
    const r = await timedSync(h);
    expect(r.code).toBe(1);
    expect(r.seconds).toBeGreaterThan(3);
    expect(r.st.lastError.message).toMatch(/container hg-a (restarted|exited with code 1)/);
  });

  test("a failing healthcheck fails the gate with the check's output", async () => {
    h.writeConfig(targetConfig(remote.url, rawWithHealth("window: 8s\nrollback: false")));
    const hc = { HealthCmd: "echo not-ready; exit 1", HealthInterval: "1s", HealthRetries: 2 };
    await remote.commit({ "raw/a.json": spec("hg-a", hc) }, "bad healthcheck");
    const r = await timedSync(h);
    expect(r.code).toBe(1);
    expect(r.st.lastError.message).toContain("container hg-a is unhealthy");
    expect(r.st.lastError.message).toContain("not-ready");
    const ins = JSON.parse(await podman.cli(["container", "inspect", "hg-a"]))[0];
    expect(ins.Config.Healthcheck.Test).toEqual(["CMD-SHELL", "echo not-ready; exit 1"]);
    expect(ins.Config.Healthcheck.Retries).toBe(2);
  });

  test("a healthy container with a healthcheck passes after the whole window", async () => {
    const hc = { HealthCmd: ["true"], HealthInterval: 1, HealthRetries: 1, HealthStartPeriod: "1s" };
    const c = await remote.commit({ "raw/a.json": spec("hg-a", hc), "raw/b.json": spec("hg-b") }, "healthy");
    const r = await timedSync(h);
    expect(r.code).toBe(0);
    expect(r.seconds).toBeGreaterThanOrEqual(4.5);
    expect(r.st.appliedCommit).toBe(c);
    expect(r.st.lastError).toBeNull();
    expect(await podman.cli(["inspect", "--format", "{{.State.Health.Status}}", "hg-a"])).toBe("healthy");
  });

  test("one-shot containers (Restart: no): exit 0 passes, exit 1 fails", async () => {
    await remote.commit({ "raw/a.json": spec("hg-a", { Restart: "no", Command: ["sh", "-c", "echo done"] }) }, "one-shot ok");
    const ok = await timedSync(h);
    expect(ok.code).toBe(0);
    expect(ok.st.lastError).toBeNull();
    await remote.commit({ "raw/a.json": spec("hg-a", { Restart: "no", Command: ["sh", "-c", "echo migration failed; exit 1"] }) }, "one-shot bad");
    const bad = await timedSync(h);
    expect(bad.code).toBe(1);
    expect(bad.st.lastError.message).toContain("container hg-a exited with code 1");
    expect(bad.st.lastError.message).toContain("migration failed");
  });

  test("only what the apply touched is judged: a crash-looping container of an untouched file does not fail the gate", async () => {
    h.writeConfig(targetConfig(remote.url, "    raw:\n      - name: apps\n        targetPath: raw\n        schedule: \"*/5 * * * * *\"\n"));
    await remote.commit({ "raw/loop.json": spec("hg-loop", { Command: ["sh", "-c", "sleep 1; exit 1"] }) }, "crash loop, no gate yet");
    expect((await timedSync(h)).code).toBe(0);
    h.writeConfig(targetConfig(remote.url, rawWithHealth("window: 3s\nrollback: false")));
    await remote.commit({ "raw/a.json": spec("hg-a", { Env: { V: "2" } }) }, "touch a only");
    const r = await timedSync(h);
    expect(r.code).toBe(0);
    expect(r.st.lastError).toBeNull();
  });
});
