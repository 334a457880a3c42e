/**
 * Readers of the two archive formats a disconnected source may be: zip
 * (stored or deflate, no ZIP64, no encryption) and tar (ustar, pax and GNU
 * long names). Both read through positional reads of a file handle, and an
 * entry's bytes are streamed in 64 KiB pieces (inflated as they come), so
 * neither an archive nor an entry is ever held in memory whole. Sizes in
 * headers are only declarations: a zip entry that inflates past its declared
 * size is stopped there. No checks of the paths here: archive.ts decides
 * what may be extracted.
 */
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { createInflateRaw, crc32 } from "node:zlib";
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
  /** Uncompressed size the archive declares (never trusted: extraction counts what it writes). */
  size: number;
  /** Bytes the entry takes in the archive (compressed size for zip; the size for tar). */
  stored: number;
  /** Where the entry's data lies in the archive file: [start, end) (zip: from its local header). */
  span: [number, number];
  /** The entry's bytes in pieces, stopped with an error past the declared size. */
  stream(): AsyncIterable<Uint8Array>;
  /** A symbolic link's target (small; refused over 4 KiB). */
  data(): Promise<Buffer>;
}

/** Piece size of the positional reads. */
const PIECE = 64 * 1024;

/** Longest symbolic link target read. */
const MAX_LINK = 4096;

/**
 * `len` bytes at `pos` of the file in pieces. With `reuse`, every piece is
 * the same buffer (no garbage per piece): only for a consumer that is done
 * with a piece before it asks for the next (not a stream that queues them).
 */
async function* pieces(fh: FileHandle, pos: number, len: number, reuse = false): AsyncGenerator<Buffer> {
  const shared = reuse ? Buffer.allocUnsafe(Math.min(PIECE, len)) : undefined;
  for (let off = 0; off < len; ) {
    const buf = shared ?? Buffer.allocUnsafe(Math.min(PIECE, len - off));
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, len - off), pos + off);
    if (bytesRead === 0) return;
    off += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** All of a small stream (a link target, a tar header extension), refused past `max` bytes. */
async function small(chunks: AsyncIterable<Uint8Array>, label: string, path: string, max = MAX_LINK): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of chunks) {
    n += c.length;
    if (n > max) throw bad(label, `${path} is over ${max} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts, n);
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
  if (cdOffset + cdSize > size) throw bad(label, "the zip central directory lies past the end of the file");
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
    const entry = { path, method, compSize, rawSize, crc, local, label };
    const stream = () => zipStream(fh, entry);
    const span: [number, number] = [local, local + 30 + nameLen + compSize];
    const data = () => small(stream(), label, `the symbolic link ${path}`);
    out.push({ path, type, mode: unixMode & 0o7777 || 0o644, size: rawSize, stored: compSize, span, stream, data, ...(type === "other" ? { what: "a special file" } : {}) });
  }
  return out;
}

interface ZipMember {
  path: string;
  method: number;
  compSize: number;
  rawSize: number;
  crc: number;
  local: number;
  label: string;
}

/**
 * A zip member's bytes: stored, or inflated piece by piece. More output than
 * the declared size stops it at once (a bomb lying about its size); less, or
 * a CRC mismatch, fails it at the end.
 */
async function* zipStream(fh: FileHandle, m: ZipMember): AsyncGenerator<Uint8Array> {
  const head = Buffer.alloc(30);
  const { bytesRead } = await fh.read(head, 0, 30, m.local);
  if (bytesRead < 30 || head.readUInt32LE(0) !== 0x04034b50) throw bad(m.label, `local header of ${m.path} is damaged`);
  if (m.method !== 0 && m.method !== 8) throw bad(m.label, `${m.path} uses compression method ${m.method} (only stored and deflate are supported)`);
  const raw = pieces(fh, m.local + 30 + head.readUInt16LE(26) + head.readUInt16LE(28), m.compSize, m.method === 0);
  const inflater = m.method === 8 ? createInflateRaw() : undefined;
  const out: AsyncIterable<Uint8Array> = inflater ? Readable.from(raw).pipe(inflater) : raw;
  let n = 0;
  let crc = 0;
  try {
    for await (const chunk of out) {
      n += chunk.length;
      if (n > m.rawSize) throw bad(m.label, `${m.path} inflates past its declared size of ${m.rawSize} bytes (a zip bomb?)`);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof GitError) throw err;
    throw bad(m.label, `${m.path} does not inflate: ${(err as Error).message}`);
  } finally {
    inflater?.destroy();
  }
  if (n !== m.rawSize || crc !== m.crc) throw bad(m.label, `${m.path} fails its size or CRC check`);
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
    const body = () => small(pieces(fh, start, len), label, `the tar header extension at byte ${start - 512}`, 1024 * 1024);
    if (flag === "x") next = { ...next, ...paxRecords(await body()) };
    else if (flag === "L") next.path = cstr(await body());
    else if (flag === "K") next.linkpath = cstr(await body());
    else if (flag !== "g") {
      const prefix = h.subarray(257, 262).toString("latin1") === "ustar" ? cstr(h.subarray(345, 500)) : "";
      const path = next.path ?? (prefix ? `${prefix}/` : "") + cstr(h.subarray(0, 100));
      const link = next.linkpath ?? cstr(h.subarray(157, 257));
      next = {};
      const type = flag === "5" ? "dir" : flag === "2" ? "symlink" : flag === "0" || flag === "\0" || flag === "7" ? "file" : "other";
      const stream = () => pieces(fh, start, type === "file" ? len : 0, true);
      const data = async () => Buffer.from(link);
      const what = TAR_OTHER[flag] ?? `an entry of tar type ${JSON.stringify(flag)}`;
      const size = type === "file" ? len : 0;
      out.push({ path, type, mode: tarNumber(h.subarray(100, 108)) & 0o7777, size, stored: size, span: [start, start + size], stream, data, ...(type === "other" ? { what } : {}) });
    }
  }
  return out;
}
