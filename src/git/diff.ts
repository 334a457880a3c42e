/**
 * Changes between two commits under a method's targetPath, read with
 * `git diff-tree -r -M --raw -z` (rename detection; FetchIt has none), then
 * filtered by glob and extension on the path relative to targetPath.
 */
import { posix } from "node:path";
import { GitError } from "../errors.ts";
import { compileGlob } from "./glob.ts";
import type { GitRunner } from "./runner.ts";
import type { FileChange, PathFilter } from "./types.ts";

/** The empty tree (SHA-1 repositories); git knows it without storing it. */
export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
/** Submodule entries: their "blob" is a commit of another repository, never readable here. */
const GITLINK = "160000";
const NO_MODE = "000000";

/** One record of `git diff-tree --raw -z`. */
export interface RawEntry {
  /** A, M, D, R or T (type change); copies are not requested. */
  status: string;
  oldMode: string;
  newMode: string;
  oldBlob: string;
  newBlob: string;
  oldPath: string;
  newPath: string;
}

/** "./apps/" → "apps"; "" and "." → "" (the repository root). */
export function normalizeTargetPath(targetPath: string): string {
  const p = posix.normalize(targetPath.replace(/^\/+/, "")).replace(/\/+$/, "");
  return p === "." ? "" : p;
}

/** Throws unless `sha` looks like an object id (so it can never be taken for an option or a path). */
export function assertSha(sha: string, what = "commit"): void {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) throw new GitError(`git: invalid ${what} id ${JSON.stringify(sha)}`);
}

/** Parses `git diff-tree -r --raw -z` output. */
export function parseRawDiff(out: string): RawEntry[] {
  const tokens = out.split("\0");
  const entries: RawEntry[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const meta = tokens[i]!;
    if (!meta.startsWith(":")) continue;
    const [oldMode = "", newMode = "", oldBlob = "", newBlob = "", score = ""] = meta.slice(1).split(" ");
    const status = score.charAt(0);
    const first = tokens[++i] ?? "";
    const second = status === "R" || status === "C" ? (tokens[++i] ?? "") : first;
    entries.push({ status, oldMode, newMode, oldBlob, newBlob, oldPath: first, newPath: second });
  }
  return entries;
}

/** Path relative to the target: for a file target its basename, for a directory the rest of the path. */
export function relativeTo(target: string, path: string): string {
  if (target === "") return path;
  return path === target ? posix.basename(path) : path.slice(target.length + 1);
}

/** Suffix of repository files rendered as templates before they are applied (`web.container.tmpl` is `web.container`). */
export const TEMPLATE_SUFFIX = ".tmpl";

/**
 * Builds the predicate for glob + extension suffixes, applied to relPath. A
 * template (`*.tmpl`) is judged by the name it renders to, so `app.json.tmpl`
 * is a raw spec and matches glob `*.json`.
 */
export function fileMatcher(filter: PathFilter): (relPath: string) => boolean {
  const glob = compileGlob(filter.glob);
  const exts = filter.extensions ?? [];
  return (rel) => {
    const name = rel.endsWith(TEMPLATE_SUFFIX) ? rel.slice(0, -TEMPLATE_SUFFIX.length) : rel;
    return (glob(name) || glob(rel)) && (exts.length === 0 || exts.some((e) => name.endsWith(e)));
  };
}

/** Maps one raw entry to a FileChange, or null when neither side passes the filter. */
export function toFileChange(e: RawEntry, target: string, match: (rel: string) => boolean): FileChange | null {
  const hasOld = e.status !== "A" && e.oldMode !== NO_MODE && e.oldMode !== GITLINK;
  const hasNew = e.status !== "D" && e.newMode !== NO_MODE && e.newMode !== GITLINK;
  const oldRel = relativeTo(target, e.oldPath);
  const newRel = relativeTo(target, e.newPath);
  const oldOk = hasOld && match(oldRel);
  const newOk = hasNew && match(newRel);
  const oldSide = { oldPath: e.oldPath, oldRelPath: oldRel, oldBlob: e.oldBlob, oldMode: e.oldMode };
  const newSide = { path: e.newPath, relPath: newRel, blob: e.newBlob, mode: e.newMode };
  if (oldOk && newOk) return { status: e.status === "R" ? "renamed" : "modified", ...newSide, ...oldSide };
  if (newOk) return { status: "added", ...newSide };
  if (oldOk) return { status: "deleted", ...oldSide };
  return null;
}

/**
 * Files that changed under `filter.targetPath` between `from` (null = empty
 * tree) and `to`. A targetPath missing in both commits yields [].
 */
export async function diffCommits(
  git: GitRunner,
  from: string | null,
  to: string,
  filter: PathFilter,
): Promise<FileChange[]> {
  assertSha(to);
  if (from !== null) assertSha(from);
  if (from === to) return [];
  const target = normalizeTargetPath(filter.targetPath);
  const args = ["diff-tree", "-r", "-M", "--raw", "-z", "--no-commit-id", from ?? EMPTY_TREE, to];
  if (target !== "") args.push("--", `:(literal)${target}`);
  let out: string;
  try {
    out = await git.run(args);
  } catch (err) {
    const range = `${from?.slice(0, 12) ?? "(empty)"}..${to.slice(0, 12)}`;
    throw new GitError(`git: cannot diff ${range} under "${target || "."}": ${(err as Error).message}`, { cause: err });
  }
  const match = fileMatcher(filter);
  const changes: FileChange[] = [];
  for (const entry of parseRawDiff(out)) {
    const change = toFileChange(entry, target, match);
    if (change) changes.push(change);
  }
  return changes;
}

/** True when `path` (file or directory; "" = root) exists in `commit`. */
export async function pathExistsAt(git: GitRunner, commit: string, path: string): Promise<boolean> {
  assertSha(commit);
  const target = normalizeTargetPath(path);
  const spec = target === "" ? `${commit}^{tree}` : `${commit}:${target}`;
  // `-t` rather than `-e`: one probe that prints the type, and fails like `-e` when the object is missing.
  const type = (await git.tryRun(["cat-file", "-t", spec]))?.trim();
  return type === "tree" || type === "blob";
}
