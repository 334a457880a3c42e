/**
 * The branches of quadlet detection and the dry run that this machine and the
 * testbed cannot show for real (no Podman at all, Podman 4.4+ without the
 * generator, generators without some flags), with a scripted Exec. The real
 * cases are in test/systemd: the host's Podman 4.3 (quadlet-podman43) and
 * Podman 5.4's generator (quadlet.test.ts).
 */
import { describe, expect, test } from "bun:test";
import type { Exec, ExecResult } from "../../src/host/exec.ts";
import { detectQuadlet, dryRun } from "../../src/methods/quadlet-host.ts";

/** An Exec answering from a table keyed by "cmd args..."; a missing key throws like spawning a missing binary. */
function scripted(table: Record<string, ExecResult>, calls: string[] = []): Exec {
  return async (cmd, args) => {
    const key = [cmd, ...args].join(" ");
    calls.push(key);
    const r = table[key];
    if (!r) throw new Error(`ENOENT: ${cmd}`);
    return r;
  };
}
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

describe("detectQuadlet", () => {
  test("no podman at all", async () => {
    await expect(detectQuadlet(scripted({}))).rejects.toThrow("quadlet needs Podman 4.4 or later; podman is not installed (not found in PATH)");
  });

  test("Podman 4.9 without the generator binary names the paths looked at", async () => {
    const exec = scripted({ "podman --version": ok("podman version 4.9.3\n") });
    await expect(detectQuadlet(exec, ["/a/quadlet", "/b/quadlet"])).rejects.toThrow("this host has Podman 4.9.3 but no generator at /a/quadlet or /b/quadlet");
  });

  test("the first generator that answers -version is used; the error is retryable (a host prerequisite)", async () => {
    const exec = scripted({ "podman --version": ok("podman version 5.0.0\n"), "/b/quadlet -version": ok("5.0.0\n") });
    expect(await detectQuadlet(exec, ["/a/quadlet", "/b/quadlet"])).toEqual({ podmanVersion: "5.0.0", generator: "/b/quadlet" });
    const err = await detectQuadlet(scripted({ "podman --version": ok("podman version 4.3.1\n") })).catch((e) => e);
    expect(err.retryable).toBe(true);
  });
});

describe("dryRun", () => {
  const host = { podmanVersion: "4.4.0", generator: "/q" };
  const unknown = (flag: string): ExecResult => ({ code: 2, stdout: "", stderr: `flag provided but not defined: ${flag}\nUsage of /q:\n` });

  test("a generator without -no-kmsg-log is asked again without it", async () => {
    const calls: string[] = [];
    const exec = scripted({ "/q -dryrun -no-kmsg-log -user": unknown("-no-kmsg-log"), "/q -dryrun -user": ok("---a.service---\nSourcePath=/s/a.container\n") }, calls);
    const r = await dryRun(exec, host, ["/s"], true);
    expect([...r!.services]).toEqual([["a.service", "/s/a.container"]]);
    expect(calls).toEqual(["/q -dryrun -no-kmsg-log -user", "/q -dryrun -user"]);
  });

  test("a generator without -dryrun: no dry run (undefined)", async () => {
    const exec = scripted({ "/q -dryrun -no-kmsg-log": unknown("-no-kmsg-log"), "/q -dryrun": unknown("-dryrun") });
    expect(await dryRun(exec, host, ["/s"], false)).toBeUndefined();
  });
});
