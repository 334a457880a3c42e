/**
 * A reproducible tar of a directory (what `fetchit push` uploads): entries in
 * byte order of their paths, mtime 0, uid/gid 0, modes reduced to what git
 * keeps (0644, 0755 for executables, 0755 directories), symlinks kept, other
 * file types refused; gzip at a fixed level (header mtime 0). The same tree
 * gives the same bytes, hence the same digest.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { GitError } from "../errors.ts";

interface Entry {
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  data?: Uint8Array;
  link?: string;
}

const BLOCK = 512;
const enc = new TextEncoder();

/** Every entry under `root` (relative paths, sorted), `.git` directories skipped. */
export function walk(root: string, rel = ""): Entry[] {
  const out: Entry[] = [];
  const names = readdirSync(join(root, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    if (name === ".git") continue;
    const path = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, path));
    if (st.isSymbolicLink()) out.push({ path, type: "symlink", mode: 0o777, link: readlinkSync(join(root, path)) });
    else if (st.isDirectory()) out.push({ path, type: "dir", mode: 0o755 }, ...walk(root, path));
    else if (st.isFile()) out.push({ path, type: "file", mode: st.mode & 0o111 ? 0o755 : 0o644, data: readFileSync(join(root, path)) });
    else throw new GitError(`${join(root, path)}: not a file, directory or symlink; fetchit push packs only those`);
  }
  return out;
}

function field(h: Uint8Array, at: number, len: number, v: string): void {
  const b = enc.encode(v);
  if (b.length > len) throw new GitError(`tar: ${JSON.stringify(v)} does not fit an archive header`);
  h.set(b, at);
}
const oct = (n: number, w: number) => n.toString(8).padStart(w - 1, "0");

/** A PAX header carrying a long path or link name. */
function pax(e: Entry): Uint8Array[] {
  const recs = [["path", e.type === "dir" ? `${e.path}/` : e.path], ...(e.link ? [["linkpath", e.link]] : [])].map(([k, v]) => {
    const body = ` ${k}=${v}\n`;
    let n = enc.encode(body).length + 1;
    while (String(n).length + enc.encode(body).length !== n) n = String(n).length + enc.encode(body).length;
    return `${n}${body}`;
  });
  const data = enc.encode(recs.join(""));
  return [header({ path: "PaxHeader", type: "file", mode: 0o644 }, "x", data.length), ...padded(data)];
}

function header(e: Entry, type: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const name = e.type === "dir" ? `${e.path}/` : e.path;
  field(h, 0, 100, enc.encode(name).length <= 100 ? name : name.slice(0, 99));
  field(h, 100, 8, oct(e.mode, 8));
  field(h, 108, 8, oct(0, 8));
  field(h, 116, 8, oct(0, 8));
  field(h, 124, 12, oct(size, 12));
  field(h, 136, 12, oct(0, 12));
  field(h, 148, 8, "        ");
  field(h, 156, 1, type);
  if (e.link && enc.encode(e.link).length <= 100) field(h, 157, 100, e.link);
  field(h, 257, 6, "ustar\0");
  field(h, 263, 2, "00");
  field(h, 148, 8, `${oct(h.reduce((a, b) => a + b, 0), 7)}\0`);
  return h;
}

const padded = (d: Uint8Array): Uint8Array[] => (d.length % BLOCK ? [d, new Uint8Array(BLOCK - (d.length % BLOCK))] : [d]);

/** The tar bytes of `root`. */
export function tarTree(root: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of walk(root)) {
    const long = enc.encode(e.type === "dir" ? `${e.path}/` : e.path).length > 100 || (e.link !== undefined && enc.encode(e.link).length > 100);
    if (long) parts.push(...pax(e));
    const size = e.data?.length ?? 0;
    parts.push(header(e, e.type === "dir" ? "5" : e.type === "symlink" ? "2" : "0", size));
    if (size) parts.push(...padded(e.data!));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(parts);
}

/** The gzip-compressed reproducible tar of `root` (the layer `fetchit push` uploads). */
export function packTree(root: string): Uint8Array {
  return gzipSync(tarTree(root), { level: 9 });
}
