/**
 * A real systemd for the packaging tests: a container of the image that
 * test/support/systemd-testbed.sh builds (Debian bookworm, systemd 252, user
 * `tester` uid 1000 whose user manager runs). Each call of
 * {@link startSystemdTestbed} starts one, removed by `stop()` or, whatever
 * happens, when the test process ends (scratch-dir watchdog, see exec.ts).
 *
 * - `dir`: a host scratch directory bind-mounted at the same path inside, so
 *   file:// repositories and fixtures below it work on both sides.
 * - dist/ is bind-mounted read-only at {@link DIST_INSIDE}: the compiled
 *   binary is `${DIST_INSIDE}/fetchit-linux-x64` (see {@link ensureBinary}).
 *
 * The first start builds the image (about a minute: debootstrap), which can
 * outlast a hook's timeout; build it first with
 * `bash test/support/systemd-testbed.sh build` (.ci/run does).
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { createScratchDir, run, runOk, type CleanupCommand, type RunResult } from "./exec.ts";

export const SYSTEMD_TESTBED_SCRIPT = join(import.meta.dir, "systemd-testbed.sh");
export const ROOT = join(import.meta.dir, "..", "..");
export const DIST = join(ROOT, "dist");
/** Where dist/ is mounted inside the testbed (read-only). */
export const DIST_INSIDE = "/opt/fetchit-dist";
/** The compiled binary for this machine (the testbed runs on the same kernel and arch). */
export const BINARY = join(DIST, "fetchit-linux-x64");
export const TESTER = { name: "tester", uid: 1000, home: "/home/tester" } as const;

/**
 * For beforeAll hooks that may build: the testbed image (about a minute the
 * first time), the binary, the RPM (rpmbuild compresses two 110 MB binaries).
 */
export const SETUP_TIMEOUT = 300_000;

const PREFIX = "fetchit-sdtb-";
const LABEL_DIR = "io.fetchit.test-dir";

/** Who runs a command inside. */
export interface InsideOptions {
  /** "tester": uid 1000 with XDG_RUNTIME_DIR=/run/user/1000 (its user manager's bus). Default: root. */
  user?: "root" | "tester";
  env?: Record<string, string>;
  input?: string;
}

export interface SystemdTestbed {
  /** Container name. */
  name: string;
  /** Host scratch directory, at the same path inside. */
  dir: string;
  /** Runs `cmd` inside; never throws for a non-zero exit. */
  exec(cmd: string[], opts?: InsideOptions): Promise<RunResult>;
  /** Runs `cmd` inside; returns stdout, throws with stderr on a non-zero exit. */
  execOk(cmd: string[], opts?: InsideOptions): Promise<string>;
  /** `systemctl ARGS` as root, or `systemctl --user ARGS` as tester. */
  systemctl(args: string[], opts?: { user?: boolean }): Promise<RunResult>;
  /** `systemctl show -p PROP --value UNIT`. */
  show(unit: string, prop: string, opts?: { user?: boolean }): Promise<string>;
  /** Copies a host file or directory to `path` inside (`podman cp`); parents are created. */
  copyIn(hostPath: string, path: string): Promise<void>;
  /** Writes `text` to `path` inside (parents created), with `mode` and `owner` ("user:group"). */
  writeFile(path: string, text: string, opts?: { mode?: string; owner?: string }): Promise<void>;
  /**
   * The unit's journal, message text only, read as root: `-u UNIT`, or the
   * lines of tester's unit (`--user-unit` would match root's own user units
   * only; the volatile journal keeps no per-user files for `journalctl --user`).
   */
  journal(unit: string, opts?: { user?: boolean }): Promise<string>;
  /** Copies the tree under host directory `from` onto / inside (existing directories keep their owner and mode). */
  copyTreeIn(from: string): Promise<void>;
  /** Removes the container (and with it everything inside). */
  stop(): Promise<void>;
}

function requirePodman(): string {
  const podman = Bun.which("podman");
  if (podman && process.getuid?.() === 0) return podman;
  const what = podman ? "the systemd testbed needs root (debootstrap, podman --systemd)" : "podman is missing (the systemd testbed runs in it)";
  throw new Error(process.env.CI ? `${what}; CI must provide it` : `${what}; run \`bash test/support/prepare.sh\` as root`);
}

/**
 * Starts a testbed; extra `podman run` arguments (e.g. `-v A:B`) come last.
 * `script`: another testbed recipe with the same `start NAME --share DIR --`
 * interface (quadlet-testbed.sh: systemd 257 with Podman 5 inside).
 */
