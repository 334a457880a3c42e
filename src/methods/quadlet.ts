/**
 * quadlet: places Podman Quadlet files (.container, .pod, .kube, .network,
 * .volume, .image, .build) where systemd's quadlet generator reads them, run
 * directly on the host. Each file is checked with the generator's dry run
 * before it is placed (a rejected file is reported with the generator's words
 * and never placed); after all files of an apply, one daemon-reload, then the
 * generated services of new files start, those of changed files restart
 * (`restart`, default true) and each is checked to stay up. A deleted file's
 * service is stopped and the file removed. Other files under targetPath (a
 * .kube's YAML, environment files) are placed alongside; when one changes,
 * the placed quadlet files that name it are restarted.
 */
import { posix } from "node:path";
import type { QuadletMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";
import { batchOf, note, quadletDirectory, settle, type Batch, type Deferred } from "./quadlet-batch.ts";
import { namesFile, QUADLET_TYPES, quadletSuffix, serviceOf } from "./quadlet-units.ts";
import { validateQuadlet } from "./quadlet-validate.ts";
import { quadletHealthy } from "./quadlet-health.ts";
import { destinationOf } from "./filetransfer.ts";
import type { FileFailure, Method, MethodContext } from "./types.ts";

type Ctx = MethodContext<QuadletMethod>;

/**
 * Writes `d` unless the host has it already, after the generator accepted it;
 * notes its service. Returns whether the file changed. A file the host
 * already has was checked when it was placed: no dry run again.
 */
async function place(ctx: Ctx, batch: Batch, d: Deferred, dest: string): Promise<boolean> {
  const { env } = batch;
  const quadlet = quadletSuffix(d.relPath) !== undefined;
  const current = await ctx.fs.readFile(dest);
  const changed = !current || sha256(current) !== d.hash;
  const services = !quadlet
    ? []
    : changed
      ? await validateQuadlet({ ...ctx, ...env, relPath: d.relPath, path: d.path, content: d.content })
      : [serviceOf(d.relPath, d.content.toString("utf8"))!];
  if (changed) {
    await ctx.fs.writeFileAtomic(dest, d.content, 0o644);
    ctx.log.info(current ? "quadlet file updated" : "quadlet file placed", { file: d.path, dest, services: services.join(" ") || undefined });
    if (!quadlet) batch.supportChanged.push({ dest, file: d.path });
  }
  for (const service of services) {
    if (!current) note(batch, service, "start", d.path);
    else if (changed && ctx.config.restart !== false) note(batch, service, "restart", d.path);
    else if ((await env.systemctl.isActive(service)) !== "active") note(batch, service, "start", d.path);
    else if (changed) ctx.log.info("quadlet file changed; restart is false, so it takes effect at the service's next start", { file: d.path, service });
  }
  if (changed) batch.reload = true;
  return changed;
}

/** Placed quadlet files in the directory of a changed support file that name it: their services restart. */
async function dependentsOf(ctx: Ctx, batch: Batch, dest: string, file: string): Promise<void> {
  if (ctx.config.restart === false) return;
  const dir = posix.dirname(dest);
  const name = posix.basename(dest);
  for (const entry of await ctx.fs.readDir(dir)) {
    if (!quadletSuffix(entry)) continue;
    const text = (await ctx.fs.readFile(posix.join(dir, entry)))?.toString("utf8") ?? "";
    if (!namesFile(text, name)) continue;
    const service = serviceOf(entry, text)!;
    if ((await batch.env.systemctl.isActive(service)) === "active") note(batch, service, "restart", file);
  }
}

/** Removes a placed file and the directories it leaves empty below the destination. */
async function removeFile(ctx: Ctx, batch: Batch, path: string): Promise<void> {
  if (await ctx.fs.remove(path)) ctx.log.info("quadlet file removed", { dest: path });
  for (let dir = posix.dirname(path); dir.startsWith(batch.env.dir + "/") && (await ctx.fs.removeEmptyDir(dir)); ) dir = posix.dirname(dir);
}

/** Refuses anything but a regular file below the destination directory. */
async function checkDest(ctx: Ctx, dest: string, path: string): Promise<void> {
  const st = await ctx.fs.lstat(dest);
  if (st && st.kind !== "file") throw new MethodError(`${dest} on the host is a ${st.kind}, not a file; remove it first`, path);
}

export const quadlet: Method<QuadletMethod> = {
  kind: "quadlet",

  async prepare(ctx) {
    const batch = await batchOf(ctx, true);
    const st = await ctx.fs.lstat(batch.env.dir);
    if (st && st.kind !== "dir") throw new MethodError(`quadlet directory ${batch.env.dir} exists but is a ${st.kind}, not a directory`, undefined);
    if (!st) {
      await ctx.fs.mkdirp(batch.env.dir);
      ctx.log.info("created quadlet directory", { dir: batch.env.dir });
    }
  },

  async identify(ctx, file) {
    // No host check here (plan calls this): only where the file goes.
    return { name: destinationOf(quadletDirectory(ctx.config), file.relPath), hash: sha256(await file.content()) };
  },

  async apply(ctx, file, previous) {
    if (file.mode === "120000" || file.mode === "160000") {
      throw new MethodError(`is a ${file.mode === "120000" ? "symlink" : "git submodule"} in the repository; quadlet places regular files only`, file.path);
    }
    const batch = await batchOf(ctx);
    const dest = destinationOf(batch.env.dir, file.relPath);
    await checkDest(ctx, dest, file.path);
    const content = await file.content();
    const d: Deferred = { relPath: file.relPath, path: file.path, content, hash: sha256(content) };
    if (previous && previous.name !== dest) await this.remove(ctx, previous, file.relPath);
    let changed: boolean;
    try {
      changed = await place(ctx, batch, d, dest);
    } catch (err) {
      // Only a missing referenced unit: another file of this apply may place it; finish checks again.
      if (!(batch.finishing && err instanceof MethodError && err.retryable)) throw err;
      ctx.log.info("quadlet file references a unit not placed yet; checked again after the other files", { file: file.path, why: err.message });
      batch.deferred.push(d);
      return { resource: { name: dest, hash: d.hash }, changed: true };
    }
    if (!batch.finishing) {
      const failures = await settle(ctx, batch);
      if (failures[0]) throw failures[0].error;
    }
    return { resource: { name: dest, hash: d.hash }, changed };
  },

  /** Stops the file's service, removes the file (recorded path, a regular file only) and reloads. */
  async remove(ctx, previous, relPath) {
    const path = previous.name;
    if (!path.startsWith("/") || posix.normalize(path) !== path) {
      throw new MethodError(`recorded path ${JSON.stringify(path)} is not a clean absolute path; not removing it`, relPath);
    }
    const batch = await batchOf(ctx);
    const st = await ctx.fs.lstat(path);
    if (st && st.kind !== "file") throw new MethodError(`${path} on the host is a ${st.kind}; not removing it`, relPath);
    const content = st ? ((await ctx.fs.readFile(path))?.toString("utf8") ?? "") : "";
    const service = serviceOf(path, content);
    // Another file's service may still need it to stop (`podman kube down` reads a .kube's YAML): removed in finish.
    if (!service && batch.finishing) {
      batch.supportRemoved.push(path);
      return;
    }
    if (service) {
      const state = await batch.env.systemctl.state(service);
      if (!["inactive", "failed"].includes(state.activeState) && state.loadState !== "not-found") {
        await batch.env.systemctl.stop([service]);
        ctx.log.info("quadlet service stopped", { service, file: relPath });
      }
      await batch.env.systemctl.resetFailed(service);
    }
    await removeFile(ctx, batch, path);
    batch.reload = true;
    if (!batch.finishing) await settle(ctx, batch);
  },

  async finish(ctx): Promise<FileFailure[]> {
    const batch = await batchOf(ctx);
    const failures: FileFailure[] = [];
    // Files that referenced a unit placed later in this apply: the generator checks them again now.
    for (const d of batch.deferred.splice(0)) {
      try {
        await place(ctx, batch, d, destinationOf(batch.env.dir, d.relPath));
      } catch (error) {
        // Still missing after every file of the commit is placed: the commit's problem, not a transient one.
        const final = error instanceof MethodError && error.retryable ? new MethodError(error.message.slice(`${d.path}: `.length), d.path) : error;
        failures.push({ file: d.path, error: final });
      }
    }
    for (const { dest, file } of batch.supportChanged.splice(0)) await dependentsOf(ctx, batch, dest, file);
    for (const path of batch.supportRemoved.splice(0)) await removeFile(ctx, batch, path);
    return [...failures, ...(await settle(ctx, batch))];
  },
  healthy: quadletHealthy,
};

/** The suffixes quadlet generates services from (for docs and tests). */
export const QUADLET_SUFFIXES = Object.keys(QUADLET_TYPES);
