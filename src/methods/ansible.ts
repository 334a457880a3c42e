/**
 * ansible: every playbook (`*.yaml` / `*.yml` under targetPath, glob applied)
 * that is added or changed runs once with ansible-playbook against this host:
 * with the host's ansible-playbook (connection local, inventory `localhost,`)
 * when it is installed and the method sets no `image`; otherwise in a
 * container through the Podman API, as FetchIt did. The exit code is checked
 * (FetchIt ignored it): a failed run fails the file with the failed tasks'
 * messages, the state does not advance, and the commit is not retried until a
 * new one arrives. Playbooks of one method run one at a time, in path order.
 * A deleted playbook has nothing to undo; its record is dropped.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { posix } from "node:path";
import type { AnsibleMethod } from "../config/types.ts";
import { MethodError, PodmanApiError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";
import { PLAYBOOK_DIR, runInContainer, type PlaybookFile } from "./ansible-container.ts";
import { detectAnsible, runOnHost, type PlaybookRun } from "./ansible-host.ts";
import { describeFailure, parseFailures, parseRecap } from "./ansible-output.ts";
import { LABEL_METHOD, LABEL_OWNER, LABEL_TARGET } from "./raw.ts";
import type { DesiredFile, Method, MethodContext } from "./types.ts";

type Ctx = MethodContext<AnsibleMethod>;

/** FetchIt's ansible image; used only when the host has no ansible-playbook and the method sets no `image`. */
export const DEFAULT_ANSIBLE_IMAGE = "quay.io/fetchit/fetchit-ansible:latest";
/** Seconds one playbook may run when the method does not say. */
export const DEFAULT_TIMEOUT_SECONDS = 600;

type Mode = { kind: "host"; version: string } | { kind: "container"; image: string; fallback?: string };

/** Per apply (one context each): where playbooks run, and the queue that runs them one at a time. */
const modes = new WeakMap<object, Promise<Mode>>();
const queues = new WeakMap<object, Promise<unknown>>();

function modeOf(ctx: Ctx): Promise<Mode> {
  let m = modes.get(ctx);
  if (!m) {
    m = (async (): Promise<Mode> => {
      if (ctx.config.image) return { kind: "container", image: ctx.config.image };
      const d = await detectAnsible(ctx.exec);
      if (d.found) {
        if (ctx.config.sshDirectory) ctx.log.info("sshDirectory is used in container mode only; playbooks run with the host's ansible-playbook, connection local");
        return { kind: "host", version: d.version };
      }
      ctx.log.warn(`${d.reason}; running playbooks in a container instead`, { image: DEFAULT_ANSIBLE_IMAGE });
      return { kind: "container", image: DEFAULT_ANSIBLE_IMAGE, fallback: d.reason };
    })();
    modes.set(ctx, m);
  }
  return m;
}

/** Runs `fn` after every earlier call made with the same context has finished. */
function oneAtATime<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(ctx) ?? Promise.resolve();
  const run = before.then(fn, fn);
  queues.set(ctx, run.catch(() => undefined));
  return run;
}

/** The repository path of targetPath with a trailing slash (so messages name repository files, not scratch paths). */
const repoPrefix = (file: DesiredFile) => file.path.slice(0, file.path.length - file.relPath.length);

const resourceOf = (file: DesiredFile, data: Uint8Array) => ({ name: `playbook:${file.path}`, hash: sha256(data) });
const timeoutOf = (ctx: Ctx) => ctx.config.timeout ?? DEFAULT_TIMEOUT_SECONDS;

/**
 * The playbook and every file next to it under targetPath at this commit
 * (roles, templates, vars files, scripts), as FetchIt's container saw the
 * whole clone. Executable files keep their exec bit.
 */
async function playbookFiles(ctx: Ctx, file: DesiredFile, data: Uint8Array): Promise<PlaybookFile[]> {
  const files: PlaybookFile[] = [{ relPath: file.relPath, data, mode: file.mode === "100755" ? 0o700 : 0o600 }];
  for (const f of (await ctx.tree?.()) ?? []) {
    if (f.relPath !== file.relPath) files.push({ relPath: f.relPath, data: await f.content(), mode: f.mode === "100755" ? 0o700 : 0o600 });
  }
  return files;
}

