/**
 * A minimal ustar writer: enough to copy a playbook into a created container
 * with `PUT /containers/{name}/archive` (so the playbook never needs a host
 * directory the Podman service can see). Pure.
 */

export interface TarEntry {
  /** Relative path with `/`; directories end without a slash. */
  path: string;
  /** Absent for a directory. */
  data?: Uint8Array;
  mode?: number;
}

const BLOCK = 512;
const enc = new TextEncoder();

function putString(buf: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = enc.encode(value);
  if (bytes.length > length) throw new Error(`tar: "${value}" does not fit in ${length} bytes`);
  buf.set(bytes, offset);
}

const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0");

/** Splits a long path into ustar's prefix (≤155) and name (≤100) at a `/`. */
function splitPath(path: string): { prefix: string; name: string } {
  if (enc.encode(path).length <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100) return { prefix, name };
  }
  throw new Error(`tar: path too long for an archive entry: ${path}`);
}

function header(e: TarEntry): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const dir = e.data === undefined;
  const { prefix, name } = splitPath(dir ? `${e.path}/` : e.path);
  putString(h, 0, 100, name);
  putString(h, 100, 8, octal(e.mode ?? (dir ? 0o755 : 0o644), 8));
  putString(h, 108, 8, octal(0, 8));
  putString(h, 116, 8, octal(0, 8));
  putString(h, 124, 12, octal(e.data?.length ?? 0, 12));
  putString(h, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
  putString(h, 148, 8, "        ");
  putString(h, 156, 1, dir ? "5" : "0");
  putString(h, 257, 6, "ustar\0");
  putString(h, 263, 2, "00");
  putString(h, 265, 32, "root");
  putString(h, 297, 32, "root");
  putString(h, 345, 155, prefix);
  const sum = h.reduce((a, b) => a + b, 0);
  putString(h, 148, 8, `${octal(sum, 7)}\0`);
  return h;
}

/** The archive of `entries`, parents listed before children by the caller. */
export function tarArchive(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if (e.data?.length) {
      parts.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Entries for `files` under `root`, each parent directory once (root included), parents before children. */
export function filesWithParents(root: string, files: { relPath: string; data: Uint8Array; mode?: number }[]): TarEntry[] {
  const dirs = new Set<string>();
  const out: TarEntry[] = [];
  for (const f of files) {
    const full = `${root}/${f.relPath}`.replace(/\/+/g, "/").replace(/^\//, "");
    const parts = full.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!dirs.has(dir)) out.push({ path: dir });
      dirs.add(dir);
    }
    out.push({ path: full, data: f.data, ...(f.mode !== undefined ? { mode: f.mode } : {}) });
  }
  return out;
}
