/**
 * Pure logic of the systemd method and the systemctl wrapper: unit names,
 * file → unit mapping, what happens to a touched unit, settled states, and
 * the command lines systemctl gets (recorded Exec). The proof against a real
 * systemd is test/systemd/.
 */
import { describe, expect, test } from "bun:test";
import type { SystemdMethod } from "../../src/config/types.ts";
import type { Exec } from "../../src/host/exec.ts";
import { createSystemctl, defaultUnitDirectory, startFailed, unitNameProblem, type UnitState } from "../../src/host/systemctl.ts";
import { silentLogger } from "../../src/log.ts";
import { finishBatch, startBatch, touch } from "../../src/methods/systemd-batch.ts";
import { planUnit, skipReason, unitFileOf, unitOfPlaced } from "../../src/methods/systemd-units.ts";
import type { MethodContext } from "../../src/methods/types.ts";

describe("unitNameProblem", () => {
  test.each(["a.service", "web-1.timer", "foo@.service", "foo@bar.service", "x.y_z:1.socket", "srv-data.mount", "app.slice"])("%s is valid", (n) => {
    expect(unitNameProblem(n)).toBeUndefined();
  });
  test.each([
    ["a/b.service", "path separator"],
    ["my unit.service", "characters systemd does not allow"],
    ["noext", "does not end in a unit type"],
    ["x.conf", "does not end in a unit type"],
    [".service", "does not end in a unit type"],
    ["@x.service", 'starts with "@"'],
    ["a@b@c.service", 'more than one "@"'],
    [`${"a".repeat(250)}.service`, "longer than 255"],
  ])("%s: %s", (n, why) => {
    expect(unitNameProblem(n)).toContain(why);
  });
});

describe("unitFileOf", () => {
  test("unit files are flattened to their basename, as in FetchIt", () => {
    expect(unitFileOf("sub/web.service", "u/sub/web.service")).toEqual({ unit: "web.service", rel: "web.service", dropIn: false });
  });
  test("drop-ins keep their <unit>.d directory and belong to that unit", () => {
    expect(unitFileOf("web.service.d/10-env.conf", "u/web.service.d/10-env.conf")).toEqual({ unit: "web.service", rel: "web.service.d/10-env.conf", dropIn: true });
    expect(unitOfPlaced("/etc/systemd/system/web.service.d/10-env.conf")).toEqual({ unit: "web.service", dropIn: true });
    expect(unitOfPlaced("/etc/systemd/system/web.service")).toEqual({ unit: "web.service", dropIn: false });
  });
  test("errors name the repository file and say what to do", () => {
    expect(() => unitFileOf("x.conf", "u/x.conf")).toThrow("u/x.conf: a .conf file is placed only as a drop-in");
    expect(() => unitFileOf("bad dir.service.d/a.conf", "u/p")).toThrow("drop-in directory bad dir.service.d");
    expect(() => unitFileOf("a b.service", "u/a b.service")).toThrow("rename the file");
  });
  test("skipReason: a .conf outside <unit>.d/ is skipped (FetchIt's podman-auto-update.timer.d-override.conf); units and drop-ins are not", () => {
    expect(skipReason("podman-auto-update.timer.d-override.conf")).toContain("a .conf file is a drop-in only inside a directory named after its unit");
    expect(skipReason("conf.d/app.conf")).toBeDefined();
    expect(skipReason("x.conf")).toBeDefined();
    expect(skipReason("web.service.d/10-env.conf")).toBeUndefined();
    expect(skipReason("sub/web.timer.d/10.conf")).toBeUndefined();
    expect(skipReason("web.service")).toBeUndefined();
    expect(skipReason("bad dir.service.d/a.conf")).toBeUndefined(); // a drop-in with a bad unit name: an error, not a skip
  });
});

describe("planUnit", () => {
  const t = (changed: boolean, created = false) => ({ changed, created });
  test("enable: false and restart: false only place", () => {
    expect(planUnit("a.service", t(true), {})).toEqual({ enable: false, action: "none" });
  });
  test("restart implies enable; a changed existing unit restarts, a new one starts", () => {
    expect(planUnit("a.service", t(true), { restart: true })).toEqual({ enable: true, action: "restart" });
    expect(planUnit("a.service", t(true, true), { restart: true })).toEqual({ enable: true, action: "start" });
    expect(planUnit("a.service", t(false), { restart: true })).toEqual({ enable: true, action: "start" });
  });
  test("enable without restart starts (a no-op when running), never restarts", () => {
    expect(planUnit("a.service", t(true), { enable: true })).toEqual({ enable: true, action: "start" });
  });
  test("templates are only placed", () => {
    expect(planUnit("a@.service", t(true), { enable: true, restart: true })).toEqual({ enable: false, action: "none" });
  });
});

