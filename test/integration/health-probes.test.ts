/**
 * The method-independent gates, with the filetransfer method (its only gates)
 * through `fetchit sync`: a host command run after the window (exit code,
 * output, timeout that kills it, FETCHIT_* variables) and an http URL that
 * must answer 2xx by the end of the window (a local Bun.serve).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";

const ft = (dest: string, health: string) =>
  `    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n        health:\n${health
    .split("\n")
    .map((l) => `          ${l}`)
    .join("\n")}\n`;

async function sync(h: Harness) {
  const t0 = Date.now();
  const r = await h.cli("sync");
  const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
  return { code: r.code, seconds: (Date.now() - t0) / 1000, st };
}

describe("command and http gates", () => {
  let remote: TestRemote;
  let dest: string;
  let h: Harness;
  let server: ReturnType<typeof Bun.serve> | undefined;
  beforeEach(async () => {
    remote = await createRemote({ "files/app.conf": "v=1\n" });
    dest = join(tempDir("fetchit-health-"), "dest");
  });
  afterEach(() => {
    server?.stop(true);
    server = undefined;
  });

  test("a failing command gate fails the apply after the window, with its exit code and output; the files stay", async () => {
    h = harness(undefined, targetConfig(remote.url, ft(dest, 'window: 1s\nrollback: false\ncommand: "echo app-not-ready >&2; exit 3"')));
    const r = await sync(h);
    expect(r.code).toBe(1);
    expect(r.seconds).toBeGreaterThanOrEqual(1);
    expect(r.st.lastError.message).toContain("health gate: command `echo app-not-ready >&2; exit 3` exited with code 3");
    expect(r.st.lastError.message).toContain("app-not-ready");
    expect(r.st.appliedCommit).toBe(await remote.head());
    expect(readFileSync(join(dest, "app.conf"), "utf8")).toBe("v=1\n");
  });

  test("a passing command (argv list) sees FETCHIT_TARGET and FETCHIT_METHOD and the placed file", async () => {
    const check = `test "$FETCHIT_TARGET/$FETCHIT_METHOD" = t1/filetransfer/files && grep -q v=1 ${dest}/app.conf`;
    h = harness(undefined, targetConfig(remote.url, ft(dest, `window: 0\ncommand: [/bin/sh, -c, '${check}']`)));
    const r = await sync(h);
    expect(r.code).toBe(0);
    expect(r.st.lastError).toBeNull();
  });

  test("a command that outlives its timeout is killed with what it started", async () => {
    const pidFile = join(tempDir("fetchit-health-"), "child.pid");
    h = harness(undefined, targetConfig(remote.url, ft(dest, `window: 0\ntimeout: 1s\ncommand: "sleep 60 & echo $! > ${pidFile}; wait"`)));
    const r = await sync(h);
    expect(r.code).toBe(1);
    expect(r.seconds).toBeLessThan(15);
    expect(r.st.lastError.message).toContain("did not finish within its 1s timeout and was killed");
    const child = Number(readFileSync(pidFile, "utf8"));
    await Bun.sleep(300);
    // Gone, or a zombie nobody reaped yet (PID 1 of a container may not): not running either way.
    const state = existsSync(`/proc/${child}`) ? readFileSync(`/proc/${child}/stat`, "utf8").split(") ")[1]?.[0] ?? "?" : "gone";
    expect(["gone", "Z", "X"]).toContain(state);
  });

  test("an http gate passes once the URL answers 2xx within the window", async () => {
    const ready = Date.now() + 1500;
    let asked = 0;
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (asked++, new Response("", { status: Date.now() > ready ? 204 : 503 })) });
    h = harness(undefined, targetConfig(remote.url, ft(dest, `window: 4s\nhttp: http://127.0.0.1:${server.port}/ready`)));
    const r = await sync(h);
    expect(r.code).toBe(0);
    expect(asked).toBeGreaterThanOrEqual(2);
    expect(asked).toBeLessThanOrEqual(6); // once a second, not a busy loop
  });

  test("an http gate that never answers 2xx fails at the end of the window with the last status", async () => {
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("down", { status: 503 }) });
    h = harness(undefined, targetConfig(remote.url, ft(dest, `window: 2s\nrollback: false\nhttp: http://127.0.0.1:${server.port}/ready`)));
    const r = await sync(h);
    expect(r.code).toBe(1);
    expect(r.seconds).toBeGreaterThanOrEqual(2);
    expect(r.st.lastError.message).toContain(`http://127.0.0.1:${server.port}/ready did not answer with a 2xx status within the 2s window (last: HTTP 503`);
  });
});
