/**
 * `fetchit plan`: every change kind (create, replace because the spec changed,
 * remove because the file was deleted, drift, unchanged) against the real
 * Podman service and real git, exit codes 0/2/1, the --json shape, and proof
 * that nothing on the host changed: the Podman listing, the destination files
 * and the state records are byte-for-byte the same after a plan.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PlanReport } from "../../src/cli/plan.ts";
import { harness, SLEEPER, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const spec = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, ...extra });
const rawMethod = `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n`;

/** Everything a plan must not change: containers (id, state), state records (bytes), files under `dir` (bytes, mtime). */
async function hostSnapshot(stateDir: string, dir?: string) {
  // Podman 4.3's ps state reads "Up 1 second ago": keep the id and whether it runs, not the clock.
  const containers = (await podman.cli(["ps", "-a", "--format", "{{.Names}} {{.ID}} {{.State}}"])).split("\n").filter(Boolean).map((l) => l.replace(/ Up .*$/i, " running")).sort();
  const files = (root: string) =>
    existsSync(root) ? readdirSync(root, { recursive: true, encoding: "utf8" }).sort().map((f) => [f, statSync(join(root, f)).isFile() ? `${readFileSync(join(root, f), "base64")} ${statSync(join(root, f)).mtimeMs}` : "dir"]) : [];
  return { containers, state: files(join(stateDir, "state")), runtime: existsSync(join(stateDir, "runtime.json")), dest: dir ? files(dir) : [] };
}

const planJson = async (h: ReturnType<typeof harness>, ...args: string[]) => {
  const r = await h.cli("plan", "--json", ...args);
  return { code: r.code, report: JSON.parse(r.out.join("\n")) as PlanReport };
};
const byFile = (report: PlanReport) => Object.fromEntries(report.methods[0]!.items.map((i) => [i.file, `${i.action}: ${i.reason}`]));

test("raw: create before the first apply, then replace (spec changed), remove (deleted), drift and unchanged; nothing on the host changes", async () => {
  const remote = await createRemote({ "raw/a.json": spec("pa"), "raw/b.json": spec("pb"), "raw/c.json": spec("pc"), "raw/d.json": spec("pd") });
  const h = harness(podman, targetConfig(remote.url, rawMethod));

  let before = await hostSnapshot(h.stateDir);
  let { code, report } = await planJson(h);
  expect(code).toBe(2);
  expect(report).toMatchObject({ version: 1, changes: true, summary: { create: 4, replace: 0, remove: 0, unchanged: 0, error: 0 } });
  expect(report.methods[0]).toMatchObject({ target: "t1", kind: "raw", method: "apps", appliedCommit: null, head: await remote.head(), notes: [], error: null });
  expect(report.methods[0]!.items[0]).toEqual({ action: "create", file: "a.json", resource: "pa", reason: "new file" });
  expect(await hostSnapshot(h.stateDir)).toEqual(before);
  expect(before.containers).toEqual([]);

  expect((await h.cli("sync")).code).toBe(0);
  ({ code, report } = await planJson(h));
  expect(code).toBe(0);
  expect(report.changes).toBe(false);
  expect(Object.values(byFile(report))).toEqual(["unchanged: no change", "unchanged: no change", "unchanged: no change", "unchanged: no change"]);

  const next = await remote.commit({ "raw/b.json": spec("pb", { Env: { MODE: "2" } }), "raw/c.json": null, "raw/e.json": spec("pe") }, "change b, drop c, add e");
  await podman.cli(["rm", "-f", "pd"]); // drift: removed out of band
  before = await hostSnapshot(h.stateDir);
  ({ code, report } = await planJson(h));
  expect(code).toBe(2);
  expect(report.methods[0]!.head).toBe(next);
  expect(byFile(report)).toEqual({
    "c.json": "remove: file deleted",
    "e.json": "create: new file",
    "b.json": "replace: spec changed",
    "d.json": "replace: drift",
    "a.json": "unchanged: no change",
  });
  expect(report.summary).toEqual({ create: 1, replace: 2, "take-over": 0, remove: 1, unchanged: 1, error: 0 });
  expect(await hostSnapshot(h.stateDir)).toEqual(before);

  const text = await h.cli("plan");
  expect(text.code).toBe(2);
  expect(text.out).toContain("  ~ replace   b.json (pb): spec changed");
  expect(text.out).toContain("  - remove    c.json (pc): file deleted");
  expect(text.out.at(-1)).toBe("plan: 1 to create, 2 to replace, 1 to remove, 1 unchanged");
  expect(await hostSnapshot(h.stateDir)).toEqual(before);

  // What plan promised is what a run does; afterwards nothing is left to do.
  expect((await h.cli("sync")).code).toBe(0);
  expect((await h.cli("sync")).code).toBe(0); // the drift repair (no new commit)
  const after = (await hostSnapshot(h.stateDir)).containers.map((c) => c.split(" ")[0]);
  expect(after).toEqual(["pa", "pb", "pd", "pe"]);
  expect((await planJson(h)).code).toBe(0);
}, 120_000);