export async function startSystemdTestbed(extraRunArgs: string[] = [], script = SYSTEMD_TESTBED_SCRIPT): Promise<SystemdTestbed> {
  const podman = requirePodman();
  const containerName = (d: string) => `fetchit-sdtb-${basename(d).slice(PREFIX.length)}`;
  const dir = createScratchDir(PREFIX, (d): CleanupCommand[] => [{ cmd: [podman, "rm", "-f", "-t", "0", containerName(d)] }]);
  const name = containerName(dir);
  await sweepOrphans(podman);
  const res = await run(["bash", script, "start", name, "--share", dir, "--",
    "--label", `${LABEL_DIR}=${dir}`, "-v", `${DIST}:${DIST_INSIDE}:ro`, ...extraRunArgs]);
  if (res.code !== 0) throw new Error(`${basename(script)} start failed (${res.code}): ${res.stderr.trim()}`);

  const execArgs = (opts: InsideOptions = {}) => {
    const args = [podman, "exec", "-i"];
    if (opts.user === "tester") args.push("-u", TESTER.name, "-w", TESTER.home, "-e", `XDG_RUNTIME_DIR=/run/user/${TESTER.uid}`, "-e", `HOME=${TESTER.home}`, "-e", `USER=${TESTER.name}`);
    for (const [k, v] of Object.entries(opts.env ?? {})) args.push("-e", `${k}=${v}`);
    return [...args, name];
  };
  const exec = (cmd: string[], opts?: InsideOptions) => run([...execArgs(opts), ...cmd], { input: opts?.input });
  const execOk = async (cmd: string[], opts?: InsideOptions) => {
    const r = await exec(cmd, opts);
    if (r.code !== 0) throw new Error(`in ${name}: ${cmd.join(" ")} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  };
  const systemctl = (args: string[], opts: { user?: boolean } = {}) =>
    exec(["systemctl", ...(opts.user ? ["--user"] : []), "--no-pager", ...args], { user: opts.user ? "tester" : "root" });
  return {
    name,
    dir,
    exec,
    execOk,
    systemctl,
    async show(unit, prop, opts) {
      return (await systemctl(["show", "-p", prop, "--value", unit], opts)).stdout.trim();
    },
    async copyIn(hostPath, path) {
      await execOk(["mkdir", "-p", path.replace(/\/[^/]*$/, "") || "/"]);
      await runOk([podman, "cp", hostPath, `${name}:${path}`]);
    },
    async writeFile(path, text, opts = {}) {
      const script = 'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1" && chown "$3" "$1"';
      await execOk(["sh", "-c", script, "sh", path, opts.mode ?? "644", opts.owner ?? "root:root"], { input: text });
    },
    async journal(unit, opts = {}) {
      const match = opts.user ? [`_SYSTEMD_USER_UNIT=${unit}`, `_UID=${TESTER.uid}`] : ["-u", unit];
      return await execOk(["journalctl", ...match, "--no-pager", "-o", "cat"]);
    },
    async copyTreeIn(from) {
      // Via tar, not cp -a: / and /usr must not take the mode of a temp dir.
      const script = 'cd "$1" && tar -cf - $(ls -A) | tar -C / -xf - --no-overwrite-dir';
      if (!from.startsWith(dir)) throw new Error(`copyTreeIn: ${from} is not under the shared ${dir}`);
      await execOk(["sh", "-c", script, "sh", from]);
    },
    async stop() {
      await run([podman, "rm", "-f", "-t", "5", name]);
    },
  };
}

/**
 * A git repository at `path` inside the testbed on branch main, holding
 * `files` in one commit, made by `user` (git refuses repositories owned by
 * someone else); returns its file:// URL.
 */
export async function repoInside(tb: SystemdTestbed, path: string, files: Record<string, string>, user: "root" | "tester" = "root"): Promise<string> {
  const owner = user === "tester" ? `${TESTER.name}:${TESTER.name}` : "root:root";
  await tb.execOk(["install", "-d", "-o", owner.split(":")[0]!, path]);
  for (const [file, text] of Object.entries(files)) await tb.writeFile(`${path}/${file}`, text, { owner });
  const git = "git init -q -b main && git add -A && git -c user.name=t -c user.email=t@t.invalid commit -q -m init";
  await tb.execOk(["sh", "-c", `cd "$1" && ${git}`, "sh", path], { user });
  return `file://${path}`;
}

/** Testbeds whose scratch directory is gone (owner and watchdog killed, dir swept) are removed. */
async function sweepOrphans(podman: string): Promise<void> {
  const res = await run([podman, "ps", "-a", "--filter", `label=${LABEL_DIR}`, "--format", `{{.Names}} {{index .Labels "${LABEL_DIR}"}}`]);
  for (const line of res.stdout.split("\n")) {
    const [testbed, dir] = line.split(" ");
    if (testbed?.startsWith("fetchit-sdtb-") && dir && !existsSync(join(dir, "owner.pid"))) await run([podman, "rm", "-f", "-t", "0", testbed]);
  }
}

/** Newest modification time of the files that go into the binary. */
function sourcesMtime(): number {
  let newest = statSync(join(ROOT, "package.json")).mtimeMs;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ["src", "examples", "packaging"]) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
  return newest;
}

/**
 * The hooks of a test file (or describe block) that runs the compiled binary
 * in a testbed: before its tests, build the binary if stale, start the testbed
 * with `start` and hand it to `use` (which may prepare it further); after
 * them, stop it.
 */
export function withTestbed<T extends { stop(): Promise<void> }>(start: () => Promise<T>, use: (tb: T) => void | Promise<void>): void {
  let tb: T | undefined;
  beforeAll(async () => {
    await ensureBinary();
    tb = await start();
    await use(tb);
  }, SETUP_TIMEOUT);
  afterAll(async () => {
    await tb?.stop();
  });
}

/**
 * dist/fetchit-linux-x64, built with `bun build.ts linux-x64` when it is
 * missing or older than what it embeds (src/, examples/, packaging/): a
 * stale binary would test old code.
 */
export async function ensureBinary(): Promise<string> {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= sourcesMtime()) return BINARY;
  await runOk([process.execPath, "build.ts", "linux-x64"], { cwd: ROOT });
  if (!existsSync(BINARY)) throw new Error(`bun build.ts linux-x64 did not produce ${BINARY}`);
  return BINARY;
}
