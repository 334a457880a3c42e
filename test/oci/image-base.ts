/**
 * Base images for fetchit's container image, made locally (no registry can
 * be reached here): the host's own files, as `podman import` takes a rootfs.
 * - amd64: glibc, busybox-static as /bin/sh (and its applets), git with
 *   git-remote-http(s) and git-upload-pack and every library `ldd` names,
 *   the CA bundle: what the Containerfile asks of a base.
 * - arm64: glibc from Debian's libc6-arm64-cross only (enough for the
 *   binary's loader; no shell or git), to build the arm64 image and the
 *   manifest list without emulation.
 * Built once per test Podman store (kept by name).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runOk } from "../support/exec.ts";
import { tempDir } from "../support/git.ts";
import type { TestPodman } from "../support/podman.ts";

export const BASE_IMAGE = { amd64: "localhost/fetchit-test/base:amd64", arm64: "localhost/fetchit-test/base:arm64" } as const;

const GIT_FILES = ["/usr/bin/git", "/usr/lib/git-core/git-remote-http", "/usr/lib/git-core/git-upload-pack"];

/** Copies `file` (symlinks resolved) to the same path under `root`. */
function put(root: string, file: string, to = file): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  if (!existsSync(join(root, to))) copyFileSync(file, join(root, to));
}

async function libraries(binaries: string[]): Promise<string[]> {
  const out = await runOk(["ldd", ...binaries]);
  return [...new Set([...out.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!))];
}

async function amd64Root(root: string, fetchitBinary: string): Promise<void> {
  for (const f of [...GIT_FILES, ...(await libraries([...GIT_FILES, fetchitBinary]))]) put(root, f);
  symlinkSync("git-remote-http", join(root, "usr/lib/git-core/git-remote-https"));
  put(root, "/usr/bin/busybox", "/bin/busybox");
  for (const applet of ["sh", "ls", "cat", "env", "sleep", "mkdir", "rm"]) symlinkSync("busybox", join(root, "bin", applet));
  put(root, "/etc/ssl/certs/ca-certificates.crt");
  mkdirSync(join(root, "usr/share/git-core/templates"), { recursive: true });
}

function arm64Root(root: string): void {
  const cross = "/usr/aarch64-linux-gnu/lib";
  for (const lib of ["ld-linux-aarch64.so.1", "libc.so.6", "libpthread.so.0", "libdl.so.2", "libm.so.6"]) {
    put(root, join(cross, lib), `/lib/aarch64-linux-gnu/${lib}`);
  }
  symlinkSync("aarch64-linux-gnu/ld-linux-aarch64.so.1", join(root, "lib/ld-linux-aarch64.so.1"));
}

/** The base image for `arch` in the test store (made once). */
export async function localBase(podman: TestPodman, arch: "amd64" | "arm64", fetchitBinary: string): Promise<string> {
  const image = BASE_IMAGE[arch];
  if (await podman.cli(["image", "exists", image]).then(() => true, () => false)) return image;
  const root = join(tempDir("fetchit-base-"), "root");
  mkdirSync(root, { recursive: true });
  if (arch === "amd64") await amd64Root(root, fetchitBinary);
  else arm64Root(root);
  for (const d of ["tmp", "etc", "opt", "run", "root"]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  const tar = `${root}.tar`;
  await runOk(["tar", "-C", root, "--owner=0", "--group=0", "-cf", tar, "."]);
  await podman.cli(["import", "--arch", arch, "--os", "linux", "--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin", tar, image]);
  return image;
}
