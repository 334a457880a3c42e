/**
 * systemd: places unit files and drop-ins under targetPath into the unit
 * directory (/etc/systemd/system, or ~/.config/systemd/user with
 * `systemctl --user`), atomically, with systemctl run directly on the host.
 * A new main unit file is checked with `systemd-analyze verify` (when
 * installed) and not placed when it is invalid. Per apply: one
 * daemon-reload, then enable/start or restart what changed (see
 * systemd-batch.ts). A deleted unit file is disabled and stopped, then
 * removed (FetchIt only stopped it and left its *.wants symlinks).
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, normalize, posix } from "node:path";
import type { SystemdMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";
import { createSystemctl, defaultUnitDirectory, SystemctlError } from "../host/systemctl.ts";
import type { ManagedResource } from "../state/store.ts";
import { batchOf, finishBatch, startBatch, touch } from "./systemd-batch.ts";
import { systemdHealthy } from "./systemd-health.ts";
import { skipReason, SYSTEMD_EXTENSIONS, unitFileOf, unitOfPlaced } from "./systemd-units.ts";
import type { DesiredFile, Method, MethodContext } from "./types.ts";

type Ctx = MethodContext<SystemdMethod>;

/** The unit directory of an entry, without a trailing slash. */
export function unitDirOf(config: SystemdMethod): string {
  const dir = config.unitDirectory ?? defaultUnitDirectory(config.root ? "system" : "user");
  return normalize(dir).replace(/(.)\/+$/, "$1");
}

const systemctlOf = (ctx: Ctx) => batchOf(ctx)?.sc ?? createSystemctl(ctx.exec, ctx.config.root ? "system" : "user");

/**
 * The manager of a file placed earlier, possibly under other settings (root or
 * unitDirectory changed since): the entry's own when it lies in the current
 * unit directory, else the system manager for system unit paths, else the user's.
 */
function managerOf(ctx: Ctx, path: string) {
  if (path.startsWith(unitDirOf(ctx.config) + "/")) return { sc: systemctlOf(ctx), own: true };
  const system = ["/etc/systemd/", "/run/systemd/", "/usr/lib/systemd/", "/usr/local/lib/systemd/"].some((d) => path.startsWith(d));
  const scope = system ? "system" : "user";
  const own = scope === (ctx.config.root ? "system" : "user");
  return { sc: own ? systemctlOf(ctx) : createSystemctl(ctx.exec, scope), own };
}

/** `systemd-analyze verify` of a unit file staged alone under a temp dir; throws a MethodError listing its complaints. */
async function verifyUnit(ctx: Ctx, unit: string, data: Buffer, repoPath: string): Promise<void> {
  const stageDir = join(tmpdir(), `fetchit-verify-${randomBytes(4).toString("hex")}`);
  const staged = join(stageDir, unit);
  await ctx.fs.writeFileAtomic(staged, data, 0o644);
  try {
    const res = await systemctlOf(ctx).verify(ctx.fs.resolve(staged));
    const clean = (l: string) => l.replaceAll(stageDir + "/", "");
    if (res && !res.ok) {
      throw new MethodError(`systemd-analyze verify rejected unit ${unit}, so it was not installed:\n    ${res.output.split("\n").map(clean).join("\n    ")}`, repoPath);
    }
    if (res?.ignored?.length) {
      ctx.log.info("systemd-analyze verify: host-dependent checks systemd does not enforce when it loads a unit, not counted", { file: repoPath, unit, notes: res.ignored.map(clean).join("; ") });
    }
  } finally {
    await ctx.fs.remove(staged);
    await ctx.fs.removeEmptyDir(stageDir);
  }
}

/** The resource name recorded for a file that placed nothing (see skipReason). */
const SKIPPED = "";

/** A file that is neither a unit nor a drop-in: placed nothing, noted for finish's one warning; what an earlier version of it placed goes. */
async function skipFile(ctx: Ctx, file: DesiredFile, previous?: ManagedResource) {
  if (previous && previous.name !== SKIPPED) await removePlaced(ctx, previous.name, file.path);
  batchOf(ctx)?.skipped.push(file.path);
  return { resource: { name: SKIPPED, hash: sha256(await file.content()) }, changed: previous !== undefined && previous.name !== SKIPPED };
}

/** Refuses to write through a symlink or onto something that is not a regular file. */
async function checkDestination(ctx: Ctx, unitDir: string, rel: string, repoPath: string): Promise<void> {
  let cur = unitDir;
  const parts = rel.split("/");
  for (const [i, part] of parts.entries()) {
    cur = join(cur, part);
    const st = await ctx.fs.lstat(cur);
    if (!st) return;
    const want = i === parts.length - 1 ? "file" : "dir";
    if (st.kind !== want) throw new MethodError(`${cur} on the host is a ${st.kind}, not a ${want}; fetchit will not replace it (a unit masked or linked by hand?)`, repoPath);
  }
}

