/**
 * Health gates of the systemd method in a real systemd 252 (the compiled
 * binary's `fetchit sync` inside the testbed, as root): a unit that starts
 * fine and crash-loops 3 s later fails the gate (the apply alone passes it);
 * a healthy service and a oneshot that exits 0 pass after the whole window.
 * `rollback: false`: the failure is reported and the commit stays applied.
 */
import { describe, expect, test } from "bun:test";
import { startSystemdTestbed, type SystemdTestbed, withTestbed } from "../support/systemd.ts";
import { commit, expectActive, scenario, sleeper, sync, syncOk, type Scenario } from "./kit.ts";

const T = 120_000;
let tb: SystemdTestbed;
withTestbed(startSystemdTestbed, (t) => void (tb = t));

const LATE_CRASH = '[Service]\nExecStart=/bin/sh -c "sleep 3; echo late-crash-77; exit 4"\nRestart=always\nRestartSec=1\n[Install]\nWantedBy=default.target\n';
const ONESHOT = "[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n";

describe("systemd health gate (root)", () => {
  let s: Scenario;

  test("a healthy service and a oneshot that exits 0 pass after the window", async () => {
    s = await scenario(tb, "root", "health", { "units/ok.service": sleeper("ok"), "units/once.service": ONESHOT }, "enable: true\nrestart: true\nhealth:\n  window: 4s\n  rollback: false");
    const t0 = Date.now();
    const out = await syncOk(s);
    expect(Date.now() - t0).toBeGreaterThan(4000);
    expect(out).toContain("health gate passed");
    await expectActive(s, "ok.service");
  }, T);

  test("a unit that crash-loops 3 s after starting fails the gate, with its journal lines", async () => {
    await commit(s, { "units/late.service": LATE_CRASH });
    const r = await sync(s);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.code).toBe(1);
    expect(out).toContain("units/late.service: health gate: unit late.service");
    expect(out).toMatch(/crashed and is waiting to be restarted|restarted \d time|failed \(/);
    expect(out).toContain("late-crash-77");
    expect(out).toContain("it stays applied");
    // The untouched ok.service was not judged, and is still running.
    await expectActive(s, "ok.service");
  }, T);
});
