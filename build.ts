/**
 * Compiles fetchit into single-file executables with `bun build --compile`,
 * checks each one, and packages them as RPMs.
 *
 *   bun build.ts                       every target in TARGETS → dist/fetchit-<target>
 *   bun build.ts linux-x64             only the targets named
 *   bun build.ts --rpm [--release N]   dist/rpm/fetchit-<version>-<N>.{x86_64,aarch64}.rpm
 *                                      (builds the binaries they need when missing or stale;
 *                                      --best: zstd level 19, ~10% smaller, a minute per arch)
 *   bun build.ts linux-arm64 --rpm     build that binary, then the RPMs
 *
 * Every binary is checked after the build: an ELF64 little-endian file for the
 * right machine (x86-64 or aarch64), a sane size, and `fetchit version` run
 * (natively for x64, under qemu-aarch64-static for arm64) must name the
 * version and commit. Any failure exits non-zero with the reason.
 */
import { $ } from "bun";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "./package.json" with { type: "json" };

/** Targets we ship: name → Bun compile target. */
export const TARGETS = {
  "linux-x64": "bun-linux-x64",
  "linux-x64-baseline": "bun-linux-x64-baseline",
  "linux-arm64": "bun-linux-arm64",
} as const;
export type Target = keyof typeof TARGETS;

/** ELF e_machine each target must carry. */
const ELF_MACHINE: Record<Target, { code: number; name: string }> = {
  "linux-x64": { code: 0x3e, name: "x86-64" },
  "linux-x64-baseline": { code: 0x3e, name: "x86-64" },
  "linux-arm64": { code: 0xb7, name: "aarch64" },
};

/**
 * RPM architecture → the binary it ships. x86_64 gets the baseline build: the
 * default bun-linux-x64 needs AVX2 (Haswell, 2013, or later) and dies with
 * SIGILL on older CPUs and on VMs that hide AVX2; the baseline build runs on
 * any x86-64 (RHEL 9's x86-64-v2 included) and fetchit is not CPU-bound.
 */
export const RPM_ARCHES = { x86_64: "linux-x64-baseline", aarch64: "linux-arm64" } as const satisfies Record<string, Target>;
export type RpmArch = keyof typeof RPM_ARCHES;

/** A compiled Bun binary is the runtime plus the bundle: well above 30 MB, well below 300 MB. */
const MIN_SIZE = 30e6;
const MAX_SIZE = 300e6;

/** Inputs whose change makes a binary in dist/ stale (src/ embeds examples/ and the packaging files). */
const SOURCES = ["src", "examples", "packaging/systemd", "packaging/config.yaml", "package.json", "package-lock.json", "build.ts", "tsconfig.json"];

export const ROOT = import.meta.dir;
export const SPEC = join(ROOT, "packaging/rpm/fetchit.spec");

export function binaryPath(target: Target): string {
  return join(ROOT, "dist", `fetchit-${target}`);
}

