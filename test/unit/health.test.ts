/** Pure logic of health gates: durations, resolveHealth (method wins key by key), the container and unit judgements. */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { parseDuration, resolveHealth } from "../../src/config/health.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import type { UnitHealthState } from "../../src/host/systemctl.ts";
import { silentLogger } from "../../src/log.ts";
import { judgeContainer, type ContainerSample, type WatchedContainer } from "../../src/methods/container-health.ts";
import { parseRawSpec } from "../../src/methods/raw-spec.ts";
import { namesFile } from "../../src/methods/quadlet-units.ts";
import { judgeUnit } from "../../src/methods/unit-health.ts";

describe("parseDuration", () => {
  const ok: [unknown, number][] = [[10, 10_000], [0, 0], [0.5, 500], ["10", 10_000], ["10s", 10_000], ["2m", 120_000], ["1m30s", 90_000], ["500ms", 500], ["1h", 3_600_000], [" 3s ", 3000], ["1.5s", 1500]];
  for (const [v, ms] of ok) test(`${JSON.stringify(v)} → ${ms} ms`, () => expect(parseDuration(v)).toBe(ms));
  for (const bad of ["10x", "s", "", "-1s", "1d", "ten", true, null, -1]) {
    test(`rejects ${JSON.stringify(bad)}`, () => expect(typeof parseDuration(bad)).toBe("string"));
  }
});

describe("resolveHealth", () => {
  test("defaults: 10 s window, rollback on, 60 s command timeout, no command or http", () => {
    expect(resolveHealth(undefined, {})).toEqual({ windowMs: 10_000, rollback: true, commandTimeoutMs: 60_000 });
  });
  test("the method's keys win key by key; the global ones fill the rest", () => {
    const global = { window: "30s", rollback: false, command: "check-all", http: "http://127.0.0.1/ready", timeout: 5 };
    expect(resolveHealth(global, { window: 5, command: ["check", "one"] })).toEqual({
      windowMs: 5000, rollback: false, command: ["check", "one"], commandTimeoutMs: 5000, http: "http://127.0.0.1/ready",
    });
    expect(resolveHealth(global, undefined).windowMs).toBe(30_000);
  });
  test("window 0 turns watching off; an empty command or http in a method turns off the global one", () => {
    const r = resolveHealth({ command: "x", http: "http://h/" }, { window: 0, command: "", http: "" });
    expect(r).toEqual({ windowMs: 0, rollback: true, commandTimeoutMs: 60_000 });
    expect(resolveHealth({ command: ["a"] }, { command: [] }).command).toBeUndefined();
  });
});

describe("jobs get health only when a health block exists", () => {
  const cfg = (top: string, method: string) =>
    `${top}targetConfigs:\n- name: t\n  url: https://x/y.git\n  branch: main\n  raw:\n  - name: a\n    schedule: "@hourly"\n    targetPath: r\n${method}  - name: b\n    schedule: "@hourly"\n    targetPath: r2\n`;
  const jobs = (yaml: string) => {
    const r = parseConfig(yaml, "c.yaml");
    expect(r.issues).toEqual([]);
    return buildJobs(r.config!, "/nonexistent", silentLogger).jobs;
  };
  test("none anywhere: no gate; per method: that method only; global: every method, merged", () => {
    expect(jobs(cfg("", "")).map((j) => j.health)).toEqual([undefined, undefined]);
    const [a, b] = jobs(cfg("", "    health:\n      window: 3s\n"));
    expect(a!.health?.windowMs).toBe(3000);
    expect(b!.health).toBeUndefined();
    expect("health" in a!.config).toBe(false); // changing the gate re-applies nothing
    const [ga, gb] = jobs(cfg("health:\n  window: 20\n  command: [/bin/true]\n", "    health:\n      rollback: false\n"));
    expect(ga!.health).toEqual({ windowMs: 20_000, rollback: false, command: ["/bin/true"], commandTimeoutMs: 60_000 });
    expect(gb!.health).toEqual({ windowMs: 20_000, rollback: true, command: ["/bin/true"], commandTimeoutMs: 60_000 });
  });
  test("bad values are reported with their path", () => {
    const r = parseConfig(cfg("health:\n  window: 5 minutes\n", "    health:\n      http: ftp://x/\n      timeout: 0\n"), "c.yaml");
    expect(r.issues.map((i) => i.path)).toEqual(["health.window", "targetConfigs[0].raw[0].health.timeout", "targetConfigs[0].raw[0].health.http"]);
  });
});

describe("raw spec healthcheck fields", () => {
  test("HealthCmd string → CMD-SHELL, list → CMD; durations in ms", () => {
    const s = parseRawSpec(JSON.stringify({ Image: "i", Name: "n", HealthCmd: "curl -f localhost", HealthInterval: "5s", HealthRetries: 2, HealthStartPeriod: 10, healthtimeout: "2s" }), "r/a.json");
    expect(s.HealthCmd).toEqual(["CMD-SHELL", "curl -f localhost"]);
    expect([s.HealthInterval, s.HealthStartPeriod, s.HealthTimeout, s.HealthRetries]).toEqual([5000, 10_000, 2000, 2]);
    expect(parseRawSpec('{"Image":"i","Name":"n","HealthCmd":["pg_isready","-q"]}', "f").HealthCmd).toEqual(["CMD", "pg_isready", "-q"]);
  });
  test("errors name the field", () => {
    expect(() => parseRawSpec('{"Image":"i","Name":"n","HealthInterval":"5s"}', "r/a.json")).toThrow("r/a.json: HealthInterval: needs HealthCmd");
    expect(() => parseRawSpec('{"Image":"i","Name":"n","HealthCmd":"x","HealthInterval":"fast"}', "f")).toThrow("HealthInterval: expected seconds");
    expect(() => parseRawSpec('{"Image":"i","Name":"n","HealthCmd":"x","HealthRetries":0}', "f")).toThrow("HealthRetries: expected a whole number of 1 or more");
    expect(() => parseRawSpec('{"Image":"i","Name":"n","HealthCmd":"x","HealthInterval":0.2}', "f")).toThrow("HealthInterval: expected at least 1s");
  });
});

