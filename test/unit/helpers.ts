/**
 * Tiny in-memory stand-ins shared by the unit tests: a collecting Logger, a
 * GitSource over hand-written commits, a recording Method, and a PodmanClient
 * that only knows about images.
 */
import { mkdtempSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineDeps } from "../../src/engine/context.ts";
import type { MethodJob } from "../../src/engine/run-method.ts";
import type { FileChange, GitSource } from "../../src/git/index.ts";
import { createHostFs } from "../../src/host/fs.ts";
import type { Fields, Logger } from "../../src/log.ts";
import type { Method } from "../../src/methods/index.ts";
import type { PodmanClient } from "../../src/podman/index.ts";
import { createStateStore, type ManagedResource } from "../../src/state/store.ts";

export interface LogLine {
  level: "error" | "warn" | "info" | "debug";
  msg: string;
  fields: Fields;
}

export function collectingLogger(lines: LogLine[] = [], base: Fields = {}): Logger & { lines: LogLine[] } {
  const at = (level: LogLine["level"]) => (msg: string, fields?: Fields) => void lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    lines,
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    child: (fields) => collectingLogger(lines, { ...base, ...fields }),
  };
}

/** Files of one commit: relPath → content. Blob ids are derived from the content. */
export type Tree = Record<string, string>;
const blobOf = (content: string) => `blob:${content}`;

export interface FakeSource extends GitSource {
  commits: Map<string, Tree>;
  head: string;
  /** Set to make fetch() throw. */
  fetchError?: unknown;
  calls: { fetch: number; diff: [string | null, string][]; pins: [string, string][] };
}

/** A GitSource whose targetPath is "raw": repository paths are `raw/<relPath>`. */
export function fakeSource(commits: Record<string, Tree>, head: string): FakeSource {
  const src: FakeSource = {
    url: "https://example.invalid/repo.git",
    branch: "main",
    dir: "/nonexistent",
    commits: new Map(Object.entries(commits)),
    head,
    calls: { fetch: 0, diff: [], pins: [] },
    async fetch() {
      src.calls.fetch++;
      if (src.fetchError) throw src.fetchError;
      return src.head;
    },
    forget() {},
    async diff(from, to) {
      src.calls.diff.push([from, to]);
      const a = from ? src.commits.get(from)! : {};
      const b = src.commits.get(to)!;
      const out: FileChange[] = [];
      for (const [rel, content] of Object.entries(b)) {
        const old = a[rel];
        if (old === undefined) out.push({ status: "added", path: `raw/${rel}`, relPath: rel, blob: blobOf(content), mode: "100644" });
        else if (old !== content)
          out.push({
            status: "modified", path: `raw/${rel}`, relPath: rel, blob: blobOf(content), mode: "100644",
            oldPath: `raw/${rel}`, oldRelPath: rel, oldBlob: blobOf(old), oldMode: "100644",
          });
      }
      for (const [rel, content] of Object.entries(a)) {
        if (!(rel in b)) out.push({ status: "deleted", oldPath: `raw/${rel}`, oldRelPath: rel, oldBlob: blobOf(content), oldMode: "100644" });
      }
      return out;
    },
    async pathExists(commit) {
      return src.commits.has(commit);
    },
    async readBlob(sha) {
      return Buffer.from(sha.replace(/^blob:/, ""));
    },
    async blobSize(sha) {
      return Buffer.byteLength(sha.replace(/^blob:/, ""));
    },
    async *streamBlob(sha) {
      yield Buffer.from(sha.replace(/^blob:/, ""));
    },
    async copyBlobTo(sha, fd) {
      writeSync(fd, Buffer.from(sha.replace(/^blob:/, "")));
    },
    async commitInfo(sha) {
      return { sha, subject: `subject of ${sha}`, date: "2024-01-01T00:00:00Z" };
    },
    async hasCommit(sha) {
      return src.commits.has(sha);
    },
    async pin(name, sha) {
      src.calls.pins.push([name, sha]);
    },
    async unpin() {},
  };
  return src;
}

export interface MethodCall {
  op: "prepare" | "identify" | "apply" | "remove";
  relPath?: string;
  previous?: ManagedResource;
}

/**
 * A method whose resource is `c-<relPath>` hashed by content. `fail(relPath, content)`
 * returning an Error makes apply throw it.
 */
export function fakeMethod(opts: { fail?: (relPath: string, content: string) => unknown; delayMs?: number } = {}) {
  const calls: MethodCall[] = [];
  let inFlight = 0;
  const stats = { maxInFlight: 0 };
  const method: Method = {
    kind: "raw",
    async prepare() {
      calls.push({ op: "prepare" });
    },
    async identify(_ctx, file) {
      calls.push({ op: "identify", relPath: file.relPath });
      return { name: `c-${file.relPath}`, hash: (await file.content()).toString() };
    },
    async apply(_ctx, file, previous) {
      calls.push({ op: "apply", relPath: file.relPath, previous });
      inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      try {
        if (opts.delayMs) await Bun.sleep(opts.delayMs);
        const content = (await file.content()).toString();
        const err = opts.fail?.(file.relPath, content);
        if (err) throw err;
        return { resource: { name: `c-${file.relPath}`, hash: content }, changed: previous?.hash !== content };
      } finally {
        inFlight--;
      }
    },
    async remove(_ctx, previous, relPath) {
      calls.push({ op: "remove", relPath, previous });
      if (opts.delayMs) await Bun.sleep(opts.delayMs);
    },
  };
  return { method, calls, stats };
}

export function fakePodman(existing: string[] = []) {
  const calls = { exists: [] as string[], pulls: [] as string[] };
  const podman = {
    async imageExists(ref: string) {
      calls.exists.push(ref);
      await Bun.sleep(1);
      return existing.includes(ref);
    },
    async pullImage(ref: string) {
      calls.pulls.push(ref);
      await Bun.sleep(5);
      return `id-${ref}`;
    },
  } as unknown as PodmanClient;
  return { podman, calls };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "fetchit-unit-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function engineDeps(stateDir: string, extra: Partial<EngineDeps> = {}): EngineDeps & { log: ReturnType<typeof collectingLogger> } {
  return {
    podman: fakePodman().podman,
    fs: createHostFs(),
    exec: async () => ({ code: 0, stdout: "", stderr: "" }),
    state: createStateStore(createHostFs(), stateDir),
    log: collectingLogger(),
    ...extra,
  } as EngineDeps & { log: ReturnType<typeof collectingLogger> };
}

export function methodJob(source: GitSource, method: Method): MethodJob {
  return {
    key: { target: "t1", kind: "raw", method: "apps" },
    kind: "raw",
    impl: method,
    config: { name: "apps", schedule: "* * * * *", targetPath: "raw" },
    source,
  };
}
