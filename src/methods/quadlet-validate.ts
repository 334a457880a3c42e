/**
 * Checks one quadlet file with the generator's dry run before it is placed:
 * the file goes into a private staging directory that the generator reads
 * ahead of the destination (QUADLET_UNIT_DIRS=staging:destination), so the
 * new version replaces the placed one and references to units already placed
 * (Network=web.network) resolve. Errors about other files are not this file's.
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { MethodError } from "../errors.ts";
import type { HostFs } from "../host/fs.ts";
import type { Exec } from "../host/exec.ts";
import type { Logger } from "../log.ts";
import { dryRun, type QuadletHost } from "./quadlet-host.ts";
import { onlyMissingReferences, serviceOf } from "./quadlet-units.ts";

export interface ValidateInput {
  fs: HostFs;
  exec: Exec;
  log: Logger;
  host: QuadletHost;
  /** Destination directory (as the method sees it, before fs re-basing). */
  dir: string;
  user: boolean;
  /** Path relative to the destination directory. */
  relPath: string;
  /** Repository path, for messages. */
  path: string;
  content: Buffer;
}

/**
 * The services the generator makes of the file. Throws a MethodError with
 * the generator's messages when it rejects the file; `retryable` marks the
 * case where it only misses a unit it references, which another file of the
 * same apply may place (the method checks such files again at the end).
 */
export async function validateQuadlet(v: ValidateInput): Promise<string[]> {
  const staging = join(tmpdir(), `fetchit-quadlet-${randomBytes(6).toString("hex")}`);
  const staged = join(staging, v.relPath);
  await v.fs.writeFileAtomic(staged, v.content, 0o644);
  let result;
  try {
    const destDir = (await v.fs.lstat(v.dir))?.kind === "dir" ? [v.fs.resolve(v.dir)] : [];
    result = await dryRun(v.exec, v.host, [v.fs.resolve(staging), ...destDir], v.user);
  } finally {
    await v.fs.remove(staged);
    for (let d = posix.dirname(staged); d.startsWith(staging); d = posix.dirname(d)) await v.fs.removeEmptyDir(d);
  }
  const fallback = [serviceOf(v.relPath, v.content.toString("utf8"))!];
  if (!result) {
    v.log.warn("this quadlet generator has no -dryrun; the file is placed without checking it", { file: v.path, podman: v.host.podmanVersion });
    return fallback;
  }
  const realStaged = v.fs.resolve(staged);
  if (result.unreadable) {
    const { path, message } = result.unreadable;
    if (path === realStaged) throw new MethodError(`the quadlet generator cannot read this file: ${message}`, v.path);
    throw new MethodError(
      `the quadlet generator cannot read ${path} (already on the host), so it converts no file at all: ${message}; fix or remove that file`,
      v.path,
    );
  }
  const errors = result.errors.get(posix.basename(v.relPath)) ?? [];
  if (errors.length) {
    const missing = onlyMissingReferences(errors);
    const hint = missing ? `; add the referenced file under targetPath (files of one commit are checked together) or place it in ${v.dir}` : "";
    throw new MethodError(`rejected by the quadlet generator (Podman ${v.host.podmanVersion}): ${errors.join("; ")}${hint}`, v.path, { retryable: missing });
  }
  const services = [...result.services].filter(([, source]) => source === realStaged).map(([service]) => service);
  return services.length ? services : fallback;
}
