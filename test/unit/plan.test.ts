import { describe, expect, test } from "bun:test";
import { planChanges } from "../../src/engine/plan.ts";
import type { FileChange } from "../../src/git/index.ts";

const added = (rel: string, blob = `b-${rel}`): FileChange => ({ status: "added", path: `d/${rel}`, relPath: rel, blob, mode: "100644" });
const deleted = (rel: string): FileChange => ({ status: "deleted", oldPath: `d/${rel}`, oldRelPath: rel, oldBlob: `ob-${rel}`, oldMode: "100644" });
const modified = (rel: string): FileChange => ({
  status: "modified", path: `d/${rel}`, relPath: rel, blob: `b-${rel}`, mode: "100755",
  oldPath: `d/${rel}`, oldRelPath: rel, oldBlob: `ob-${rel}`, oldMode: "100644",
});
const renamed = (from: string, to: string): FileChange => ({
  status: "renamed", path: `d/${to}`, relPath: to, blob: `b-${to}`, mode: "100644",
  oldPath: `d/${from}`, oldRelPath: from, oldBlob: `ob-${from}`, oldMode: "100644",
});
const res = (name: string) => ({ name, hash: `h-${name}` });

describe("planChanges", () => {
  test("orders removals, then creates, then updates regardless of input order", () => {
    const ops = planChanges([modified("m.json"), added("a.json"), deleted("x.json"), added("b.json"), deleted("y.json")], { "m.json": res("m") }, false);
    expect(ops.map((o) => `${o.op}:${o.op === "remove" ? o.relPath : o.file.relPath}`)).toEqual([
      "remove:x.json", "remove:y.json", "create:a.json", "create:b.json", "update:m.json",
    ]);
  });

  test("a removal carries the recorded resource and the old file ref", () => {
    const [op] = planChanges([deleted("x.json")], { "x.json": res("cx") }, false);
    expect(op).toEqual({
      op: "remove", relPath: "x.json", previous: res("cx"),
      old: { relPath: "x.json", path: "d/x.json", blob: "ob-x.json", mode: "100644" },
    });
  });

  test("an added file that already has a recorded resource becomes an update", () => {
    const ops = planChanges([added("a.json"), added("n.json")], { "a.json": res("ca") }, false);
    expect(ops).toEqual([
      { op: "create", file: { relPath: "n.json", path: "d/n.json", blob: "b-n.json", mode: "100644" }, previous: undefined },
      { op: "update", file: { relPath: "a.json", path: "d/a.json", blob: "b-a.json", mode: "100644" }, previous: res("ca") },
    ]);
  });

  test("an added file without a mode defaults to 100644", () => {
    const [op] = planChanges([{ status: "added", path: "d/a", relPath: "a", blob: "b" }], {}, false);
    expect(op?.op === "create" && op.file.mode).toBe("100644");
  });

  test("a rename picks the previous resource of the old path and sets fromRelPath", () => {
    const ops = planChanges([renamed("old.json", "new.json")], { "old.json": res("c-old") }, false);
    expect(ops).toHaveLength(1);
    const op = ops[0]!;
    if (op.op === "remove") throw new Error("expected an update");
    expect(op.op).toBe("update");
    expect(op.previous).toEqual(res("c-old"));
    expect(op.fromRelPath).toBe("old.json");
    expect(op.file.relPath).toBe("new.json");
    expect(op.old?.relPath).toBe("old.json");
  });

  test("a rename with no record for the old path falls back to the new path's record", () => {
    const [op] = planChanges([renamed("old.json", "new.json")], { "new.json": res("c-new") }, false);
    expect(op?.previous).toEqual(res("c-new"));
  });

  test("a modified file without a record carries `old` so the method can identify it", () => {
    const [op] = planChanges([modified("m.json")], {}, false);
    if (!op || op.op === "remove") throw new Error("expected an update");
    expect(op.previous).toBeUndefined();
    expect(op.old).toEqual({ relPath: "m.json", path: "d/m.json", blob: "ob-m.json", mode: "100644" });
    expect(op.file.mode).toBe("100755");
  });

  test("fullTree removes recorded resources whose file is gone and keeps present ones", () => {
    const resources = { "keep.json": res("k"), "gone.json": res("g"), "sub/gone2.json": res("g2") };
    const ops = planChanges([added("keep.json"), added("new.json")], resources, true);
    expect(ops).toEqual([
      { op: "remove", relPath: "gone.json", previous: res("g") },
      { op: "remove", relPath: "sub/gone2.json", previous: res("g2") },
      { op: "create", file: { relPath: "new.json", path: "d/new.json", blob: "b-new.json", mode: "100644" }, previous: undefined },
      { op: "update", file: { relPath: "keep.json", path: "d/keep.json", blob: "b-keep.json", mode: "100644" }, previous: res("k") },
    ]);
  });

  test("without fullTree, recorded resources absent from the diff are left alone", () => {
    expect(planChanges([added("new.json")], { "other.json": res("o") }, false).map((o) => o.op)).toEqual(["create"]);
  });

  test("no changes and no resources give an empty plan", () => {
    expect(planChanges([], {}, true)).toEqual([]);
  });
});
