/**
 * Importing the content of a disconnected source into the target's bare
 * repository, as the commit behind `refs/fetchit/head`: a git bundle is
 * fetched from, a repository directory (extracted from an archive or on a
 * mount) is fetched from after its config, hooks and alternates are dropped,
 * and a plain file tree is committed (as a child of the previous head, and
 * only when its tree differs), so the ordinary diff, delete and state path
 * of the git source works unchanged.
 */
import { existsSync, statSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GitError } from "../errors.ts";
import { HEAD_REF } from "./fetch.ts";
import { hostProblemAdvice } from "./local-failure.ts";
import { gitEnv } from "./runner.ts";

/** Runs git with GIT_DIR=`gitDir` (plus `env`); rejects with a GitError carrying git's stderr. */
export async function gitAt(gitDir: string, args: string[], env: Record<string, string> = {}, cwd = gitDir): Promise<string> {
  const proc = Bun.spawn(["git", ...args], {
    cwd,
    env: { ...gitEnv("ssh -o BatchMode=yes"), GIT_DIR: gitDir, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 300_000,
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code === 0) return out;
  const msg = err.trim().split("\n").join("; ") || `exited with ${code}`;
  // A full or read-only state dir is this host's problem, not the archive's: retried with back-off, never remembered as a bad archive.
  const advice = hostProblemAdvice(msg);
  const command = args.find((a, i) => !a.startsWith("-") && args[i - 1] !== "-c") ?? "";
  throw new GitError(`git ${command}: ${msg}${advice ? ` (${advice})` : ""}`, { local: advice !== undefined });
}

/** The sha in HEAD_REF, or undefined before the first import. */
export async function currentHead(repo: string): Promise<string | undefined> {
  return (await gitAt(repo, ["rev-parse", "--verify", "-q", HEAD_REF]).catch(() => ""))?.trim() || undefined;
}

/** `sha ref` lines (ls-remote or bundle list-heads) → the ref to take: refs/heads/<branch>, else HEAD, else the only branch. */
function pickRef(listing: string, branch: string, label: string): string {
  const refs = listing.split("\n").flatMap((l) => {
    const [sha, ref] = l.trim().split(/\s+/);
    return sha && ref ? [ref] : [];
  });
  const heads = refs.filter((r) => r.startsWith("refs/heads/"));
  if (branch) {
    if (refs.includes(`refs/heads/${branch}`)) return `refs/heads/${branch}`;
    throw new GitError(`${label}: branch "${branch}" is not in it (branches: ${heads.map((h) => h.slice(11)).join(", ") || "none"}); fix branch in the config or rebuild the source`);
  }
  if (refs.includes("HEAD")) return "HEAD";
  if (heads.length === 1 && heads[0]) return heads[0];
  throw new GitError(`${label}: holds ${heads.length} branches and no HEAD; set branch in the target`);
}

/**
 * `--upload-pack` for a repository owned by another user (removable media):
 * git refuses it as of "dubious ownership" unless safe.directory names it,
 * which the local transport only takes on upload-pack's own command line.
 * upload-pack runs no hooks or programs from the repository's config.
 */
const uploadPack = (gitDir: string) => `--upload-pack=git -c safe.directory='${gitDir.replace(/'/g, `'\\''`)}' upload-pack`;

/** Fetches `ref` of `from` (a bundle file or a repository) into HEAD_REF; returns the new head. */
async function fetchInto(repo: string, from: string, ref: string, label: string, gitDir?: string): Promise<string> {
  try {
    const up = gitDir ? [uploadPack(gitDir)] : [];
    await gitAt(repo, ["fetch", ...up, "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--", from, `+${ref}:${HEAD_REF}`]);
  } catch (err) {
    const hint = /prerequisite/i.test((err as Error).message) ? " (an incremental bundle needs the commits of the previous one; ship a full bundle: git bundle create FILE BRANCH)" : "";
    throw new GitError(`${label}: importing failed: ${(err as Error).message}${hint}`, { cause: err, local: err instanceof GitError && err.local });
  }
  return (await currentHead(repo)) ?? "";
}

/** Imports a git bundle file. */
export async function importBundle(repo: string, bundle: string, branch: string, label: string): Promise<string> {
  let heads: string;
  try {
    heads = await gitAt(repo, ["bundle", "list-heads", bundle]);
  } catch (err) {
    throw new GitError(`${label}: not a usable git bundle: ${(err as Error).message}`, { cause: err });
  }
  return fetchInto(repo, bundle, pickRef(heads, branch, label), label);
}

/** The git directory inside `root`: `root/.git`, `root` itself when bare, or undefined for a plain tree. */
export function findGitDir(root: string): string | undefined {
  const dotGit = join(root, ".git");
  if (existsSync(dotGit) && statSync(dotGit).isDirectory()) return dotGit;
  const bare = ["HEAD", "objects", "refs"].every((n) => existsSync(join(root, n)));
  return bare ? root : undefined;
}

/** When an extracted archive holds one directory and nothing else, and it is a repository, that directory. */
export async function unwrapSingleDir(root: string): Promise<string> {
  const names = await readdir(root);
  if (names.length !== 1 || !names[0]) return root;
  const only = join(root, names[0]);
  return statSync(only).isDirectory() && findGitDir(only) ? only : root;
}

/**
 * Makes an untrusted extracted repository safe to fetch from: its config is
 * replaced by a minimal one (no hooks, fsmonitor or filters from the
 * archive), hooks and object alternates are removed.
 */
export async function neuterRepository(gitDir: string): Promise<void> {
  await writeFile(join(gitDir, "config"), "[core]\n\trepositoryformatversion = 0\n");
  for (const p of ["hooks", "objects/info/alternates", "objects/info/http-alternates", "commondir"]) {
    await rm(join(gitDir, p), { recursive: true, force: true });
  }
}

/** Imports from a repository directory (`gitDir` is its git directory). */
export async function importRepository(repo: string, gitDir: string, branch: string, label: string): Promise<string> {
  const url = "file://" + gitDir.replace(/%/g, "%25");
  let listing: string;
  try {
    listing = await gitAt(repo, ["ls-remote", uploadPack(gitDir), "--", url]);
  } catch (err) {
    throw new GitError(`${label}: not a readable git repository: ${(err as Error).message}`, { cause: err });
  }
  const ref = pickRef(listing, branch, label);
  const want = listing.split("\n").find((l) => l.trim().split(/\s+/)[1] === ref)?.split(/\s+/)[0];
  const head = await currentHead(repo);
  if (want && want === head) return head;
  return fetchInto(repo, url, ref, label, gitDir);
}

const FETCHIT_IDENT = { name: "fetchit", email: "fetchit@localhost" };

/**
 * Commits the plain file tree `root` as the new head (child of the previous
 * head). The same tree as the head's gives the head back. `indexFile`: git's
 * index for this tree (kept between runs for a directory source, so unchanged
 * files are not read again).
 */
export async function importTree(repo: string, root: string, indexFile: string, label: string): Promise<string> {
  const env = { GIT_WORK_TREE: root, GIT_INDEX_FILE: indexFile };
  // Files over core.bigFileThreshold are streamed into a pack rather than read whole (git's own memory stays small too).
  await gitAt(repo, ["-c", "core.bare=false", "-c", "core.bigFileThreshold=1m", "add", "--all", "--force", "--", "."], env, root).catch(async (err: unknown) => {
    await removeGitTemps(repo); // a full disk leaves git's half-written pack behind, taking the space a retry needs
    throw err;
  });
  const tree = (await gitAt(repo, ["write-tree"], env)).trim();
  const head = await currentHead(repo);
  if (head && (await gitAt(repo, ["rev-parse", `${head}^{tree}`])).trim() === tree) return head;
  const ident = { GIT_AUTHOR_NAME: FETCHIT_IDENT.name, GIT_AUTHOR_EMAIL: FETCHIT_IDENT.email, GIT_COMMITTER_NAME: FETCHIT_IDENT.name, GIT_COMMITTER_EMAIL: FETCHIT_IDENT.email };
  const message = `fetchit: content of ${label}\n\nImported from a plain file tree (no git history in the source).`;
  const commit = (await gitAt(repo, ["commit-tree", tree, ...(head ? ["-p", head] : []), "-m", message], ident)).trim();
  await gitAt(repo, ["update-ref", HEAD_REF, commit]);
  return commit;
}

/** git's temp files of a failed write (`objects/pack/tmp_pack_*`, `objects/xx/tmp_obj_*`); only while no other git runs in `repo` (imports run one at a time). */
async function removeGitTemps(repo: string): Promise<void> {
  const objects = join(repo, "objects");
  for (const sub of ["pack", ...(await readdir(objects).catch(() => [] as string[])).filter((d) => /^[0-9a-f]{2}$/.test(d))]) {
    for (const n of await readdir(join(objects, sub)).catch(() => [] as string[])) {
      if (n.startsWith("tmp_")) await rm(join(objects, sub, n), { force: true });
    }
  }
}

/** True when `sha` was made by {@link importTree} (for a clearer signature error). */
export async function isImportedTree(repo: string, sha: string): Promise<boolean> {
  const who = await gitAt(repo, ["log", "-1", "--no-show-signature", "--format=%ae%x00%s", sha]).catch(() => "");
  return who.startsWith(`${FETCHIT_IDENT.email}\0fetchit: content of `);
}
