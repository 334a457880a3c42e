/** Which run results become webhook events (pure logic; the deliveries themselves: webhooks.test.ts). */
import { expect, test } from "bun:test";
import { RunEvents } from "../../src/notify/events.ts";

const method = { key: { target: "web", kind: "raw", method: "app" }, kind: "raw" };
const prune = { key: { target: "(global)", kind: "prune", method: "prune" }, kind: "prune" };
const image = { key: { target: "(images)", kind: "images", method: "app.tar" }, kind: "images" };
const fail = (msg: string, commit = "c1") => ({ status: "failed" as const, commit, changed: 0, failures: [{ file: "raw/app.json", error: new Error(msg) }] });

test("a failure is sent once until it changes or the method recovers", () => {
  const ev = new RunEvents();
  expect(ev.events(method, fail("image not found"))).toEqual([
    { event: "apply-failed", target: "web", method: "raw/app", commit: "c1", summary: "raw/app.json: image not found" },
  ]);
  expect(ev.events(method, fail("image not found"))).toEqual([]);
  expect(ev.events(method, { status: "skipped", changed: 0, failures: [] })).toEqual([]); // back-off
  expect(ev.events(method, fail("image not found"))).toEqual([]);
  expect(ev.events(method, fail("image not found", "c2"))).toHaveLength(1); // a new commit failing
  expect(ev.events(method, fail("podman down", "c2"))).toHaveLength(1); // another error
  expect(ev.events(method, { status: "applied", commit: "c3abcdef12345", changed: 2, failures: [] })).toEqual([
    { event: "apply-succeeded", target: "web", method: "raw/app", commit: "c3abcdef12345", summary: "commit c3abcdef1 applied; 2 change(s) on the host" },
  ]);
  expect(ev.events(method, fail("podman down", "c2"))).toHaveLength(1); // failing again after a recovery
});

test("drift repaired on an unchanged run; nothing for a quiet tick; tasks: failures, and loaded images only", () => {
  const ev = new RunEvents();
  expect(ev.events(method, { status: "unchanged", commit: "c1", changed: 0, failures: [] })).toEqual([]);
  expect(ev.events(method, { status: "unchanged", commit: "c1", changed: 1, failures: [] })).toEqual([
    { event: "drift-repaired", target: "web", method: "raw/app", commit: "c1", summary: "1 resource(s) recreated from commit c1" },
  ]);
  expect(ev.events(prune, { status: "applied", changed: 5, failures: [] })).toEqual([]);
  expect(ev.events(image, { status: "applied", changed: 1, failures: [] })[0]?.summary).toBe("image loaded; 1 change(s) on the host");
  expect(ev.events(prune, { status: "failed", changed: 0, failures: [{ file: undefined, error: new Error("podman down") }] })[0]).toMatchObject({
    event: "apply-failed",
    target: "(global)",
    method: "prune/prune",
    summary: "podman down",
  });
});

test("credentials in error messages are masked in the summary; extra failures are counted", () => {
  const ev = new RunEvents();
  const r = { status: "failed" as const, changed: 0, failures: [{ file: undefined, error: new Error("fetch https://bob:tok@git.example/r.git failed\nmore") }, { file: "x", error: "y" }] };
  expect(ev.events(method, r)[0]?.summary).toBe("fetch https://***@git.example/r.git failed (and 1 more failure(s))");
});
