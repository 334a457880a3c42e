/**
 * What one apply of the quadlet method has to do once all files are placed:
 * one `daemon-reload` (the generator runs then), then start new services,
 * restart changed ones, and check every one of them came up. Kept per apply
 * (keyed on its MethodContext) and carried out by `finish`.
 */
import { join } from "node:path";
import type { QuadletMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import { defaultUnitDirectory, describeState, startFailed, type Systemctl, createSystemctl } from "../host/systemctl.ts";
import { detectQuadlet, type QuadletHost } from "./quadlet-host.ts";
import type { FileFailure, MethodContext } from "./types.ts";

type Ctx = MethodContext<QuadletMethod>;

/** The host side of one apply: quadlet, where files go, which manager. */
export interface QuadletEnv {
  host: QuadletHost;
  dir: string;
  user: boolean;
  systemctl: Systemctl;
}

export type Action = "start" | "restart";

/** A file the generator rejected only for a unit it references: checked again once the others are placed. */
export interface Deferred {
  relPath: string;
  path: string;
  content: Buffer;
  hash: string;
}

export interface Batch {
  env: QuadletEnv;
  /** True when `finish` runs after this apply (prepare was called); otherwise each change settles at once. */
  finishing: boolean;
  reload: boolean;
  /** Service → what to do and the repository file it comes from. */
  actions: Map<string, { action: Action; file: string }>;
  deferred: Deferred[];
  /** Non-quadlet files that changed (a .kube's YAML, an env file): destination paths. */
  supportChanged: { dest: string; file: string }[];
  /** Non-quadlet files deleted from git: removed after the services that may read them stopped. */
  supportRemoved: string[];
}

const batches = new WeakMap<object, Promise<Batch>>();

/** `root` when set, else whether fetchit runs as root. */
export const isRoot = (config: QuadletMethod) => config.root ?? process.getuid?.() === 0;

/** The destination directory: unitDirectory, /etc/containers/systemd, or the user's $XDG_CONFIG_HOME/containers/systemd. */
export function quadletDirectory(config: QuadletMethod, env: Record<string, string | undefined> = process.env): string {
  if (config.unitDirectory) return config.unitDirectory.replace(/(.)\/+$/, "$1");
  if (isRoot(config)) return "/etc/containers/systemd";
  // ~/.config/systemd/user → ~/.config/containers/systemd (same XDG_CONFIG_HOME/HOME rules).
  return join(defaultUnitDirectory("user", env), "..", "..", "containers", "systemd");
}

async function makeEnv(ctx: Ctx): Promise<QuadletEnv> {
  const host = await detectQuadlet(ctx.exec);
  const user = !isRoot(ctx.config);
  let dir: string;
  try {
    dir = quadletDirectory(ctx.config);
  } catch (err) {
    throw new MethodError(`${(err as Error).message} (quadlet method "${ctx.config.name}": set root: true or unitDirectory)`, undefined);
  }
  return { host, dir, user, systemctl: createSystemctl(ctx.exec, user ? "user" : "system") };
}

/** The batch of this apply; `finishing` is fixed by whoever asks first (prepare: true). */
export function batchOf(ctx: Ctx, finishing = false): Promise<Batch> {
  let b = batches.get(ctx);
  if (!b) {
    b = makeEnv(ctx).then((env) => ({ env, finishing, reload: false, actions: new Map(), deferred: [], supportChanged: [], supportRemoved: [] }));
    batches.set(ctx, b);
  }
  return b;
}

/** Notes a service to start or restart (restart wins over start). */
export function note(batch: Batch, service: string, action: Action, file: string): void {
  batch.reload = true;
  if (batch.actions.get(service)?.action !== "restart") batch.actions.set(service, { action, file });
}

/** daemon-reload if anything changed, then every noted start/restart, each checked; failures per file. */
export async function settle(ctx: Ctx, batch: Batch): Promise<FileFailure[]> {
  const { systemctl } = batch.env;
  if (batch.reload) await systemctl.daemonReload();
  batch.reload = false;
  const actions = [...batch.actions];
  batch.actions.clear();
  const results = await Promise.all(
    actions.map(async ([service, { action, file }]): Promise<FileFailure | undefined> => {
      try {
        await (action === "restart" ? systemctl.restart([service]) : systemctl.start([service]));
        const state = await systemctl.waitSettled(service);
        if (startFailed(state)) throw new MethodError(`${service} did not stay up after ${action}: ${describeState(state)}${await tail(systemctl, service)}`, file);
        ctx.log.info(action === "restart" ? "quadlet service restarted" : "quadlet service started", { file, service, pid: state.mainPid || undefined });
        return undefined;
      } catch (error) {
        if (error instanceof MethodError) return { file, error };
        return { file, error: new MethodError(`${(error as Error).message}${await tail(systemctl, service)}`, file, { cause: error }) };
      }
    }),
  );
  return results.filter((r): r is FileFailure => r !== undefined);
}

async function tail(systemctl: Systemctl, service: string): Promise<string> {
  const lines = await systemctl.journalTail(service, 8);
  return lines.length ? `; last journal lines:\n  ${lines.join("\n  ")}` : "";
}