describe("judgeContainer", () => {
  const w: WatchedContainer = { name: "app", file: "raw/app.json", label: "container app", mayExit: false };
  const once = { ...w, mayExit: true };
  const run = (o: Partial<ContainerSample> = {}): ContainerSample => ({ Id: "c1", State: "running", ExitCode: 0, StartedAt: 100, ExitedAt: -62135596800, Status: "", ...o });
  test("running and steady is healthy", () => expect(judgeContainer(w, run(), run(), true)).toBeUndefined());
  test("gone, replaced, exited", () => {
    expect(judgeContainer(w, undefined, run(), false)).toContain("is gone");
    expect(judgeContainer(w, run({ Id: "c2" }), run(), false)).toContain("replaced");
    expect(judgeContainer(w, run({ State: "exited", ExitCode: 3 }), run(), false)).toBe("container app exited with code 3 (it should keep running)");
    expect(judgeContainer(w, run({ State: "exited", ExitCode: 0 }), run(), false)).toContain("exited with code 0");
  });
  test("one-shots may exit 0 only", () => {
    expect(judgeContainer(once, run({ State: "exited", ExitCode: 0 }), run(), true)).toBeUndefined();
    expect(judgeContainer(once, run({ State: "exited", ExitCode: 1 }), run(), false)).toBe("container app exited with code 1");
  });
  test("restarts: Restarts (Podman 5), a new StartedAt, or an exit time while running (Podman 4.3)", () => {
    expect(judgeContainer(w, run({ Restarts: 1 }), run({ Restarts: 0 }), false)).toContain("restarted (1 time(s))");
    expect(judgeContainer(w, run({ StartedAt: 103 }), run(), false)).toContain("restarted");
    expect(judgeContainer(w, run({ ExitedAt: 102 }), run({ ExitedAt: 102 }), false)).toContain("restarted");
  });
  test("healthchecks: unhealthy fails at once; still starting fails at the end only when a check was due", () => {
    expect(judgeContainer(w, run({ Status: "unhealthy" }), run(), false)).toContain("is unhealthy");
    expect(judgeContainer(w, run({ Status: "Up 3 seconds (unhealthy)" }), run(), false)).toContain("is unhealthy");
    expect(judgeContainer(w, run({ Status: "starting" }), run(), false)).toBeUndefined();
    expect(judgeContainer(w, run({ Status: "starting" }), run(), true)).toContain("did not become healthy");
    expect(judgeContainer(w, run({ Status: "starting" }), run(), true, false)).toBeUndefined();
    expect(judgeContainer(w, run({ Status: "healthy" }), run(), true)).toBeUndefined();
  });
  test("transient states fail only at the end of the window", () => {
    expect(judgeContainer(w, run({ State: "created" }), run(), false)).toBeUndefined();
    expect(judgeContainer(w, run({ State: "paused" }), run(), true)).toContain("is paused, not running");
  });
});

describe("judgeUnit", () => {
  const u = (o: Partial<UnitHealthState> = {}): UnitHealthState => ({
    unit: "app.service", loadState: "loaded", activeState: "active", subState: "running", result: "success", mainPid: 7, unitFileState: "enabled",
    fragmentPath: "", needDaemonReload: false, triggeredBy: "", nRestarts: 0, type: "simple", ...o,
  });
  test("active and steady is healthy; a finished oneshot too", () => {
    expect(judgeUnit(u(), u(), true)).toBeUndefined();
    expect(judgeUnit(u({ type: "oneshot", activeState: "inactive", subState: "dead" }), u(), true)).toBeUndefined();
    expect(judgeUnit(u({ type: "oneshot", activeState: "active", subState: "exited" }), u(), true)).toBeUndefined();
  });
  test("failed, auto-restart, NRestarts moved, stopped", () => {
    expect(judgeUnit(u({ activeState: "failed", result: "exit-code" }), u(), false)).toContain("failed (failed");
    expect(judgeUnit(u({ activeState: "activating", subState: "auto-restart" }), u(), false)).toContain("crashed");
    expect(judgeUnit(u({ nRestarts: 2 }), u({ nRestarts: 1 }), false)).toContain("restarted 1 time(s)");
    expect(judgeUnit(u({ activeState: "inactive", subState: "dead" }), u(), false)).toContain("stopped");
    expect(judgeUnit(u({ type: "oneshot", activeState: "inactive", result: "exit-code" }), u(), false)).toContain("stopped");
  });
  test("still activating fails only at the end", () => {
    expect(judgeUnit(u({ activeState: "activating", subState: "start" }), u(), false)).toBeUndefined();
    expect(judgeUnit(u({ activeState: "activating", subState: "start" }), u(), true)).toContain("still activating");
  });
});

test("namesFile: a quadlet file naming a support file (the services the quadlet gate watches when that file changes)", () => {
  expect(namesFile("[Kube]\nYaml=kweb.yaml\n", "kweb.yaml")).toBe(true);
  expect(namesFile("[Container]\nEnvironmentFile = ./app.env \n", "app.env")).toBe(true);
  expect(namesFile("[Kube]\nYaml=other-kweb.yaml\n", "kweb.yaml")).toBe(false);
  expect(namesFile("[Kube]\nYaml=kweb.yaml.bak\n", "kweb.yaml")).toBe(false);
});
