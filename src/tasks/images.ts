/**
 * The image loader (FetchIt's `images[]`): loads a docker-archive or
 * oci-archive (optionally gzip) from a URL or a host path into Podman, and
 * again whenever the archive changes. An unavailable source keeps what was
 * loaded and is logged once; a bad archive fails once per version (the same
 * archive is not retried until it changes or fetchit restarts); nothing else
 * is touched.
 */
import { join } from "node:path";
import { imageEntryName } from "../config/index.ts";
import type { ImageConfig } from "../config/types.ts";
import { errorMessage, FetchitError, isRetryable } from "../errors.ts";
import {
  archiveBody, decodeFingerprint, encodeFingerprint, probeFile, probeUrl, removeTemp, resolveImagePath, SourceUnavailable, uncompressed,
  type Fingerprint, type Probe,
} from "./image-source.ts";
import { IMAGES_TARGET, type Task, type TaskContext, type TaskOutcome } from "./types.ts";

/** What one loader remembers between runs of the daemon (not persisted). */
interface Memory {
  /** The archive version whose load failed permanently: not retried until the archive changes. */
  failed?: Fingerprint;
  /** Why the source was unavailable last time (to log a change once, not every tick). */
  unavailable?: string;
}

/** One image loader; temp files go to `<stateDir>/tmp`. */
export function createImagesTask(cfg: ImageConfig, stateDir: string): Task {
  const name = imageEntryName(cfg);
  const memory: Memory = {};
  return {
    kind: "images",
    id: `${IMAGES_TARGET}/images/${name}`,
    key: { target: IMAGES_TARGET, kind: "images", method: name },
    schedule: cfg.schedule,
    ...(cfg.skew ? { skew: cfg.skew } : {}),
    run: (ctx) => runImages(cfg, join(stateDir, "tmp"), memory, ctx),
  };
}

async function runImages(cfg: ImageConfig, tmpDir: string, memory: Memory, ctx: TaskContext): Promise<TaskOutcome> {
  let source: string;
  try {
    source = cfg.url || resolveImagePath(cfg.imagePath ?? "", cfg.device);
  } catch (err) {
    if (err instanceof SourceUnavailable) return unavailable(err.message, memory, ctx);
    throw err;
  }
  const prev = ctx.state.resources[source];
  const loaded = prev && (await stillLoaded(ctx, prev.name)) ? decodeFingerprint(prev.hash) : undefined;
  const known = { loaded, failed: memory.failed };
  const probe: Probe = cfg.url ? await probeUrl(cfg.url, known, tmpDir) : await probeFile(source, known);
  if (probe.kind === "unavailable") return unavailable(probe.reason, memory, ctx);
  if (memory.unavailable) ctx.log.info("image archive available again", { source });
  memory.unavailable = undefined;
  if (probe.kind !== "same" || probe.as !== "failed") memory.failed = undefined; // the failed version is gone
  if (probe.kind === "same" && probe.as === "failed") {
    ctx.log.debug("image archive unchanged since its load failed; waiting for a new one", { source });
    return { status: "skipped", changed: 0, note: "archive unchanged since its load failed" };
  }
  if (probe.kind === "same") {
    ctx.log.debug("image archive unchanged", { source });
    const hash = encodeFingerprint(probe.fp);
    if (!prev || prev.hash === hash) return { status: "unchanged", changed: 0 };
    ctx.state.resources[source] = { ...prev, hash }; // same content, new mtime or validators: remember them
    return { status: "unchanged", changed: 0, save: true };
  }
  const names = await loadNew(source, probe, tmpDir, memory, ctx);
  ctx.state.resources = { [source]: { name: names.join(", "), hash: encodeFingerprint(probe.fp) } };
  ctx.log.info(prev ? "image archive changed; loaded again" : "image archive loaded", { source, images: names.join(", ") });
  return { status: "applied", changed: 1, note: `loaded ${names.join(", ") || "(no names reported)"}` };
}

/** Whether every image recorded as loaded is still in Podman (someone may have removed or pruned it). */
async function stillLoaded(ctx: TaskContext, names: string): Promise<boolean> {
  for (const ref of names.split(", ").filter(Boolean)) {
    if (!(await ctx.deps.podman.imageExists(ref))) {
      ctx.log.info("a loaded image is no longer in Podman; the archive will be loaded again", { image: ref });
      return false;
    }
  }
  return true;
}

/** Loads a new archive version; a permanent failure is remembered so that version is not retried. */
async function loadNew(source: string, probe: Extract<Probe, { kind: "new" }>, tmpDir: string, memory: Memory, ctx: TaskContext): Promise<string[]> {
  try {
    const archive = await uncompressed(probe.file, tmpDir);
    try {
      return await ctx.deps.podman.loadImage(archiveBody(archive.file));
    } finally {
      await archive.cleanup();
    }
  } catch (err) {
    if (!isRetryable(err)) memory.failed = probe.fp;
    throw new FetchitError(`image archive ${source}: ${loadMessage(err)}`, { cause: err, retryable: isRetryable(err) });
  } finally {
    if (probe.temp) await removeTemp(probe.file);
  }
}

/** Podman's "payload does not match …" lists every format it tried; one line says it better. */
function loadMessage(err: unknown): string {
  const msg = errorMessage(err);
  if (/payload does not match any of the supported image formats/.test(msg)) {
    return "not a docker-archive or oci-archive image archive (Podman: payload does not match any of the supported image formats)";
  }
  return msg;
}

/** The source cannot be read now: keep what is loaded, say so once (warn), then only at debug. */
function unavailable(reason: string, memory: Memory, ctx: TaskContext): TaskOutcome {
  const kept = Object.values(ctx.state.resources).map((r) => r.name).join(", ");
  const msg = kept ? "image archive unavailable; keeping the image loaded before" : "image archive unavailable; nothing loaded yet, will look again on schedule";
  if (memory.unavailable === reason) ctx.log.debug(msg, { reason, kept: kept || undefined });
  else ctx.log.warn(msg, { reason, kept: kept || undefined });
  memory.unavailable = reason;
  return { status: "skipped", changed: 0, note: `source unavailable: ${reason}` };
}
