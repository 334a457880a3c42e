/**
 * OCI image layouts on disk as disconnected sources (air gap): `url:
 * oci:/PATH[:TAG]` (a directory with `oci-layout`, `index.json`, `blobs/`)
 * or `oci-archive:/FILE[:TAG]` (a tar of one), on a host path or, with
 * `device`, under the device's mount point. Change detection is the digest
 * `index.json` names for the tag; every blob is checked against its digest
 * as it enters the blob store. While the media is absent, the last digest
 * stays (SourceUnavailableError before the first one).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { GitError } from "../errors.ts";
import { tarEntries, type ArchiveEntry } from "../git/archive-entries.ts";
import { SourceUnavailableError } from "../git/index.ts";
import type { Logger } from "../log.ts";
import { mountPointOf } from "../tasks/image-source.ts";
import { DEFAULT_MAX_BLOB, type BlobStore } from "./blobs.ts";
import type { Descriptor, ImageIndex } from "./manifest.ts";
import { digestHex } from "./reference.ts";
import type { ManifestReader } from "./source.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";

/** True for `oci:PATH[:TAG]` and `oci-archive:PATH[:TAG]` (not `oci://`, a registry). */
export const isLayoutUrl = (url: string | undefined): boolean => typeof url === "string" && /^oci(-archive)?:(?!\/\/)/i.test(url);

/** `oci:/media/usb/layout:prod` → archive false, path, tag "prod". */
export function parseLayoutUrl(url: string): { archive: boolean; path: string; tag?: string } {
  const archive = /^oci-archive:/i.test(url);
  let path = url.slice(url.indexOf(":") + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon > path.lastIndexOf("/")) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  return { archive, path, ...(tag ? { tag } : {}) };
}

export interface LayoutOptions {
  url: string;
  /** Block device whose mount point holds the (relative) path. */
  device?: string;
  /** Where the last digest is remembered, for when the media is absent. */
  stateFile: string;
  log: Logger;
  readMounts?: () => string;
}

type Files = { read(rel: string): Promise<Buffer>; close(): Promise<void> };

export class LayoutReader implements ManifestReader {
  readonly label: string;
  private warned?: string;

  constructor(private o: LayoutOptions) {
    this.label = o.device ? `${o.device}:${o.url}` : o.url;
  }

  private locate(): string | { unavailable: string } {
    const { path } = parseLayoutUrl(this.o.url);
    if (isAbsolute(path) && !this.o.device) return existsSync(path) ? path : { unavailable: `${path} does not exist` };
    if (!this.o.device) return { unavailable: `${path} is relative and no device is set` };
    const mount = mountPointOf(this.o.device, (this.o.readMounts ?? (() => readFileSync("/proc/mounts", "utf8")))());
    if (!mount) return { unavailable: `device ${this.o.device} is not mounted (fetchit does not mount devices)` };
    const full = join(mount, path);
    return existsSync(full) ? full : { unavailable: `${full} does not exist` };
  }

  /** Opens the layout (directory or tar) for reading. */
  private async files(where: string): Promise<Files> {
    if (!parseLayoutUrl(this.o.url).archive && statSync(where).isDirectory()) {
      return { read: (rel) => readFile(join(where, rel)), close: async () => {} };
    }
    const fh = await open(where, "r");
    const entries = new Map<string, ArchiveEntry>();
    for (const e of await tarEntries(fh, (await fh.stat()).size, this.label)) entries.set(e.path.replace(/^\.\//, ""), e);
    return {
      read: async (rel) => {
        const e = entries.get(rel);
        if (!e || e.type !== "file") throw new GitError(`${this.label}: ${rel} is missing from the layout archive`);
        return entryBytes(e, this.label, rel);
      },
      close: () => fh.close(),
    };
  }

  private async withFiles<T>(fn: (f: Files) => Promise<T>): Promise<T> {
    const where = this.locate();
    if (typeof where !== "string") throw new SourceUnavailableError(`${this.label}: ${where.unavailable}`);
    const f = await this.files(where);
    try {
      return await fn(f);
    } finally {
      await f.close();
    }
  }

  async resolve(): Promise<string> {
    const where = this.locate();
    if (typeof where !== "string") return this.unavailable(where.unavailable);
    if (this.warned) this.o.log.info("oci layout available again");
    this.warned = undefined;
    const digest = await this.withFiles(async (f) => pickTagged(JSON.parse((await f.read("index.json")).toString("utf8")) as ImageIndex, parseLayoutUrl(this.o.url).tag, this.label));
    await mkdir(dirname(this.o.stateFile), { recursive: true });
    await writeFile(this.o.stateFile, JSON.stringify({ digest }) + "\n");
    return digest;
  }

  private async unavailable(reason: string): Promise<string> {
    const last = existsSync(this.o.stateFile) ? (JSON.parse(readFileSync(this.o.stateFile, "utf8")) as { digest?: string }).digest : undefined;
    if (this.warned !== reason) this.o.log.warn(last ? "oci layout unavailable; keeping the content imported before" : "oci layout unavailable; nothing imported yet, waiting for it", { reason });
    this.warned = reason;
    if (last) return last;
    throw new SourceUnavailableError(`${this.label}: ${reason}; waiting for it (nothing imported yet)`);
  }

  async manifest(digest: string): Promise<{ bytes: Uint8Array }> {
    const bytes = await this.withFiles((f) => f.read(`blobs/sha256/${digestHex(digest)}`));
    const got = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (got !== digest) throw new GitError(`${this.label}: manifest ${digest} does not match its digest (got ${got}); refused`);
    return { bytes };
  }

  async blob(store: BlobStore, desc: Descriptor): Promise<string> {
    if (store.has(desc.digest)) return store.path(desc.digest);
    const bytes = await this.withFiles((f) => f.read(`blobs/sha256/${digestHex(desc.digest)}`));
    return store.ingest(new Response(bytes), desc, DEFAULT_MAX_BLOB, `${this.label}: blob ${desc.digest}`);
  }
}

/** The manifest of `tag` (by its ref.name annotation), or the only one when no tag is given. */
export function pickTagged(index: ImageIndex, tag: string | undefined, label: string): string {
  const list = index.manifests ?? [];
  const pick = tag ? list.filter((d) => d.annotations?.[REF_NAME] === tag) : list;
  const names = list.map((d) => d.annotations?.[REF_NAME] ?? "(untagged)").join(", ") || "none";
  if (pick.length !== 1 || !pick[0]) {
    throw new GitError(`${label}: ${tag ? `no manifest tagged ${JSON.stringify(tag)}` : `${list.length} manifests and no tag in the url`} in index.json (it has: ${names}); name one as oci:PATH:TAG`);
  }
  return pick[0].digest;
}

/** A tar member's bytes (data() is for link targets only), refused past the blob size limit. */
async function entryBytes(e: ArchiveEntry, label: string, rel: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of e.stream()) {
    n += c.length;
    if (n > DEFAULT_MAX_BLOB) throw new GitError(`${label}: ${rel} is larger than the blob limit (${DEFAULT_MAX_BLOB} bytes)`);
    parts.push(Buffer.from(c)); // pieces may share one buffer: copy each
  }
  return Buffer.concat(parts, n);
}