test("raw: drift with selfHeal off is reported, left alone, exit 0", async () => {
  const remote = await createRemote({ "raw/a.json": spec("qa") });
  const h = harness(podman, targetConfig(remote.url, rawMethod + "        selfHeal: false\n"));
  expect((await h.cli("sync")).code).toBe(0);
  await podman.cli(["stop", "-t", "0", "qa"]);
  const { code, report } = await planJson(h);
  expect(code).toBe(0);
  expect(byFile(report)).toEqual({ "a.json": "unchanged: drift (selfHeal off)" });
  expect(report.methods[0]!.notes).toEqual(["selfHeal is off: drifted resources are left as they are"]);
}, 60_000);

test("raw: an invalid spec is an error item (exit 2, the run would fail on it); a renamed file is replaced", async () => {
  const remote = await createRemote({ "raw/a.json": spec("ra") });
  const h = harness(podman, targetConfig(remote.url, rawMethod));
  expect((await h.cli("sync")).code).toBe(0);
  await remote.rename("raw/a.json", "raw/renamed.json");
  await remote.commit({ "raw/bad.json": "{ not json" });
  const before = await hostSnapshot(h.stateDir);
  const { code, report } = await planJson(h);
  expect(code).toBe(2);
  const items = Object.fromEntries(report.methods[0]!.items.map((i) => [i.file, i]));
  expect(items["bad.json"]).toMatchObject({ action: "error", resource: null });
  expect(items["bad.json"]!.reason).toContain("raw/bad.json");
  // raw labels each container with its file, so a rename changes the spec: the container is recreated
  expect(items["renamed.json"]).toEqual({ action: "replace", file: "renamed.json", resource: "ra", reason: "renamed from a.json; spec changed" });
  expect(report.summary).toMatchObject({ error: 1, unchanged: 0, create: 0, replace: 1, remove: 0 });
  expect(await hostSnapshot(h.stateDir)).toEqual(before);
}, 60_000);

test("filetransfer: create, replace (content changed), remove, unchanged; destination files untouched", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n", "files/b.conf": "b=1\n", "files/c.conf": "c=1\n" });
  const dest = join(tempDir("fetchit-plan-dest-"), "etc");
  const method = `    filetransfer:\n      - name: conf\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n`;
  const h = harness(undefined, targetConfig(remote.url, method));
  expect((await h.cli("sync")).code).toBe(0);
  await remote.commit({ "files/a.conf": "a=2\n", "files/c.conf": null, "files/d.conf": "d=1\n" });
  const before = await hostSnapshot(h.stateDir, dest);
  const { code, report } = await planJson(h, "--method", "filetransfer/conf");
  expect(code).toBe(2);
  expect(report.methods[0]!.items).toEqual([
    { action: "remove", file: "c.conf", resource: join(dest, "c.conf"), reason: "file deleted" },
    { action: "create", file: "d.conf", resource: join(dest, "d.conf"), reason: "new file" },
    { action: "replace", file: "a.conf", resource: join(dest, "a.conf"), reason: "content changed" },
    { action: "unchanged", file: "b.conf", resource: join(dest, "b.conf"), reason: "no change" },
  ]);
  expect(await hostSnapshot(h.stateDir, dest)).toEqual(before);
});

test("filetransfer: a changed destinationDirectory re-plans every file; an unreachable repository exits 1; no match exits 1", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n" });
  const root = tempDir("fetchit-plan-dest-");
  const method = (d: string) => `    filetransfer:\n      - name: conf\n        targetPath: files\n        destinationDirectory: ${join(root, d)}\n        schedule: "*/5 * * * * *"\n`;
  const h = harness(undefined, targetConfig(remote.url, method("one")));
  expect((await h.cli("sync")).code).toBe(0);
  h.writeConfig(targetConfig(remote.url, method("two")));
  let { code, report } = await planJson(h);
  expect(code).toBe(2);
  expect(byFile(report)).toEqual({ "a.conf": "replace: method settings changed" });

  h.writeConfig(targetConfig(`file://${join(root, "missing")}`, method("one")));
  ({ code, report } = await planJson(h));
  expect(code).toBe(1);
  expect(report.methods[0]!.error).toBeTruthy();
  await expect(h.cli("plan", "--target", "nope")).rejects.toThrow("no git method matches --target nope");
});
