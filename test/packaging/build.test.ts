/**
 * build.ts: the three compiled binaries (built once through `bun build.ts`,
 * or reused from dist/ when newer than every source), their ELF headers, and
 * `fetchit version` run natively (x64) and under qemu-aarch64-static (arm64).
 * build.ts's own checks must fail loudly on a wrong binary.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { binaryPath, BuildError, gitCommit, readElfHeader, ROOT, rpmVersion, runnerFor, TARGETS, verify, type Target } from "../../build.ts";
import { createScratchDir, run } from "../support/exec.ts";

const ALL = Object.keys(TARGETS) as Target[];
const MACHINE: Record<Target, number> = { "linux-x64": 0x3e, "linux-x64-baseline": 0x3e, "linux-arm64": 0xb7 };

/** qemu and an aarch64 glibc: CI must have them (prepare.sh); elsewhere the arm64 run is skipped. */
const missingQemu = (() => {
  if (process.arch !== "x64") return [];
  const missing: string[] = [];
  if (!Bun.which("qemu-aarch64-static") && !Bun.which("qemu-aarch64")) missing.push("qemu-user-static");
  if (!existsSync("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1") && !existsSync("/lib/ld-linux-aarch64.so.1")) missing.push("libc6-arm64-cross");
  return missing;
})();
const canRunArm64 = missingQemu.length === 0;
/** What this host can build and check: everything, unless qemu is missing outside CI. */
const TESTED = canRunArm64 || process.env.CI ? ALL : ALL.filter((t) => t !== "linux-arm64");
/** The x64 build that runs on any x86-64 (the default one needs AVX2). */
const NATIVE: Target = process.arch === "arm64" ? "linux-arm64" : "linux-x64-baseline";

let sha: string;
let buildOutput = "";
beforeAll(async () => {
  sha = await gitCommit();
  // Always a fresh build (a few seconds once Bun has the cross-compile
  // runtimes), through the real command line; build.ts refuses an arm64
  // binary it cannot run, so without qemu (outside CI) only x64 is built.
  const r = await run([process.execPath, "build.ts", ...(TESTED === ALL ? [] : TESTED)], { cwd: ROOT });
  buildOutput = r.stdout + r.stderr;
  if (r.code !== 0) throw new Error(`bun build.ts exited ${r.code}:\n${buildOutput}`);
}, 600_000);

test("the tools to run the arm64 binary are installed (CI must have them)", () => {
  if (!canRunArm64 && process.env.CI) throw new Error(`missing ${missingQemu.join(", ")}: run bash test/support/prepare.sh`);
  if (!canRunArm64) console.warn(`skipping the arm64 run: missing ${missingQemu.join(", ")} (bash test/support/prepare.sh installs them)`);
});

describe.each(ALL)("%s", (target) => {
  const skip = !TESTED.includes(target);

  test.skipIf(skip)("exists, is an ELF64 little-endian executable for its machine, of a sane size", () => {
    const path = binaryPath(target);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o111).not.toBe(0);
    const elf = readElfHeader(path);
    expect(elf).toEqual({ elf64: true, littleEndian: true, machine: MACHINE[target] });
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(30e6);
    expect(size).toBeLessThan(300e6);
    console.log(`${target}: ${(size / 1e6).toFixed(1)} MB`);
  });

  test.skipIf(skip)(`\`fetchit version\` ${target === "linux-arm64" ? "under qemu" : "natively"} names the version, the commit and bun`, async () => {
    const runner = runnerFor(target);
    expect(runner.length > 0).toBe(target === "linux-arm64" && process.arch === "x64");
    const started = performance.now();
    const r = await run([...runner, binaryPath(target), "version"]);
    const ms = performance.now() - started;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`fetchit ${pkg.version} (commit ${sha}, bun ${Bun.version})`);
    console.log(`${target}: version in ${Math.round(ms)} ms${runner.length ? ` (${runner.join(" ")})` : ""}`);
  });
});

