/**
 * The one small interface every method implements. A method turns one file of
 * the repository into something on the host (a container, a file, a unit) and
 * can remove it again. The engine decides which files changed and in what
 * order; methods never see git, the scheduler or the CLI.
 */
import type { CommonMethod, MethodKind } from "../config/types.ts";
import type { Exec } from "../host/exec.ts";
import type { HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import type { PodmanClient } from "../podman/index.ts";
import type { ManagedResource } from "../state/store.ts";

/** A file as it is at the commit being applied. */
export interface DesiredFile {
  /** Path relative to targetPath (for a single-file targetPath: its basename). */
  relPath: string;
  /** Path relative to the repository root. */
  path: string;
  /** Git blob id. */
  blob: string;
  /** Git file mode: 100644, 100755, 120000 (symlink), 160000 (submodule). */
  mode: string;
  /**
   * The whole content, for methods whose files are small (specs, YAML, units,
   * playbooks). Refused with an error naming the file past 32 MiB, so a big
   * file is never loaded by accident; big files are read with {@link stream}.
   */
  content(): Promise<Buffer>;
  /** Size in bytes, without reading the content. */
  size(): Promise<number>;
  /** The content in chunks (bounded memory whatever the size); each call reads it afresh. */
  stream(): AsyncIterable<Uint8Array>;
  /** Writes the content into the open file `fd` without passing it through fetchit's memory (git writes it). */
  copyTo(fd: number): Promise<void>;
}

export interface MethodContext<C extends CommonMethod = CommonMethod> {
  /** Effective target name (unique in the config). */
  target: string;
  config: C;
  podman: PodmanClient;
  fs: HostFs;
  exec: Exec;
  log: Logger;
  /** Pulls an image at most once per apply (concurrent callers share the pull). */
  ensureImage(image: string, alwaysPull: boolean): Promise<void>;
  /**
   * Runs `fn` in the small pool of heavy Podman work (creates, starts, plays:
   * `concurrency`, default 4) shared by the files of this apply. Methods with
   * {@link Method.boundsHeavyWork} wrap their creates in it and leave stops and
   * removals (which only wait on a timer) outside, in the engine's wide pool.
   * Always set by the engine (optional for hand-built contexts in tests: then unbounded).
   */
  limitHeavy?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Every regular file under targetPath at the commit being applied, glob and
   * extensions not applied (read once per apply): for methods whose files use
   * the files next to them (ansible roles, templates, vars). Absent when no
   * commit is at hand (cleaning up after a removed method).
   */
  tree?(): Promise<DesiredFile[]>;
}

/** A problem {@link Method.finish} found with one file (`file`: path in the repository). */
export interface FileFailure {
  file: string;
  error: unknown;
}

/** A file whose apply created or replaced something (changed: true), as the health gate sees it. */
export interface Touched {
  /** Path relative to targetPath (the state's key). */
  relPath: string;
  /** Path in the repository (what failures name). */
  path: string;
  /** What the apply made: container name, pod names, placed file path. */
  resource: ManagedResource;
}

/** The health window of one apply: it ends at `since + windowMs` (epoch ms). */
export interface HealthWindow {
  windowMs: number;
  /** When the apply made its last change (epoch ms). */
  since: number;
  /** Aborted when the gate has failed elsewhere (a failed http probe) or fetchit stops. */
  signal?: AbortSignal;
}

export interface ApplyResult {
  resource: ManagedResource;
  /** False when the host already matched and nothing was done. */
  changed: boolean;
}

export interface Method<C extends CommonMethod = CommonMethod> {
  kind: MethodKind;
  /** True when applying talks to the Podman API (checked once at start so a missing socket is reported early). */
  usesPodman?: boolean;
  /** File name suffixes this method reads (FetchIt's filter); undefined = every file. */
  extensions?: string[];
  /** Runs once before the changes of an apply (e.g. create the destination directory). */
  prepare?(ctx: MethodContext<C>): Promise<void>;
  /** What `file` would manage, without touching the host (used when the state has no record). */
  identify(ctx: MethodContext<C>, file: DesiredFile): Promise<ManagedResource>;
  /** Makes the host match `file`. `previous` is what the same (or renamed-from) file managed before. */
  apply(ctx: MethodContext<C>, file: DesiredFile, previous?: ManagedResource): Promise<ApplyResult>;
  /** Removes what a deleted file managed. */
  remove(ctx: MethodContext<C>, previous: ManagedResource, relPath: string): Promise<void>;
  /**
   * Runs once per apply after every removal, creation and update went through
   * (also when some failed; not after self-heal or the clean-up of removed
   * methods), for work that must happen once rather than per file: the
   * systemd method does one `systemctl daemon-reload`, then enables, starts
   * or restarts the units whose files changed and checks they came up
   * (quadlet can do the same). `ctx` is the same object for every call of
   * one apply, so a method can key what apply/remove noted on it (WeakMap).
   * Returns failures to report against repository files (e.g. a unit that
   * failed to start); throwing fails the whole apply.
   */
  finish?(ctx: MethodContext<C>): Promise<FileFailure[]>;
  /**
   * Drift check for self-heal: given what the state says this method manages
   * (keyed by path relative to targetPath), the keys whose resource is missing,
   * stopped or replaced out of band. Must be cheap enough for a 10-second
   * schedule: one list call filtered by fetchit's labels, no per-resource
   * inspect when nothing drifted. The engine re-applies those files from the
   * applied commit.
   */
  drifted?(ctx: MethodContext<C>, resources: Record<string, ManagedResource>): Promise<string[]>;
  /** Whether self-heal is on when the method entry does not say (`selfHeal`). */
  selfHealDefault?: boolean;
  /**
   * Health gate: judge what this apply created or replaced (`touched`) until
   * the window ends (see docs/health.md for what healthy means per method);
   * [] = healthy. Returns as soon as something is found unhealthy. Sampling
   * must stay cheap: one label-filtered list (or one `systemctl show`) per
   * second, at most one inspect per resource per second.
   */
  healthy?(ctx: MethodContext<C>, touched: Touched[], window: HealthWindow): Promise<FileFailure[]>;
  /**
   * true: apply/remove put their heavy work (creates, starts) under
   * `ctx.limitHeavy` themselves, so the engine runs this method's files in
   * the wide pool (STOP_CONCURRENCY) and a replacement waiting out a stop
   * timeout does not hold one of the few create slots. Otherwise every file
   * runs in the small pool.
   */
  boundsHeavyWork?: boolean;
  /** true: the engine applies this method's files one at a time, in path order (ansible: playbooks build on each other). */
  serial?: boolean;
  /**
   * Read-only, for `fetchit plan`: what applying `resource` (from identify)
   * would take over that fetchit did not create, e.g. `container db (image
   * docker.io/library/postgres:16)`; empty when nothing.
   */
  takeovers?(ctx: MethodContext<C>, resource: ManagedResource): Promise<string[]>;
}
