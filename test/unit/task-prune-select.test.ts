import { describe, expect, test } from "bun:test";
import { selectOrphans, methodRef, type OwnedObject } from "../../src/tasks/prune-select.ts";
import type { MethodState } from "../../src/state/store.ts";

const T = Date.parse("2024-05-01T12:00:00Z");
const obj = (name: string, state = "exited", labels: Record<string, string> = {}, created = T): OwnedObject => ({ id: name, name, state, created, labels });
const rec = (target: string, kind: string, method: string, resources: Record<string, string>, appliedAt?: number): MethodState => ({
  version: 1, target, kind, method, failures: 0,
  resources: Object.fromEntries(Object.entries(resources).map(([file, name]) => [file, { name, hash: "h" }])),
  ...(appliedAt ? { appliedAt: new Date(appliedAt).toISOString() } : {}),
});
const of = (target: string, method: string, file?: string) => ({
  "owned-by": "fetchit", "io.fetchit.target": target, "io.fetchit.method": method, ...(file ? { "io.fetchit.file": file } : {}),
});
const pick = (objs: OwnedObject[], records: MethodState[] = [], configured: string[] = []) =>
  selectOrphans(objs, records, new Set(configured)).map((o) => o.name);

describe("selectOrphans", () => {
  test("idle and unmanaged go; running, paused, degraded stay", () => {
    const objs = [obj("a", "exited"), obj("b", "Created"), obj("c", "running"), obj("d", "paused"), obj("e", "Degraded"), obj("f", "Stopped"), obj("v", "unused")];
    expect(pick(objs)).toEqual(["a", "b", "f", "v"]);
  });

  test("a name a record manages stays, comma-separated kube pod names included", () => {
    const records = [rec("t1", "raw", "apps", { "a.json": "web" }), rec("t1", "kube", "k", { "p.yaml": "pod-a,pod-b" })];
    expect(pick([obj("web"), obj("pod-b"), obj("stray")], records)).toEqual(["stray"]);
  });

  test("an object whose labels point at a file its record still lists stays (kube volumes)", () => {
    const records = [rec("t1", "kube", "k", { "db.yaml": "db-pod" }, T - 1000)];
    const objs = [obj("data", "unused", of("t1", "kube/k", "kube/db.yaml")), obj("old", "unused", of("t1", "kube/k", "kube/gone.yaml"), T - 5000)];
    expect(pick(objs, records, [methodRef("t1", "kube/k")])).toEqual(["old"]);
  });

  test("attributed to a configured method: kept when newer than its last state write or when it has no record yet", () => {
    const records = [rec("t1", "raw", "apps", {}, T)];
    const objs = [obj("before", "exited", of("t1", "raw/apps"), T - 1), obj("after", "exited", of("t1", "raw/apps"), T + 1), obj("unknown-time", "exited", of("t1", "raw/apps"), NaN)];
    expect(pick(objs, records, [methodRef("t1", "raw/apps")])).toEqual(["before"]);
    expect(pick([obj("x", "exited", of("t2", "raw/new"))], [], [methodRef("t2", "raw/new")])).toEqual([]);
  });

  test("a failed apply's write counts too", () => {
    const r = rec("t1", "raw", "apps", {}, T - 10_000);
    r.lastError = { message: "boom", at: new Date(T + 10).toISOString(), retryable: false };
    expect(pick([obj("c", "exited", of("t1", "raw/apps"), T)], [r], [methodRef("t1", "raw/apps")])).toEqual(["c"]);
  });

  test("attributed to a method no longer configured: goes unless its record still manages it", () => {
    const records = [rec("t1", "raw", "old", { "k.json": "kept" }, T + 5)];
    expect(pick([obj("kept", "exited", of("t1", "raw/old")), obj("gone", "exited", of("t1", "raw/old"), T + 60)], records)).toEqual(["gone"]);
  });

  test("task records (prune, images) manage nothing", () => {
    const records = [rec("(images)", "images", "app", { "http://x/app.tar": "web" }), rec("(global)", "prune", "prune", { x: "web" })];
    expect(pick([obj("web")], records)).toEqual(["web"]);
  });
});
