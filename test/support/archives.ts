/**
 * Image archives for the image loader tests: `podman save` of the test image
 * under a name of its own (untagged again, so a load is observable), and a
 * local HTTP server with ETag / Last-Modified that counts its answers.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestPodman } from "./podman.ts";

let seq = 0;

/**
 * Writes an archive of the test image tagged `ref` to `file` (replacing it
 * atomically), then removes the tag `ref`. `format`: docker-archive or
 * oci-archive; `gzip` compresses it with Bun.gzipSync.
 */
export async function saveArchive(podman: TestPodman, file: string, ref: string, format = "docker-archive", gzip = false): Promise<void> {
  const tmp = `${file}.save-${process.pid}-${++seq}`;
  await podman.cli(["tag", podman.image, ref]);
  await podman.cli(["save", "--format", format, "-o", tmp, ref]);
  await podman.cli(["rmi", ref]);
  if (gzip) writeFileSync(tmp, Bun.gzipSync(readFileSync(tmp)));
  renameSync(tmp, file);
}

/** A running archive server. */
export interface ArchiveServer {
  /** URL of a served name; `plain/<name>` serves the same file without ETag or Last-Modified. */
  url(name: string): string;
  /** Answers by status, e.g. `{ 200: 1, 304: 2 }`. */
  counts: Record<number, number>;
  stop(): void;
}

/** ETag (content hash) and Last-Modified of a file, and whether a request's validators still match. */
function validators(path: string, req: Request): { headers: Record<string, string>; notModified: boolean } {
  const etag = `"${createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16)}"`;
  const mtime = statSync(path).mtime;
  const inm = req.headers.get("if-none-match");
  const ims = req.headers.get("if-modified-since");
  const notModified = inm ? inm === etag : ims ? Math.floor(mtime.getTime() / 1000) * 1000 <= Date.parse(ims) : false;
  return { headers: { etag, "last-modified": mtime.toUTCString() }, notModified };
}

/** Serves `files` (URL name → path on disk, read at request time) on 127.0.0.1, port chosen by the OS. */
export function serveArchives(files: Record<string, string>): ArchiveServer {
  const counts: Record<number, number> = {};
  const answer = (req: Request): Response => {
    const name = new URL(req.url).pathname.slice(1);
    const plain = name.startsWith("plain/");
    const path = files[plain ? name.slice("plain/".length) : name];
    if (!path || !existsSync(path)) return new Response("not found", { status: 404 });
    if (plain) return new Response(Bun.file(path));
    const v = validators(path, req);
    return v.notModified ? new Response(null, { status: 304, headers: v.headers }) : new Response(Bun.file(path), { headers: v.headers });
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const res = answer(req);
      counts[res.status] = (counts[res.status] ?? 0) + 1;
      return res;
    },
  });
  return { url: (name) => `http://127.0.0.1:${server.port}/${name}`, counts, stop: () => void server.stop(true) };
}

/** The files left in `<stateDir>/tmp` (downloads and unpacked archives must be gone after a run). */
export function tempLeftovers(stateDir: string): string[] {
  const tmp = join(stateDir, "tmp");
  return existsSync(tmp) ? Array.from(new Bun.Glob("*").scanSync(tmp)) : [];
}
