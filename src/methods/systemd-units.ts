/**
 * Pure rules of the systemd method: which repository files it reads, the
 * unit each file belongs to and where the file goes under the unit directory.
 *
 * - `x/foo.service` → `<unitDir>/foo.service` (flattened to the basename, as
 *   FetchIt did), unit foo.service;
 * - `x/foo.service.d/10-env.conf` → `<unitDir>/foo.service.d/10-env.conf`, a
 *   drop-in of unit foo.service (a change to it restarts foo.service).
 */
import { posix } from "node:path";
import { MethodError } from "../errors.ts";
import { isTemplateUnit, unitNameProblem } from "../host/systemctl.ts";

/** Unit types the method places (FetchIt: .service only). */
export const SYSTEMD_UNIT_SUFFIXES = [".service", ".timer", ".socket", ".path", ".target", ".mount", ".automount", ".slice"] as const;

/** The engine's suffix filter: unit files and drop-ins (.conf). */
export const SYSTEMD_EXTENSIONS = [...SYSTEMD_UNIT_SUFFIXES, ".conf"];

export interface UnitFile {
  /** The unit the file defines or extends, e.g. foo.service. */
  unit: string;
  /** Path under the unit directory: `foo.service` or `foo.service.d/10-env.conf`. */
  rel: string;
  /** True for a drop-in (`<unit>.d/*.conf`). */
  dropIn: boolean;
}

const isUnitSuffix = (name: string) => SYSTEMD_UNIT_SUFFIXES.some((s) => name.endsWith(s));

/**
 * Why the method skips a repository file that is neither a unit file nor a
 * drop-in (a `.conf` outside a `<unit>.d/` directory, such as FetchIt's
 * example `podman-auto-update.timer.d-override.conf`), or undefined for a
 * file it places. Skipped files never fail a commit: systemd would not read
 * them from the unit directory either.
 */
export function skipReason(relPath: string): string | undefined {
  const norm = posix.normalize(relPath);
  if (!norm.endsWith(".conf")) return undefined;
  const parent = posix.basename(posix.dirname(norm));
  if (parent.endsWith(".d") && isUnitSuffix(parent.slice(0, -2))) return undefined;
  return "a .conf file is a drop-in only inside a directory named after its unit (e.g. foo.service.d/10-override.conf)";
}

/** The unit file a repository file maps to; throws a MethodError naming `repoPath` when it is not one (see {@link skipReason} first). */
export function unitFileOf(relPath: string, repoPath: string): UnitFile {
  const norm = posix.normalize(relPath);
  const base = posix.basename(norm);
  const parent = posix.basename(posix.dirname(norm));
  if (base.endsWith(".conf")) {
    const unit = parent.endsWith(".d") ? parent.slice(0, -2) : "";
    if (!unit || !isUnitSuffix(unit)) {
      throw new MethodError(`a .conf file is placed only as a drop-in, inside a directory named after its unit (e.g. foo.service.d/${base}); move it or exclude it with glob`, repoPath);
    }
    const problem = unitNameProblem(unit);
    if (problem) throw new MethodError(`drop-in directory ${parent}: ${problem}; rename the directory`, repoPath);
    if (base.startsWith(".") || base.length > 255 || /[\s\\]/.test(base)) throw new MethodError(`drop-in name "${base}" is not a plain file name; rename it (e.g. 10-override.conf)`, repoPath);
    return { unit, rel: `${parent}/${base}`, dropIn: true };
  }
  const problem = unitNameProblem(base);
  if (problem) throw new MethodError(`${problem}, so it is not a valid unit file name; rename the file (e.g. my-app.service)`, repoPath);
  return { unit: base, rel: base, dropIn: false };
}

/** The unit and kind of a file fetchit placed, from its recorded absolute path (inverse of unitFileOf). */
export function unitOfPlaced(path: string): { unit: string; dropIn: boolean } {
  const parent = posix.basename(posix.dirname(path));
  if (path.endsWith(".conf") && parent.endsWith(".d")) return { unit: parent.slice(0, -2), dropIn: true };
  return { unit: posix.basename(path), dropIn: false };
}

/** What finish() does with one unit touched by an apply, from the method's settings (pure). */
export interface UnitPlan {
  /** `enable --no-reload` before the daemon-reload. */
  enable: boolean;
  /** After the reload: start (when not active), restart, or nothing. */
  action: "start" | "restart" | "none";
}

/**
 * enable/restart as FetchIt: restart implies enable; a changed unit is
 * restarted when `restart`, a new or unchanged one is started when enabled.
 * Templates (foo@.service) are only placed: they need an instance.
 */
export function planUnit(unit: string, t: { changed: boolean; created: boolean }, opts: { enable?: boolean; restart?: boolean }): UnitPlan {
  const enable = (opts.enable ?? false) || (opts.restart ?? false);
  if (isTemplateUnit(unit) || !enable) return { enable: false, action: "none" };
  return { enable: true, action: t.changed && !t.created && opts.restart ? "restart" : "start" };
}