/** The commit embedded in binaries: `git rev-parse --short=12 HEAD`, "unknown" outside git. */
export async function gitCommit(): Promise<string> {
  const r = await $`git rev-parse --short=12 HEAD`.cwd(ROOT).nothrow().quiet();
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

/**
 * Compiles one target into dist/fetchit-<target>: into a temporary file first,
 * renamed into place, so a binary that is running or being read (a parallel
 * test, a testbed mounting dist/) is replaced, never half-written.
 */
export async function build(target: Target, sha: string): Promise<string> {
  const final = binaryPath(target);
  const outfile = join(ROOT, "dist", `.fetchit-${target}.${process.pid}.tmp`);
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  try {
    await compile(target, sha, outfile);
    renameSync(outfile, final);
  } finally {
    rmSync(outfile, { force: true });
  }
  return final;
}

async function compile(target: Target, sha: string, outfile: string): Promise<void> {
  const res = await Bun.build({
    entrypoints: [join(ROOT, "src/main.ts")],
    compile: {
      target: TARGETS[target],
      outfile,
      // A system daemon must not pick up .env or bunfig.toml from whatever
      // directory it happens to be started in.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    minify: true,
    sourcemap: "none",
    define: { FETCHIT_COMMIT: JSON.stringify(sha) },
  });
  if (!res.success) {
    for (const log of res.logs) console.error(log);
    throw new BuildError(`build of ${target} (${TARGETS[target]}) failed`);
  }
  if (!existsSync(outfile)) throw new BuildError(`build of ${target} (${TARGETS[target]}) reported success but wrote no ${outfile}`);
}

export class BuildError extends Error {}

/** What the ELF header says. */
export interface ElfHeader {
  elf64: boolean;
  littleEndian: boolean;
  machine: number;
}

/** Reads the ELF identification and e_machine; throws when the file is no ELF. */
export function readElfHeader(path: string): ElfHeader {
  const buf = new Uint8Array(20);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.length < 20 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw new BuildError(`${path} is not an ELF file`);
  }
  const littleEndian = buf[5] === 1;
  const machine = littleEndian ? buf[18]! | (buf[19]! << 8) : (buf[18]! << 8) | buf[19]!;
  return { elf64: buf[4] === 2, littleEndian, machine };
}

/** The command that runs a binary of this target on this host (qemu for arm64 on x86-64). */
export function runnerFor(target: Target): string[] {
  if (ELF_MACHINE[target].code === hostMachine()) return [];
  const qemu = ["qemu-aarch64-static", "qemu-aarch64"].map((c) => Bun.which(c)).find((p) => p);
  if (!qemu) {
    throw new BuildError(
      `cannot run the ${target} binary: qemu-aarch64-static not found (Debian: apt-get install qemu-user-static libc6-arm64-cross)`,
    );
  }
  // The binary is dynamically linked against glibc: point qemu at an aarch64
  // sysroot (Debian's libc6-arm64-cross) unless the host has multiarch arm64 libc.
  if (existsSync("/lib/ld-linux-aarch64.so.1")) return [qemu];
  if (existsSync("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1")) return [qemu, "-L", "/usr/aarch64-linux-gnu"];
  throw new BuildError(
    `cannot run the ${target} binary under ${qemu}: no aarch64 glibc (Debian: apt-get install libc6-arm64-cross)`,
  );
}

function hostMachine(): number {
  return process.arch === "arm64" ? 0xb7 : process.arch === "x64" ? 0x3e : -1;
}

/** bun-linux-x64 (not baseline) needs AVX2; a host without it cannot run that build. */
function hostLacksAvx2(): boolean {
  if (process.arch !== "x64") return false;
  try {
    return !/^flags\s*:.*\bavx2\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

export interface Verified {
  target: Target;
  path: string;
  size: number;
  /** `fetchit version` output, or null when the host cannot run this build. */
  versionLine: string | null;
  /** Wall time of `fetchit version` in ms (under qemu for arm64). */
  versionMs: number;
  runner: string[];
}

/**
 * Checks a built binary: ELF64 little-endian for the target's machine, a sane
 * size, and `fetchit version` naming `version` and `sha`. Throws BuildError.
 */
export async function verify(target: Target, version: string, sha: string, path: string = binaryPath(target)): Promise<Verified> {
  if (!existsSync(path)) throw new BuildError(`${path} is missing`);
  const size = statSync(path).size;
  const elf = readElfHeader(path);
  const want = ELF_MACHINE[target];
  const problems: string[] = [];
  if (!elf.elf64) problems.push("not ELF64");
  if (!elf.littleEndian) problems.push("not little-endian");
  if (elf.machine !== want.code) problems.push(`e_machine 0x${elf.machine.toString(16)}, expected 0x${want.code.toString(16)} (${want.name})`);
  if (size < MIN_SIZE || size > MAX_SIZE) problems.push(`size ${size} bytes, expected ${MIN_SIZE / 1e6}–${MAX_SIZE / 1e6} MB`);
  if (problems.length) throw new BuildError(`${path}: ${problems.join("; ")}`);

  if (target === "linux-x64" && hostLacksAvx2()) {
    console.warn(`warning: this CPU lacks AVX2, which ${TARGETS[target]} needs: ${path} checked by its ELF header only, not run`);
    return { target, path, size, versionLine: null, versionMs: 0, runner: [] };
  }
  const runner = runnerFor(target);
  const started = performance.now();
  const proc = Bun.spawnSync([...runner, path, "version"], { stdout: "pipe", stderr: "pipe", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
  const versionMs = performance.now() - started;
  const out = proc.stdout.toString().trim();
  const how = runner.length ? `under ${runner.join(" ")}` : "natively";
  if (proc.exitCode !== 0) {
    throw new BuildError(`${path} version (${how}) exited ${proc.exitCode ?? proc.signalCode}: ${(out + " " + proc.stderr.toString()).trim()}`);
  }
  const expected = `fetchit ${version} (commit ${sha}, bun `;
  if (!out.startsWith(expected)) {
    throw new BuildError(`${path} version (${how}) printed ${JSON.stringify(out)}, expected it to start with ${JSON.stringify(expected)}`);
  }
  return { target, path, size, versionLine: out, versionMs, runner };
}

/** Newest mtime among the inputs of a build. */
function newestSource(): number {
  let newest = 0;
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const s of SOURCES) walk(join(ROOT, s));
  return newest;
}

/** True when dist/fetchit-<target> exists and is newer than every source file. */
export function isFresh(target: Target): boolean {
  const path = binaryPath(target);
  return existsSync(path) && statSync(path).mtimeMs >= newestSource();
}

/**
 * Builds the targets that are missing or stale (or all of `force`), verifies
 * every one of `targets`, and rebuilds once a binary that fails verification
 * although it was reused (e.g. built from another commit).
 */
export async function ensureBinaries(targets: Target[], opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<Verified[]> {
  const log = opts.log ?? console.log;
  const sha = await gitCommit();
  const out: Verified[] = [];
  for (const t of targets) {
    let built = false;
    if (opts.force || !isFresh(t)) {
      await build(t, sha);
      built = true;
    }
    let v: Verified;
    try {
      v = await verify(t, pkg.version, sha);
    } catch (e) {
      if (built) throw e;
      await build(t, sha);
      built = true;
      v = await verify(t, pkg.version, sha);
    }
    const ran = v.versionLine === null ? "not run" : `${v.runner.length ? "qemu " : ""}version ${Math.round(v.versionMs)} ms`;
    log(`${built ? "built" : "reused"} ${v.path} (${(v.size / 1e6).toFixed(1)} MB, fetchit ${pkg.version}, commit ${sha}; ${ran})`);
    out.push(v);
  }
  return out;
}

/** RPM Version: package.json's version with "-" (a pre-release) as "~", which sorts before the release. */
export function rpmVersion(version: string = pkg.version): string {
  return version.replace(/-/g, "~");
}

function checkRelease(release: string): void {
  if (!/^[0-9A-Za-z._+~^]+$/.test(release)) throw new BuildError(`bad RPM release ${JSON.stringify(release)}: letters, digits and . _ + ~ ^ only`);
}

export function rpmPath(arch: RpmArch, release = "1"): string {
  return join(ROOT, "dist", "rpm", `fetchit-${rpmVersion()}-${release}.${arch}.rpm`);
}

/**
 * Builds dist/rpm/fetchit-<version>-<release>.<arch>.rpm from the compiled
 * binary (which must exist) with rpmbuild in a temporary _topdir. Nothing is
 * compiled inside rpmbuild.
 */
export async function buildRpm(arch: RpmArch, release = "1", opts: { best?: boolean } = {}): Promise<string> {
  const rpmbuild = Bun.which("rpmbuild");
  if (!rpmbuild) throw new BuildError("rpmbuild not found (Debian: apt-get install rpm; Fedora: dnf install rpm-build)");
  checkRelease(release);
  const binary = binaryPath(RPM_ARCHES[arch]);
  if (!existsSync(binary)) throw new BuildError(`${binary} is missing: run bun build.ts ${RPM_ARCHES[arch]}`);

  const top = mkdtempSync(join(tmpdir(), "fetchit-rpm-"));
  try {
    const sources = join(top, "SOURCES");
    mkdirSync(sources, { recursive: true });
    const inputs: [string, string][] = [
      [binary, `fetchit-${RPM_ARCHES[arch]}`],
      ["packaging/systemd/fetchit.service", "fetchit.service"],
      ["packaging/systemd/fetchit-user.service", "fetchit-user.service"],
      ["packaging/config.yaml", "config.yaml"],
      ["LICENSE", "LICENSE"],
      ["README.md", "README.md"],
    ];
    for (const [from, to] of inputs) copyFileSync(resolve(ROOT, from), join(sources, to));

    const sha = await gitCommit();
    const epoch = (await $`git log -1 --format=%ct`.cwd(ROOT).nothrow().quiet()).stdout.toString().trim();
    const defines = {
      _topdir: top,
      fetchit_version: rpmVersion(),
      fetchit_release: release,
      fetchit_commit: sha,
      // Reproducible: build time and file times from the commit, not the clock.
      use_source_date_epoch_as_buildtime: "1",
      clamp_mtime_to_source_date_epoch: "1",
      ...(opts.best ? { fetchit_payload: "w19T.zstdio" } : {}),
    };
    const args = [rpmbuild, "-bb", "--quiet", "--target", arch, ...Object.entries(defines).flatMap(([k, v]) => ["--define", `${k} ${v}`]), SPEC];
    const proc = Bun.spawnSync(args, {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, SOURCE_DATE_EPOCH: /^\d+$/.test(epoch) ? epoch : String(Math.floor(Date.now() / 1000)), LC_ALL: "C" },
    });
    if (proc.exitCode !== 0) {
      throw new BuildError(`rpmbuild for ${arch} failed (exit ${proc.exitCode}):\n${proc.stdout.toString()}${proc.stderr.toString()}`);
    }
    const built = join(top, "RPMS", arch, `fetchit-${rpmVersion()}-${release}.${arch}.rpm`);
    if (!existsSync(built)) throw new BuildError(`rpmbuild for ${arch} succeeded but ${built} is missing`);
    const dest = rpmPath(arch, release);
    mkdirSync(join(ROOT, "dist", "rpm"), { recursive: true });
    try {
      renameSync(built, dest);
    } catch {
      copyFileSync(built, dest);
    }
    return dest;
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  let rpm = false;
  let best = false;
  let release = process.env.FETCHIT_RPM_RELEASE || "1";
  const named: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--rpm") rpm = true;
    else if (a === "--best") best = true;
    else if (a === "--release") release = argv[++i] ?? "";
    else if (a.startsWith("--release=")) release = a.slice("--release=".length);
    else if (a === "-h" || a === "--help") {
      console.log("usage: bun build.ts [TARGET...] [--rpm [--release N] [--best]]\ntargets: " + Object.keys(TARGETS).join(", "));
      return;
    } else if (a.startsWith("-")) throw new BuildError(`unknown option ${a}; see bun build.ts --help`);
    else named.push(a);
  }
  for (const t of named) if (!(t in TARGETS)) throw new BuildError(`unknown target ${t}; known: ${Object.keys(TARGETS).join(", ")}`);
  if (rpm) checkRelease(release);

  if (named.length || !rpm) await ensureBinaries((named.length ? named : Object.keys(TARGETS)) as Target[], { force: true });
  if (!rpm) return;
  // The RPMs need their binaries: build those missing or stale, verify the rest.
  await ensureBinaries(Object.values(RPM_ARCHES).filter((t) => !named.includes(t)));
  for (const arch of Object.keys(RPM_ARCHES) as RpmArch[]) {
    const started = performance.now();
    const out = await buildRpm(arch, release, { best });
    console.log(`built ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}

if (import.meta.main) {
  try {
    await main(Bun.argv.slice(2));
  } catch (e) {
    console.error(`build.ts: ${e instanceof BuildError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  }
}
