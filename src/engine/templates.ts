/**
 * Repository files ending in `.tmpl` are rendered with the host's template
 * context (facts, labels, values) before a method sees them: one render step
 * before identify. The method sees the name without the suffix
 * (`web.container.tmpl` is the quadlet `web.container`), the rendered bytes
 * and their git blob id, so hashes and "changed?" follow the rendering.
 */
import { createHash } from "node:crypto";
import { writeSync } from "node:fs";
import { MethodError } from "../errors.ts";
import type { TemplateContext } from "../fleet/context.ts";
import { describeTemplateError, renderTemplate, TemplateError } from "../fleet/template.ts";
import { TEMPLATE_SUFFIX } from "../git/index.ts";
import type { DesiredFile } from "../methods/types.ts";
import type { MethodState } from "../state/store.ts";

/** Templates are rendered in memory: at most this many bytes of template. */
export const MAX_TEMPLATE = 1024 * 1024;

export const isTemplateFile = (relPath: string): boolean => relPath.endsWith(TEMPLATE_SUFFIX);

/** Git's object id of `content` as a blob (sha1, or sha256 for a sha256 repository). */
export function gitBlobId(content: Buffer, algo: "sha1" | "sha256"): string {
  return createHash(algo).update(`blob ${content.length}\0`).update(content).digest("hex");
}

/** `file` itself, or for a `.tmpl` file its rendering; a template error fails this file only, naming file, line and variable. */
export async function renderedFile(file: DesiredFile, ctx: TemplateContext | undefined): Promise<DesiredFile> {
  if (!isTemplateFile(file.relPath)) return file;
  if (!ctx) throw new MethodError("is a template (.tmpl) but no template context was loaded; this is a bug in fetchit", file.path);
  const size = await file.size();
  if (size > MAX_TEMPLATE) throw new MethodError(`is a template of ${size} bytes; templates are rendered in memory and may hold at most 1 MiB (drop the .tmpl suffix for a plain file)`, file.path);
  let out: Buffer;
  try {
    out = Buffer.from(renderTemplate((await file.content()).toString("utf8"), ctx), "utf8");
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    throw new MethodError(`template ${describeTemplateError(err)}`, file.path);
  }
  return {
    relPath: file.relPath.slice(0, -TEMPLATE_SUFFIX.length),
    path: file.path,
    blob: gitBlobId(out, file.blob.length === 64 ? "sha256" : "sha1"),
    mode: file.mode,
    content: async () => out,
    size: async () => out.length,
    stream: async function* () {
      yield out;
    },
    copyTo: async (fd) => {
      for (let off = 0; off < out.length; ) off += writeSync(fd, out, off);
    },
  };
}

/** sha256 of the context (keys sorted): what the state records to notice a change of labels, values or facts. */
export function contextHash(ctx: TemplateContext): string {
  const known = hashes.get(ctx);
  if (known) return known; // asked every tick: a context is fixed from one (re)load to the next
  const canonical = JSON.stringify(ctx, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
  const hash = createHash("sha256").update(canonical).digest("hex");
  hashes.set(ctx, hash);
  return hash;
}
const hashes = new WeakMap<TemplateContext, string>();

/** True when the applied templates were rendered with another context than `ctx` (the re-render touches `.tmpl` files only). */
export const templatesStale = (ctx: TemplateContext | undefined, st: MethodState): boolean =>
  ctx !== undefined && st.contextHash !== undefined && st.contextHash !== contextHash(ctx);
