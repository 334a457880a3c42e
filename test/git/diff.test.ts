import { describe, expect, test } from "bun:test";
import type { FileChange } from "../../src/git/index.ts";
import { createRemote } from "../support/git.ts";
import { tracedSource } from "./source-fixture.ts";

const LONG = Array.from({ length: 40 }, (_, i) => `line ${i}: some content that makes rename detection work`).join("\n");

/** Changes as compact strings, e.g. "renamed a.yaml -> b.yaml", sorted. */
function summary(changes: FileChange[]): string[] {
  return changes
    .map((c) => {
      if (c.status === "added") return `added ${c.relPath}`;
      if (c.status === "deleted") return `deleted ${c.oldRelPath}`;
      if (c.status === "modified") return `modified ${c.relPath}`;
      return `renamed ${c.oldRelPath} -> ${c.relPath}`;
    })
    .sort();
}

async function setup(files: Record<string, string>) {
  const remote = await createRemote(files);
  const t = tracedSource(remote.url);
  const first = await t.source.fetch();
  /** Commits in the remote, fetches, and returns [before, after]. */
  const change = async (fn: () => Promise<string>): Promise<[string, string]> => {
    const before = await t.source.fetch();
    await fn();
    return [before, await t.source.fetch()];
  };
  return { remote, source: t.source, first, change };
}

