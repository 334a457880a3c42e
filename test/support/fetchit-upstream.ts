/**
 * FetchIt's own repository (containers/fetchit) as its users have it: the
 * example configs (`examples/*.yaml`) and the content they point at, read
 * unchanged from a local mirror, served to fetchit over file://.
 *
 * The mirror is `$FETCHIT_UPSTREAM_REPO` or /work/.mirror/containers+fetchit/repo
 * (a bare clone); a missing mirror fails the tests, it never skips them.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "./exec.ts";
import { tempDir } from "./git.ts";
import type { TestPodman } from "./podman.ts";

export const UPSTREAM = process.env.FETCHIT_UPSTREAM_REPO ?? "/work/.mirror/containers+fetchit/repo";

function requireMirror(): string {
  if (!existsSync(UPSTREAM)) throw new Error(`FetchIt's repository is not at ${UPSTREAM}: clone https://github.com/containers/fetchit there (git clone --mirror) or set FETCHIT_UPSTREAM_REPO`);
  return UPSTREAM;
}

/** `git show HEAD:<path>` of the upstream repository (the main branch). */
export async function upstreamFile(path: string, rev = "HEAD"): Promise<string> {
  return await runOk(["git", "-C", requireMirror(), "show", `${rev}:${path}`]);
}

/** Paths under `dir` at the upstream HEAD (files only, recursive). */
export async function upstreamTree(dir: string): Promise<string[]> {
  const out = await runOk(["git", "-C", requireMirror(), "ls-tree", "-r", "--name-only", "HEAD", "--", dir]);
  return out.split("\n").filter(Boolean);
}

/** The example configs FetchIt ships: `examples/*.yaml` (names only). */
export async function upstreamConfigs(): Promise<string[]> {
  return (await upstreamTree("examples")).filter((p) => /^examples\/[^/]+\.yaml$/.test(p)).map((p) => p.slice("examples/".length));
}

/**
 * A bare copy of the upstream repository (the last commit of `main` and
 * `ci`, shallow) with the other branches FetchIt's examples name
 * (`gitsign` of sallyom/fetchit, `fix-target-path` of josephsawaya/fetchit)
 * pointing at main's commit; its file:// URL.
 */
export async function upstreamCopy(): Promise<string> {
  const dir = join(tempDir("fetchit-upstream-"), "fetchit.git");
  await runOk(["git", "init", "--quiet", "--bare", "--initial-branch=main", dir]);
  await runOk(["git", "-C", dir, "fetch", "--quiet", "--depth", "1", `file://${requireMirror()}`, "refs/heads/main:refs/heads/main", "refs/heads/ci:refs/heads/ci"]);
  for (const b of ["gitsign", "fix-target-path"]) await runOk(["git", "-C", dir, "update-ref", `refs/heads/${b}`, "refs/heads/main"]);
  return `file://${dir}`;
}

/**
 * An example config made to run here: every git `url:` → `repoUrl`, every
 * `destinationDirectory:` → `dest`/<n>, other URLs as given in `urls`
 * (exact text). Nothing else in the file changes.
 */
export function localConfig(text: string, opts: { repoUrl: string; dest?: string; urls?: Record<string, string> }): string {
  let n = 0;
  let out = text.replace(/^(\s*-?\s*url:\s*)(https:\/\/github\.com\/\S+|git@github\.com:\S+)\s*$/gm, (_m, pre: string) => `${pre}${opts.repoUrl}`);
  if (opts.dest) out = out.replace(/^(\s*destinationDirectory:\s*).*$/gm, (_m, pre: string) => `${pre}${opts.dest}/${n++}`);
  for (const [from, to] of Object.entries(opts.urls ?? {})) out = out.replaceAll(from, to);
  return out;
}

/**
 * The images FetchIt's examples run, made locally from the test busybox
 * image (nothing can be pulled here): the same names, a command that keeps
 * serving on the port the example publishes (busybox httpd).
 */
export const UPSTREAM_IMAGES: Record<string, string[]> = {
  "docker.io/mmumshad/simple-webapp-color:latest": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
  "docker.io/library/nginx:latest": ["httpd", "-f", "-p", "80", "-h", "/var/www"],
  "quay.io/fetchit/fetchit-sample-app:latest": ["httpd", "-f", "-p", "80", "-h", "/var/www"],
  "quay.io/notreal/httpd:latest": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
};

/** Commits a busybox container under each name of {@link UPSTREAM_IMAGES}, with its command. */
export async function makeUpstreamImages(podman: TestPodman): Promise<void> {
  for (const [name, cmd] of Object.entries(UPSTREAM_IMAGES)) {
    const ctr = `fetchit-upstream-image-${process.pid}`;
    await podman.cli(["create", "--name", ctr, podman.image, "true"]);
    try {
      await podman.cli(["commit", "--quiet", "--change", `CMD ${JSON.stringify(cmd)}`, ctr, name]);
    } finally {
      await podman.cli(["rm", "--force", ctr]);
    }
  }
}
