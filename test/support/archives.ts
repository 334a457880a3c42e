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

/** How a repository is packed for a disconnected source. */
export type RepoArtifact = "bundle" | "zip" | "zip-tree" | "tar" | "tar.gz" | "tar-tree";

/** Runs a command in `cwd`; throws with its stderr when it fails. */
export async function run(cmd: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err.trim()}${cmd[0] === "zip" ? " (install zip: apt-get install zip)" : ""}`);
  return out;
}

/**
 * Packs the working repository `repoDir` (branch main) into `file`, replacing
 * it atomically: a git bundle, a zip or tar(.gz) of the directory with its
 * .git (zip -ry / tar), or of the plain tree at HEAD (git archive, no .git).
 */
export async function packRepo(repoDir: string, kind: RepoArtifact, file: string): Promise<void> {
  const tmp = `${file}.pack-${process.pid}-${++seq}`;
  const cmds: Record<RepoArtifact, string[]> = {
    bundle: ["git", "bundle", "create", tmp, "main"],
    zip: ["zip", "-q", "-r", "-y", tmp, "."],
    "zip-tree": ["git", "archive", "--format=zip", "-o", tmp, "HEAD"],
    tar: ["tar", "-cf", tmp, "."],
    "tar.gz": ["tar", "-czf", tmp, "."],
    "tar-tree": ["git", "archive", "--format=tar", "-o", tmp, "HEAD"],
  };
  await run(cmds[kind], repoDir);
  renameSync(tmp, file);
}

/**
 * A hostile archive written by Python's zipfile/tarfile (entries a normal
 * tool would not produce): `entries` maps names to text, or `{ symlink }`.
 */
export async function craftArchive(file: string, format: "zip" | "tar", entries: [string, string | { symlink: string }][]): Promise<void> {
  const script = `
import json, sys, tarfile, zipfile, io
fmt, out, entries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if fmt == "zip":
    z = zipfile.ZipFile(out, "w")
    for name, v in entries:
        if isinstance(v, dict):
            info = zipfile.ZipInfo(name); info.create_system = 3; info.external_attr = (0o120777 << 16)
            z.writestr(info, v["symlink"])
        else:
            z.writestr(name, v)
    z.close()
else:
    t = tarfile.open(out, "w")
    for name, v in entries:
        info = tarfile.TarInfo(name)
        if isinstance(v, dict):
            info.type = tarfile.SYMTYPE; info.linkname = v["symlink"]; t.addfile(info)
        else:
            data = v.encode(); info.size = len(data); t.addfile(info, io.BytesIO(data))
    t.close()
`;
  await run(["python3", "-c", script, format, file, JSON.stringify(entries)], ".");
}

/** A disconnected target `usb` reading `url` (path or URL) with one filetransfer of `files/` into `dest`; `extra`: more target lines. */
export const disconnectedConfig = (url: string, dest: string, extra = "") =>
  `targetConfigs:\n  - name: usb\n    disconnected: true\n    url: ${url}\n    branch: main\n${extra}` +
  `    filetransfer:\n      - name: ft\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n`;