describe("diff", () => {
  test("from null lists every file under targetPath only, nested dirs included", async () => {
    const { source, first } = await setup({
      "apps/a.yaml": "a",
      "apps/sub/deep/b.json": "b",
      "apps-old/c.yaml": "c",
      "other/d.yaml": "d",
      "top.yaml": "t",
    });
    const changes = await source.diff(null, first, { targetPath: "apps" });
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatchObject({ status: "added", path: "apps/a.yaml", relPath: "a.yaml", mode: "100644" });
    expect(changes[0]!.blob).toMatch(/^[0-9a-f]{40}$/);
    expect(changes[1]).toMatchObject({ path: "apps/sub/deep/b.json", relPath: "sub/deep/b.json" });
    for (const tp of ["./apps/", "/apps", "apps/"]) expect(await source.diff(null, first, { targetPath: tp })).toEqual(changes);
    for (const tp of ["", "."]) expect(await source.diff(null, first, { targetPath: tp })).toHaveLength(5);
    expect(await source.diff(first, first, { targetPath: "" })).toEqual([]);
  });

  test("detects modify, delete, add and rename (also rename with a small edit)", async () => {
    const { remote, source, change } = await setup({
      "apps/keep.yaml": "keep",
      "apps/mod.yaml": "old",
      "apps/gone.yaml": "bye",
      "apps/move.yaml": LONG,
      "apps/move-edit.yaml": LONG + "\nextra",
    });
    const [a, b] = await change(async () => {
      await remote.commit({ "apps/mod.yaml": "new", "apps/gone.yaml": null, "apps/new/n.yaml": "n" });
      await remote.rename("apps/move.yaml", "apps/moved/move.yaml");
      await remote.rename("apps/move-edit.yaml", "apps/renamed.yaml");
      return remote.commit({ "apps/renamed.yaml": LONG + "\nextra, edited" });
    });
    const changes = await source.diff(a, b, { targetPath: "apps" });
    expect(summary(changes)).toEqual([
      "added new/n.yaml",
      "deleted gone.yaml",
      "modified mod.yaml",
      "renamed move-edit.yaml -> renamed.yaml",
      "renamed move.yaml -> moved/move.yaml",
    ]);
    const pure = changes.find((c) => c.relPath === "moved/move.yaml")!;
    expect(pure.blob).toBe(pure.oldBlob!);
    const edited = changes.find((c) => c.relPath === "renamed.yaml")!;
    expect(edited).toMatchObject({ oldPath: "apps/move-edit.yaml", path: "apps/renamed.yaml" });
    expect(edited.blob).not.toBe(edited.oldBlob!);
    const modified = changes.find((c) => c.status === "modified")!;
    expect((await source.readBlob(modified.oldBlob!)).toString()).toBe("old");
    expect((await source.readBlob(modified.blob!)).toString()).toBe("new");
    const deleted = changes.find((c) => c.status === "deleted")!;
    expect(deleted.path).toBeUndefined();
    expect(deleted).toMatchObject({ oldPath: "apps/gone.yaml", oldMode: "100644" });
  });

  test("a rename across the targetPath boundary is an add or a delete", async () => {
    const { remote, source, change } = await setup({ "apps/out.yaml": LONG, "elsewhere/in.yaml": "unrelated\n".repeat(30) });
    const [a, b] = await change(async () => {
      await remote.rename("apps/out.yaml", "elsewhere/out.yaml");
      return remote.rename("elsewhere/in.yaml", "apps/in.yaml");
    });
    expect(summary(await source.diff(a, b, { targetPath: "apps" }))).toEqual(["added in.yaml", "deleted out.yaml"]);
  });

  test("glob applies to relPath and `*` crosses directories, as in FetchIt", async () => {
    const { source, first } = await setup({
      "cfg/a.json": "1",
      "cfg/sub/b.json": "2",
      "cfg/c.yaml": "3",
      "d.json": "outside",
    });
    const json = await source.diff(null, first, { targetPath: "cfg", glob: "*.json" });
    expect(json.map((c) => c.relPath)).toEqual(["a.json", "sub/b.json"]);
    const sub = await source.diff(null, first, { targetPath: "cfg", glob: "sub/*" });
    expect(sub.map((c) => c.relPath)).toEqual(["sub/b.json"]);
    const alt = await source.diff(null, first, { targetPath: "cfg", glob: "{a,c}.*" });
    expect(alt.map((c) => c.relPath)).toEqual(["a.json", "c.yaml"]);
  });

  test("extension filter is a suffix match on relPath, combined with the glob", async () => {
    const { source, first } = await setup({
      "m/a.yaml": "1",
      "m/b.yml": "2",
      "m/c.json": "3",
      "m/x/d.service": "4",
      "m/notyaml": "5",
    });
    const yaml = await source.diff(null, first, { targetPath: "m", extensions: [".yaml", ".yml"] });
    expect(yaml.map((c) => c.relPath)).toEqual(["a.yaml", "b.yml"]);
    const both = await source.diff(null, first, { targetPath: "m", glob: "x/*", extensions: [".service"] });
    expect(both.map((c) => c.relPath)).toEqual(["x/d.service"]);
    expect(await source.diff(null, first, { targetPath: "m", extensions: [] })).toHaveLength(5);
  });

  test("a rename where only one side passes the filter becomes an add or a delete", async () => {
    const { remote, source, change } = await setup({ "d/a.txt": LONG, "d/b.yaml": LONG + "y" });
    const [a, b] = await change(async () => {
      await remote.rename("d/a.txt", "d/a.yaml");
      return remote.rename("d/b.yaml", "d/b.txt");
    });
    const changes = await source.diff(a, b, { targetPath: "d", glob: "*.yaml" });
    expect(summary(changes)).toEqual(["added a.yaml", "deleted b.yaml"]);
    expect(summary(await source.diff(a, b, { targetPath: "d" }))).toEqual([
      "renamed a.txt -> a.yaml",
      "renamed b.yaml -> b.txt",
    ]);
  });

  test("a single-file targetPath yields that file with its basename as relPath", async () => {
    const { remote, source, first, change } = await setup({
      "units/app.service": "v1",
      "units/app.service.d/x.conf": "x",
      "units/other.service": "o",
    });
    const initial = await source.diff(null, first, { targetPath: "units/app.service" });
    expect(initial).toEqual([expect.objectContaining({ status: "added", path: "units/app.service", relPath: "app.service" })]);
    const [a, b] = await change(() => remote.commit({ "units/app.service": "v2", "units/other.service": "o2" }));
    expect(summary(await source.diff(a, b, { targetPath: "units/app.service" }))).toEqual(["modified app.service"]);
    const [c, d] = await change(() => remote.rename("units/app.service", "units/renamed.service"));
    expect(summary(await source.diff(c, d, { targetPath: "units/app.service" }))).toEqual(["deleted app.service"]);
    expect(await source.pathExists(d, "units/app.service")).toBe(false);
  });

  test("a targetPath missing at both commits gives [] and pathExists says so", async () => {
    const { source, first } = await setup({ "apps/a.yaml": "a" });
    expect(await source.diff(null, first, { targetPath: "nope" })).toEqual([]);
    expect(await source.pathExists(first, "nope")).toBe(false);
    expect(await source.pathExists(first, "apps")).toBe(true);
    expect(await source.pathExists(first, "./apps/a.yaml")).toBe(true);
    expect(await source.pathExists(first, "")).toBe(true);
  });

  test("targetPath is literal (no pathspec magic) and odd file names survive", async () => {
    const { source, first } = await setup({
      "apps[1]/ünï cödé 空白.yaml": "u",
      "apps[1]/tab\tand\nnewline.yaml": "t",
      "apps1/not-me.yaml": "n",
      "apps*/not-me.yaml": "n",
    });
    const changes = await source.diff(null, first, { targetPath: "apps[1]" });
    expect(changes.map((c) => c.relPath).sort()).toEqual(["tab\tand\nnewline.yaml", "ünï cödé 空白.yaml"]);
    for (const c of changes) expect((await source.readBlob(c.blob!)).length).toBe(1);
  });

  test("symlinks and mode changes are reported with their modes", async () => {
    const remote = await createRemote({ "s/run.sh": "#!/bin/sh\n", "s/link": { symlink: "run.sh" } });
    const t = tracedSource(remote.url);
    const a = await t.source.fetch();
    const initial = await t.source.diff(null, a, { targetPath: "s" });
    const link = initial.find((c) => c.relPath === "link")!;
    expect(link.mode).toBe("120000");
    expect((await t.source.readBlob(link.blob!)).toString()).toBe("run.sh");
    await remote.git.raw(["update-index", "--chmod=+x", "s/run.sh"]);
    await remote.git.raw(["commit", "-qm", "chmod"]);
    const b = await t.source.fetch();
    const changes = await t.source.diff(a, b, { targetPath: "s" });
    expect(changes).toEqual([expect.objectContaining({ status: "modified", relPath: "run.sh", oldMode: "100644", mode: "100755" })]);
  });

  test("unknown commits and malformed ids are GitErrors", async () => {
    const { source, first } = await setup({ "a.txt": "a" });
    expect(source.diff("0".repeat(40), first, { targetPath: "" })).rejects.toThrow("cannot diff");
    expect(source.diff(null, "--output=/tmp/x", { targetPath: "" })).rejects.toThrow("invalid commit id");
  });
});
