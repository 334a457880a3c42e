/**
 * Readers of the two archive formats a disconnected source may be: zip
 * (stored or deflate, no ZIP64, no encryption) and tar (ustar, pax and GNU
 * long names). Both read through positional reads of a file handle, so an
 * archive is never held in memory whole; only one entry's bytes at a time.
 * No checks of the paths here: archive.ts decides what may be extracted.
 */
import type { FileHandle } from "node:fs/promises";
import { crc32, inflateRawSync } from "node:zlib";
import { GitError } from "../errors.ts";

/** One member of an archive, as the archive states it (unchecked). */
export interface ArchiveEntry {
  /** Path as stored, e.g. `dir/file.txt`, `dir/`, maybe hostile (`../x`, `/etc/x`). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  /** Unix permission bits when the archive has them; 0o644 otherwise. */
  mode: number;
  /** What a tar hard link, device or fifo is, for the error message. */
  what?: string;
  /** The entry's bytes (a symlink's target for symlinks). */
  data(): Promise<Buffer>;
}

const bad = (archive: string, why: string) => new GitError(`${archive}: not a readable archive: ${why}`, { retryable: false });

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

const S_IFMT = 0o170000;

/** Entries of a zip file (`label` names it in errors). */
export async function zipEntries(fh: FileHandle, size: number, label: string): Promise<ArchiveEntry[]> {
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await readAt(fh, size - tailLen, tailLen);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > tail.length) throw bad(label, "no zip end-of-central-directory record");
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw bad(label, "ZIP64 archives are not supported; use a tar file or a git bundle");
  const cd = await readAt(fh, cdOffset, cdSize);
  const out: ArchiveEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw bad(label, `central directory entry ${i} is damaged`);
    const madeBy = cd.readUInt16LE(p + 4) >> 8;
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    const compSize = cd.readUInt32LE(p + 20);
    const rawSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const skip = nameLen + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    const attr = cd.readUInt32LE(p + 38);
    const local = cd.readUInt32LE(p + 42);
    const path = cd.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    p += 46 + skip;
    if (flags & 1) throw bad(label, `${path} is encrypted`);
    const unixMode = madeBy === 3 ? attr >>> 16 : 0;
    const kind = unixMode & S_IFMT;
    const type = path.endsWith("/") || kind === 0o040000 ? "dir" : kind === 0o120000 ? "symlink" : kind === 0 || kind === 0o100000 ? "file" : "other";
    const data = async (): Promise<Buffer> => {
      const head = await readAt(fh, local, 30);
      if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50) throw bad(label, `local header of ${path} is damaged`);
      const raw = await readAt(fh, local + 30 + head.readUInt16LE(26) + head.readUInt16LE(28), compSize);
      if (method !== 0 && method !== 8) throw bad(label, `${path} uses compression method ${method} (only stored and deflate are supported)`);
      let body: Buffer;
      try {
        body = method === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(rawSize, 1) });
      } catch (err) {
        throw bad(label, `${path} does not inflate: ${(err as Error).message}`);
      }
      if (body.length !== rawSize || crc32(body) !== crc) throw bad(label, `${path} fails its size or CRC check`);
      return body;
    };
    out.push({ path, type, mode: unixMode & 0o7777 || 0o644, data, ...(type === "other" ? { what: "a special file" } : {}) });
  }
  return out;
}

/** A tar number: octal text, or base-256 when the top bit of the first byte is set. */
function tarNumber(field: Buffer): number {
  if (field[0] !== undefined && field[0] & 0x80) {
    let n = field[0] & 0x7f;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : parseInt(text, 8);
}

const cstr = (b: Buffer) => b.toString("utf8").replace(/\0.*$/s, "");

/** `path` and `linkpath` of pax extended header records (`<len> key=value\n`). */
function paxRecords(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.toString("utf8").split("\n")) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m?.[1]) out[m[1]] = m[2] ?? "";
  }
  return out;
}

const TAR_OTHER: Record<string, string> = { "1": "a hard link", "3": "a character device", "4": "a block device", "6": "a fifo" };

/** Entries of an uncompressed tar file (`label` names it in errors). */
export async function tarEntries(fh: FileHandle, size: number, label: string): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  let pos = 0;
  let next: { path?: string; linkpath?: string } = {};
  while (pos + 512 <= size) {
    const h = await readAt(fh, pos, 512);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
    if (sum !== tarNumber(h.subarray(148, 156))) throw bad(label, `tar header at byte ${pos} fails its checksum`);
    const len = tarNumber(h.subarray(124, 136));
    const flag = String.fromCharCode(h[156] ?? 0);
    const start = pos + 512;
    pos = start + Math.ceil(len / 512) * 512;
    if (pos > size) throw bad(label, "tar file is truncated");
    const body = () => readAt(fh, start, len);
    if (flag === "x") next = { ...next, ...paxRecords(await body()) };
    else if (flag === "L") next.path = cstr(await body());
    else if (flag === "K") next.linkpath = cstr(await body());
    else if (flag !== "g") {
      const prefix = h.subarray(257, 262).toString("latin1") === "ustar" ? cstr(h.subarray(345, 500)) : "";
      const path = next.path ?? (prefix ? `${prefix}/` : "") + cstr(h.subarray(0, 100));
      const link = next.linkpath ?? cstr(h.subarray(157, 257));
      next = {};
      const type = flag === "5" ? "dir" : flag === "2" ? "symlink" : flag === "0" || flag === "\0" || flag === "7" ? "file" : "other";
      const data = type === "symlink" ? async () => Buffer.from(link) : body;
      const what = TAR_OTHER[flag] ?? `an entry of tar type ${JSON.stringify(flag)}`;
      out.push({ path, type, mode: tarNumber(h.subarray(100, 108)) & 0o7777, data, ...(type === "other" ? { what } : {}) });
    }
  }
  return out;
}
