/**
 * The host side of the quadlet method: is quadlet there (Podman 4.4+ and the
 * generator binary), and the generator's dry run over candidate files.
 */
import { MethodError } from "../errors.ts";
import type { Exec } from "../host/exec.ts";
import { parseDryRun, parseVersion, QUADLET_MIN_VERSION, versionAtLeast, type DryRun } from "./quadlet-units.ts";

/** Where distributions install the generator (Fedora/Debian/Ubuntu; Arch, openSUSE). */
export const GENERATOR_PATHS = ["/usr/libexec/podman/quadlet", "/usr/lib/podman/quadlet"];

export interface QuadletHost {
  /** Podman's version, e.g. "5.4.2". */
  podmanVersion: string;
  /** The generator binary. */
  generator: string;
}

/** A host prerequisite, not the commit: retried with back-off, so installing Podman 4.4+ is picked up without a new commit. */
const HOST_PREREQUISITE = { local: true };

const tryExec = (exec: Exec, cmd: string, args: string[]) =>
  exec(cmd, args, { timeoutMs: 30_000 }).catch(() => undefined);

/**
 * Checks that quadlet can work on this host: `podman --version` is 4.4 or
 * later and the generator binary exists. Throws a MethodError naming the
 * version needed otherwise.
 */
export async function detectQuadlet(exec: Exec, generatorPaths = GENERATOR_PATHS): Promise<QuadletHost> {
  const need = `quadlet needs Podman ${QUADLET_MIN_VERSION.replace(/\.0$/, "")} or later`;
  const r = await tryExec(exec, "podman", ["--version"]);
  if (!r || r.code !== 0) {
    const why = r ? `\`podman --version\` failed (exit ${r.code}): ${r.stderr.trim()}` : "podman is not installed (not found in PATH)";
    throw new MethodError(`${need}; ${why}. Install Podman ${QUADLET_MIN_VERSION.replace(/\.0$/, "")}+ on this host`, undefined, HOST_PREREQUISITE);
  }
  const version = parseVersion(r.stdout);
  if (!version) throw new MethodError(`${need}; could not read a version from \`podman --version\`: ${JSON.stringify(r.stdout.trim())}`, undefined);
  const podmanVersion = version.join(".");
  if (!versionAtLeast(version, QUADLET_MIN_VERSION)) {
    throw new MethodError(
      `${need}; this host has Podman ${podmanVersion}, which has no quadlet generator. Upgrade Podman (e.g. Debian 13, Ubuntu 24.04, Fedora 38, RHEL 9.2 or later) or use the systemd or raw method`,
      undefined,
      HOST_PREREQUISITE,
    );
  }
  for (const generator of generatorPaths) {
    const v = await tryExec(exec, generator, ["-version"]);
    if (v && v.code === 0) return { podmanVersion, generator };
  }
  throw new MethodError(
    `${need} and its quadlet generator; this host has Podman ${podmanVersion} but no generator at ${generatorPaths.join(" or ")}. Install the package that ships it (Debian/Ubuntu: podman; Fedora: podman)`,
    undefined,
    HOST_PREREQUISITE,
  );
}

/**
 * Runs `quadlet -dryrun` over `dirs` (QUADLET_UNIT_DIRS: the first directory
 * wins for files of the same name) and parses what it says. undefined when
 * this generator has no dry run (its usage text instead of units).
 */
export async function dryRun(exec: Exec, host: QuadletHost, dirs: string[], user: boolean): Promise<DryRun | undefined> {
  const run = (flags: string[]) =>
    exec(host.generator, [...flags, ...(user ? ["-user"] : [])], { env: { QUADLET_UNIT_DIRS: dirs.join(":") }, timeoutMs: 60_000 });
  const unknownFlag = (stderr: string) => /flag provided but not defined/.test(stderr);
  let r = await run(["-dryrun", "-no-kmsg-log"]);
  // Early generators may lack -no-kmsg-log (a dry run logs to stderr anyway), older ones -dryrun.
  if (r.code === 2 && unknownFlag(r.stderr)) r = await run(["-dryrun"]);
  if (r.code === 2 && unknownFlag(r.stderr)) return undefined;
  return parseDryRun(r.stdout, r.stderr);
}