/** Removes a placed file: a main unit is first disabled and stopped. The daemon-reload is left to finish (or done by systemctl without a batch). */
async function removePlaced(ctx: Ctx, path: string, repoPath: string): Promise<void> {
  if (!path.startsWith("/") || posix.normalize(path) !== path) {
    throw new MethodError(`recorded path ${JSON.stringify(path)} is not a clean absolute path; not removing it`, repoPath);
  }
  const { unit, dropIn } = unitOfPlaced(path);
  const { sc, own } = managerOf(ctx, path);
  // In a batch of the same manager, finish() does the one daemon-reload; otherwise reload here.
  const batch = own ? batchOf(ctx) : undefined;
  const st = await ctx.fs.lstat(path);
  if (st && st.kind !== "file") throw new MethodError(`${path} on the host is a ${st.kind}; not removing it`, repoPath);
  if (!dropIn) {
    await sc.disable([unit], { now: true, reload: false });
    ctx.log.info("unit disabled and stopped", { unit });
  }
  if (await ctx.fs.remove(path)) ctx.log.info(dropIn ? "drop-in removed" : "unit file removed", { dest: path });
  if (dropIn) await ctx.fs.removeEmptyDir(posix.dirname(path));
  else await ctx.fs.removeEmptyDir(`${path}.d`);
  if (!batch) return void (await sc.daemonReload());
  batch.reload = true;
  if (dropIn) touch(batch, unit, repoPath, true, true);
  else batch.removed.add(unit);
}

export const systemd: Method<SystemdMethod> = {
  kind: "systemd",
  extensions: SYSTEMD_EXTENSIONS,

  async prepare(ctx) {
    const dir = unitDirOf(ctx.config);
    const st = await ctx.fs.lstat(dir);
    if (st && st.kind !== "dir") throw new MethodError(`unit directory ${dir} exists but is a ${st.kind}, not a directory`, undefined);
    if (!st) await ctx.fs.mkdirp(dir);
    startBatch(ctx, dir);
  },

  async identify(ctx, file) {
    if (skipReason(file.relPath)) return { name: SKIPPED, hash: sha256(await file.content()) };
    const { rel } = unitFileOf(file.relPath, file.path);
    return { name: join(unitDirOf(ctx.config), rel), hash: sha256(await file.content()) };
  },

  async apply(ctx, file, previous?: ManagedResource) {
    if (file.mode === "120000") throw new MethodError("is a symlink in the repository; the systemd method places regular files only", file.path);
    if (file.mode === "160000") throw new MethodError("is a git submodule; the systemd method places regular files only", file.path);
    if (skipReason(file.relPath)) return skipFile(ctx, file, previous);
    const unitDir = unitDirOf(ctx.config);
    const uf = unitFileOf(file.relPath, file.path);
    const dest = join(unitDir, uf.rel);
    const other = batchOf(ctx)?.dests.get(dest);
    if (other && other !== file.path) throw new MethodError(`maps to ${dest}, as ${other} does (unit files are placed by their basename); rename one of them`, file.path);
    batchOf(ctx)?.dests.set(dest, file.path);
    const data = await file.content();
    const hash = sha256(data);
    if (previous && previous.name !== SKIPPED && previous.name !== dest) await removePlaced(ctx, previous.name, file.path);
    await checkDestination(ctx, unitDir, uf.rel, file.path);
    const current = await ctx.fs.readFile(dest);
    const same = current !== null && sha256(current) === hash;
    if (!same) {
      if (!uf.dropIn) await verifyUnit(ctx, uf.unit, data, file.path);
      await ctx.fs.writeFileAtomic(dest, data, 0o644);
      ctx.log.info(`${uf.dropIn ? "drop-in" : "unit file"} ${current ? "updated" : "placed"}`, { file: file.path, dest });
    }
    // Changed since the last recorded apply: also true after a crash between writing the file and restarting.
    const changed = !same || (previous !== undefined && previous.hash !== hash);
    const batch = batchOf(ctx);
    if (batch) {
      touch(batch, uf.unit, file.path, changed, uf.dropIn, current === null && !uf.dropIn);
      if (!same) batch.reload = true;
    }
    return { resource: { name: dest, hash }, changed };
  },

  async remove(ctx, previous, relPath) {
    if (previous.name === SKIPPED) return;
    try {
      await removePlaced(ctx, previous.name, relPath);
    } catch (err) {
      if (err instanceof SystemctlError) throw new MethodError(err.message, relPath, { cause: err, retryable: err.retryable });
      throw err;
    }
  },

  async finish(ctx) {
    const batch = batchOf(ctx);
    return batch ? finishBatch(ctx, batch) : [];
  },
  healthy: systemdHealthy,
};