/** Writes the playbook and its neighbours into a fresh scratch directory, runs it on the host, removes the directory. */
async function runHost(ctx: Ctx, file: DesiredFile, files: PlaybookFile[]): Promise<PlaybookRun> {
  const base = posix.join(tmpdir(), `fetchit-ansible-${randomBytes(6).toString("hex")}`);
  const dir = ctx.fs.resolve(base);
  try {
    for (const f of files) await ctx.fs.writeFileAtomic(posix.join(base, f.relPath), f.data, f.mode);
    const run = await runOnHost(ctx.exec, { dir, playbook: file.relPath, timeoutSeconds: timeoutOf(ctx) });
    return { ...run, output: run.output.replaceAll(`${dir}/`, repoPrefix(file)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Container name: fetchit-ansible-<method>-<hash of target and file>, valid for Podman and stable across restarts. */
function containerName(ctx: Ctx, file: DesiredFile): string {
  const slug = ctx.config.name.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").slice(0, 40);
  return `fetchit-ansible-${slug}-${sha256(`${ctx.target}\n${file.path}`).slice(0, 12)}`;
}

async function runContainer(ctx: Ctx, file: DesiredFile, files: PlaybookFile[], mode: Extract<Mode, { kind: "container" }>): Promise<PlaybookRun> {
  try {
    await ctx.ensureImage(mode.image, false);
  } catch (err) {
    if (!mode.fallback) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new MethodError(
      `cannot run the playbook: ${mode.fallback} on this host, and the fallback image ${mode.image} is not available (${why}). ` +
        "Install ansible-core on the host (Debian/Ubuntu: apt-get install ansible-core; Fedora/RHEL: dnf install ansible-core), " +
        "or set `image:` in the ansible method entry to an image with ansible-playbook",
      file.path,
      { cause: err, retryable: err instanceof PodmanApiError && err.retryable },
    );
  }
  const ssh = ctx.config.sshDirectory;
  const sshKind = ssh ? (await ctx.fs.lstat(ssh))?.kind : "dir";
  if (sshKind !== "dir" && sshKind !== "symlink") {
    throw new MethodError(
      `sshDirectory ${ssh} of ansible method "${ctx.config.name}" is not a directory on this host; ` +
        "create it with the SSH key (and config or known_hosts) that lets the container log in to this host as root, or remove sshDirectory",
      file.path,
    );
  }
  const labels = { [LABEL_OWNER]: "fetchit", [LABEL_TARGET]: ctx.target, [LABEL_METHOD]: `ansible/${ctx.config.name}` };
  const run = await runInContainer(ctx.podman, {
    image: mode.image, name: containerName(ctx, file), labels, playbook: file.relPath, files,
    sshDirectory: ctx.config.sshDirectory, timeoutSeconds: timeoutOf(ctx),
  }, ctx.log).catch((err: unknown) => {
    if (!(err instanceof PodmanApiError)) throw err;
    throw new MethodError(`running the playbook in a container of ${mode.image} failed: ${err.message}`, file.path, { cause: err, retryable: err.retryable });
  });
  return { ...run, output: run.output.replaceAll(`${PLAYBOOK_DIR}/`, repoPrefix(file)) };
}

/** Throws a MethodError for a run that timed out or failed. */
function checkRun(ctx: Ctx, file: DesiredFile, run: PlaybookRun): void {
  if (run.timedOut) {
    throw new MethodError(
      `ansible-playbook did not finish within ${timeoutOf(ctx)} s and was killed with all its processes; ` +
        "make the playbook faster or raise `timeout` in the ansible method entry",
      file.path,
    );
  }
  if (run.code === 0) return;
  // Unreachable hosts (ssh to the host in container mode) may come back: retried with back-off.
  const failures = parseFailures(run.output);
  const unreachable = failures.length > 0 && failures.every((f) => f.unreachable);
  throw new MethodError(`playbook failed: ${describeFailure(run.output, run.code)}`, file.path, { retryable: unreachable });
}

export const ansible: Method<AnsibleMethod> = {
  kind: "ansible",
  extensions: [".yaml", ".yml"],
  serial: true,

  async identify(_ctx, file) {
    return resourceOf(file, await file.content());
  },

  async apply(ctx, file, previous) {
    if (file.mode === "120000") throw new MethodError("is a symlink in the repository; ansible runs regular playbook files only", file.path);
    if (file.mode === "160000") throw new MethodError("is a git submodule; ansible runs regular playbook files only", file.path);
    const log = ctx.log.child({ file: file.path });
    // Queued before the first await: the calls' order (path order) is the run order,
    // whichever playbook's content is read first.
    return oneAtATime(ctx, async () => {
      const data = await file.content();
      const resource = resourceOf(file, data);
      if (previous?.hash === resource.hash) {
        log.debug("playbook already ran with this content; not running it again");
        return { resource, changed: false };
      }
      const mode = await modeOf(ctx);
      log.info("running playbook", mode.kind === "host" ? { on: "host", ansible: mode.version } : { on: "container", image: mode.image });
      const files = await playbookFiles(ctx, file, data);
      const run = mode.kind === "host" ? await runHost(ctx, file, files) : await runContainer(ctx, file, files, mode);
      log.debug("ansible-playbook output", { exitCode: run.code, output: run.output.slice(-4000) });
      checkRun(ctx, file, run);
      const recap = parseRecap(run.output);
      log.info("playbook ran", { seconds: Math.round(run.ms / 100) / 10, ...(recap ? { ok: recap.ok, changed: recap.changed, skipped: recap.skipped } : {}) });
      return { resource, changed: true };
    });
  },

  async remove(ctx, previous, relPath) {
    ctx.log.info("playbook deleted; nothing to undo (what it changed on the host stays)", { file: relPath, resource: previous.name });
  },
};