const state = (o: Partial<UnitState>): UnitState => ({
  loadState: "loaded", activeState: "active", subState: "running", result: "success", mainPid: 1, unitFileState: "enabled", fragmentPath: "", needDaemonReload: false, triggeredBy: "", ...o,
});

test("startFailed: failed, auto-restart and a non-success inactive unit; not a finished oneshot", () => {
  expect(startFailed(state({ activeState: "failed", result: "exit-code" }))).toBe(true);
  expect(startFailed(state({ activeState: "activating", subState: "auto-restart" }))).toBe(true);
  expect(startFailed(state({ activeState: "inactive", subState: "dead", result: "exit-code" }))).toBe(true);
  expect(startFailed(state({ activeState: "inactive", subState: "dead", result: "success" }))).toBe(false);
  expect(startFailed(state({ subState: "waiting", result: "" }))).toBe(false);
});

test("defaultUnitDirectory: /etc/systemd/system; XDG_CONFIG_HOME, else ~/.config for users", () => {
  expect(defaultUnitDirectory("system", {})).toBe("/etc/systemd/system");
  expect(defaultUnitDirectory("user", { XDG_CONFIG_HOME: "/x/cfg", HOME: "/h" })).toBe("/x/cfg/systemd/user");
  expect(defaultUnitDirectory("user", { HOME: "/home/u" })).toBe("/home/u/.config/systemd/user");
  expect(() => defaultUnitDirectory("user", {})).toThrow("neither XDG_CONFIG_HOME nor HOME");
});

/** An Exec that records command lines and answers `show` with `show(unit)`. */
function recorder(show: (unit: string) => string) {
  const calls: string[] = [];
  const exec: Exec = async (cmd, args) => {
    calls.push([cmd, ...args].join(" "));
    if (args.includes("show")) return { code: 0, stdout: show(args.at(-1)!), stderr: "" };
    return { code: 0, stdout: "", stderr: "" };
  };
  return { calls, exec };
}

test("systemctl wrapper: --user, --no-reload, unit names after --", async () => {
  const { calls, exec } = recorder(() => "");
  const sc = createSystemctl(exec, "user");
  await sc.enable(["a.service"], { reload: false });
  await sc.disable(["b.service"], { now: true, reload: false });
  await sc.daemonReload();
  expect(calls).toEqual([
    "systemctl --user --no-ask-password --no-pager enable --no-reload -- a.service",
    "systemctl --user --no-ask-password --no-pager disable --now --no-reload -- b.service",
    "systemctl --user --no-ask-password --no-pager daemon-reload",
  ]);
});

test("finish: enable before one daemon-reload, then restart the changed unit and start the new one", async () => {
  const { calls, exec } = recorder(() => "LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nMainPID=7\nNeedDaemonReload=no\n");
  const config = { name: "u", schedule: "@hourly", targetPath: "u", root: true, restart: true } as SystemdMethod;
  const ctx = { target: "t", config, exec, log: silentLogger } as unknown as MethodContext<SystemdMethod>;
  const b = startBatch(ctx, "/etc/systemd/system");
  b.reload = true;
  touch(b, "old.service", "u/old.service", true, false);
  touch(b, "new.service", "u/new.service", true, false, true);
  touch(b, "same.service", "u/same.service", false, false);
  expect(await finishBatch(ctx, b)).toEqual([]);
  const verbs = calls.map((c) => c.replace("systemctl --no-ask-password --no-pager ", "")).filter((c) => !c.startsWith("show"));
  expect(verbs).toEqual([
    "enable --no-reload -- old.service",
    "enable --no-reload -- new.service",
    "enable --no-reload -- same.service",
    "daemon-reload",
    "restart -- old.service", // new.service and same.service are active already: no start
  ]);
  expect(calls.filter((c) => c.endsWith("daemon-reload"))).toHaveLength(1);
});

test("a unit deleted under one path and added under another in the same apply is started again, not left removed", async () => {
  const { calls, exec } = recorder(() => "LoadState=loaded\nActiveState=inactive\nSubState=dead\nResult=success\nMainPID=0\nNeedDaemonReload=no\n");
  const config = { name: "u", schedule: "@hourly", targetPath: "u", root: true, enable: true } as SystemdMethod;
  const ctx = { target: "t", config, exec, log: silentLogger } as unknown as MethodContext<SystemdMethod>;
  const b = startBatch(ctx, "/etc/systemd/system");
  b.reload = true;
  b.removed.add("moved.service"); // what remove() of the old path noted
  touch(b, "moved.service", "u/new/moved.service", true, false, true);
  expect(b.removed.has("moved.service")).toBe(false);
  await finishBatch(ctx, b);
  expect(calls.some((c) => c.endsWith("start -- moved.service"))).toBe(true);
});