test("bun build.ts builds and checks every target, and says so", () => {
  const lines = buildOutput.trim().split("\n");
  expect(lines).toHaveLength(TESTED.length);
  TESTED.forEach((t, i) => {
    const how = t === "linux-arm64" && process.arch === "x64" ? "qemu version" : "version";
    expect(lines[i]).toMatch(new RegExp(`^built \\S+/dist/fetchit-${t} \\(\\d+\\.\\d MB, fetchit ${pkg.version}, commit ${sha}; ${how} \\d+ ms\\)$`));
  });
});

test("the compiled binary ignores .env and bunfig.toml in its working directory", async () => {
  const dir = createScratchDir("fetchit-build-env-");
  writeFileSync(join(dir, ".env"), 'FETCHIT_CONFIG="targetConfigs: []"\n');
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./nonexistent.ts"]\n');
  const env = { HOME: join(dir, "home"), FETCHIT_CONFIG: undefined, XDG_STATE_HOME: undefined };
  const r = await run([binaryPath(NATIVE), "validate"], { cwd: dir, env });
  // Had .env been loaded, FETCHIT_CONFIG would hold a valid config.
  expect(r.code).toBe(1);
  expect(r.stdout).toContain("$FETCHIT_CONFIG (not set)");
});

describe("build.ts's checks fail loudly", () => {
  const dir = createScratchDir("fetchit-build-verify-");

  test("a binary for the wrong machine", async () => {
    const fake = join(dir, "wrong-machine");
    copyFileSync(binaryPath(NATIVE), fake);
    if (NATIVE === "linux-arm64") await expect(verify("linux-x64", pkg.version, sha, fake)).rejects.toThrow(/e_machine 0xb7, expected 0x3e \(x86-64\)/);
    else await expect(verify("linux-arm64", pkg.version, sha, fake)).rejects.toThrow(/e_machine 0x3e, expected 0xb7 \(aarch64\)/);
  });

  test("a binary that names another commit", async () => {
    await expect(verify(NATIVE, pkg.version, "0123456789ab")).rejects.toThrow(/expected it to start with "fetchit [^"]+ \(commit 0123456789ab, bun /);
  });

  test("no ELF, or too small", async () => {
    const script = join(dir, "script");
    writeFileSync(script, "#!/bin/sh\necho fetchit\n", { mode: 0o755 });
    await expect(verify("linux-x64", pkg.version, sha, script)).rejects.toThrow(BuildError);
    await expect(verify("linux-x64", pkg.version, sha, script)).rejects.toThrow(/is not an ELF file/);
    const tiny = join(dir, "tiny");
    const header = new Uint8Array(64);
    header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    header.set([0x3e, 0], 18);
    writeFileSync(tiny, header);
    await expect(verify("linux-x64", pkg.version, sha, tiny)).rejects.toThrow(/size 64 bytes, expected 30–300 MB/);
  });

  test("an unknown target or option exits 1 with the list of targets", async () => {
    const r = await run([process.execPath, "build.ts", "linux-riscv64"], { cwd: ROOT });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown target linux-riscv64; known: linux-x64, linux-x64-baseline, linux-arm64");
    const o = await run([process.execPath, "build.ts", "--rpms"], { cwd: ROOT });
    expect(o.code).toBe(1);
    expect(o.stderr).toContain("unknown option --rpms");
  });
});

test("a subset builds only the targets named", async () => {
  const before = statSync(binaryPath("linux-arm64")).mtimeMs;
  const r = await run([process.execPath, "build.ts", "linux-x64"], { cwd: ROOT });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split("\n")).toEqual([
    expect.stringMatching(new RegExp(`^built .*/dist/fetchit-linux-x64 \\(\\d+\\.\\d MB, fetchit ${pkg.version}, commit ${sha}; version \\d+ ms\\)$`)),
  ]);
  expect(statSync(binaryPath("linux-arm64")).mtimeMs).toBe(before);
}, 120_000);

test("RPM versions: a pre-release sorts before its release", () => {
  expect(rpmVersion("0.1.0")).toBe("0.1.0");
  expect(rpmVersion("0.2.0-rc.1")).toBe("0.2.0~rc.1");
});
