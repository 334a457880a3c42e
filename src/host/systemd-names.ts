/**
 * systemd naming rules and standard locations, without running anything:
 * valid unit names, templates, the default unit directories. Re-exported by
 * systemctl.ts (the API the systemd and quadlet methods import).
 */
import { join } from "node:path";
import { FetchitError } from "../errors.ts";

/** Which manager: the system one (systemctl) or the calling user's (systemctl --user). */
export type SystemdScope = "system" | "user";

/** Where unit files go when nothing overrides it: /etc/systemd/system, or $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user). */
export function defaultUnitDirectory(scope: SystemdScope, env: Record<string, string | undefined> = process.env): string {
  if (scope === "system") return "/etc/systemd/system";
  if (env.XDG_CONFIG_HOME?.startsWith("/")) return join(env.XDG_CONFIG_HOME, "systemd", "user");
  if (!env.HOME?.startsWith("/")) {
    throw new FetchitError("user units: neither XDG_CONFIG_HOME nor HOME is set to an absolute path, so the user unit directory is unknown; set HOME or the method's unitDirectory");
  }
  return join(env.HOME, ".config", "systemd", "user");
}

const UNIT_TYPES = ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"] as const;

/**
 * Why `name` is not a valid unit name (systemd's rules: prefix of
 * [A-Za-z0-9:_.\\-@], at most 255 characters, a known type suffix, "@" only for
 * templates/instances), or undefined when it is valid.
 */
export function unitNameProblem(name: string): string | undefined {
  if (name.includes("/")) return `"${name}" contains a path separator`;
  if (name.length > 255) return `"${name.slice(0, 40)}…" is longer than 255 characters`;
  const dot = name.lastIndexOf(".");
  const type = dot > 0 ? name.slice(dot + 1) : "";
  if (!(UNIT_TYPES as readonly string[]).includes(type)) return `"${name}" does not end in a unit type (.${UNIT_TYPES.join(", .")})`;
  const prefix = name.slice(0, dot);
  if (!/^[A-Za-z0-9:_.\\@-]+$/.test(prefix)) return `"${name}" has characters systemd does not allow in unit names (allowed: letters, digits, ":", "_", ".", "\\", "-", "@")`;
  const at = prefix.indexOf("@");
  if (at === 0) return `"${name}" starts with "@"`;
  if (at > 0 && prefix.indexOf("@", at + 1) !== -1) return `"${name}" has more than one "@"`;
  return undefined;
}

/** True for a template unit name such as `foo@.service` (needs an instance to be enabled or started). */
export const isTemplateUnit = (name: string) => /@\.[a-z]+$/.test(name);
