/**
 * Real git repositories for tests (no mocks): a temporary non-bare working
 * repository on branch `main` plays the remote; tests commit, rename, reset
 * (force push) and branch in it. Temp dirs are removed at process exit.
 */
import { mkdtempSync } from "node:fs";
import { appendFile, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { createScratchDir } from "./exec.ts";

/** Content of one file: text, bytes, or a symbolic link to `symlink`. */
export type FileContent = string | Buffer | { symlink: string };

/** A repository that tests use as the remote of a GitSource. */
export interface TestRemote {
  /** Working directory of the repository. */
  dir: string;
  /** `file://` URL of `dir`. */
  url: string;
  /** Writes (or with null deletes) files, commits everything, returns the new sha. */
  commit(changes: Record<string, FileContent | null>, message?: string): Promise<string>;
  /** `git mv from to` and commit; returns the new sha. */
  rename(from: string, to: string, message?: string): Promise<string>;
  head(): Promise<string>;
  /** `git reset --hard <sha>` on the current branch — with a later commit, a force push. */
  resetHard(sha: string): Promise<void>;
  /** Switches to branch `name`, creating it at the current commit when missing. */
  branch(name: string): Promise<void>;
  /** The simple-git handle of `dir`, for anything else. */
  git: SimpleGit;
  cleanup(): Promise<void>;
}

const LOCAL_CONFIG = `[user]
\tname = Fetchit Test
\temail = test@fetchit.invalid
[commit]
\tgpgsign = false
`;

let root: string | undefined;

/**
 * A fresh temporary directory, removed when the test process ends. All of them
 * live in one scratch directory guarded by a watchdog (`bun test` emits no
 * "exit" event, so an exit hook alone would leave them behind in /tmp).
 */
export function tempDir(prefix = "fetchit-git-"): string {
  root ??= createScratchDir("fetchit-tests-");
  return mkdtempSync(join(root, prefix));
}

/** Creates the remote with one initial commit holding `files` (an empty commit when none). */
export async function createRemote(files: Record<string, FileContent> = {}): Promise<TestRemote> {
  const dir = tempDir("fetchit-remote-");
  const git = simpleGit({ baseDir: dir });
  await git.raw(["init", "--initial-branch=main"]);
  // Written directly: each `git config` call would cost a process (and simple-git's 50 ms silence wait).
  await appendFile(join(dir, ".git", "config"), LOCAL_CONFIG);
  // Commands print something (no --quiet): simple-git waits 50 ms more for silent ones.
  const commitAll = async (message: string): Promise<string> => {
    await git.raw(["add", "--all", "--verbose"]);
    await git.raw(["commit", "--allow-empty", "--no-verify", "-m", message]);
    return head();
  };
  const head = async () => (await git.revparse(["HEAD"])).trim();
  await writeFiles(dir, files);
  await commitAll("initial");
  return {
    dir,
    url: `file://${dir}`,
    git,
    commit: async (changes, message = "update") => {
      await writeFiles(dir, changes);
      return commitAll(message);
    },
    rename: async (from, to, message = `rename ${from} to ${to}`) => {
      await mkdir(dirname(join(dir, to)), { recursive: true });
      await git.raw(["mv", "--verbose", "--", from, to]);
      return commitAll(message);
    },
    head,
    resetHard: async (sha) => void (await git.raw(["reset", "--hard", sha])),
    branch: async (name) => {
      const exists = (await git.raw(["branch", "--list", name])).trim() !== "";
      await git.raw(exists ? ["checkout", name] : ["checkout", "-b", name]);
    },
    cleanup: async () => {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function writeFiles(dir: string, files: Record<string, FileContent | null>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await rm(path, { recursive: true, force: true });
    if (content === null) continue;
    await mkdir(dirname(path), { recursive: true });
    if (typeof content === "object" && !Buffer.isBuffer(content)) await symlink(content.symlink, path);
    else await writeFile(path, content);
  }
}
