/**
 * Named cross-field rules, checked after the schema and defaults. They run
 * even when the schema check found problems, so every rule guards against
 * values of the wrong type (the schema already reported those) instead of
 * trusting the static types.
 */
import { compileGlob } from "../git/glob.ts";
import { gitAuthIssues } from "../git/auth-check.ts";
import { disconnectedIssues } from "../git/disconnected-check.ts";
import { isOciUrl } from "../oci/reference.ts";
import { ociIssues } from "../oci/check.ts";
import { isLayoutUrl } from "../oci/layout.ts";
import type { ConfigIssue } from "../errors.ts";
import { scheduleProblem } from "./cron.ts";
import { notifyIssues } from "./notify.ts";
import { listenIssues } from "./listen.ts";
import { healthIssues } from "./health.ts";
import { rolloutIssues } from "./rollout.ts";
import { imageIssues } from "./image-rules.ts";
import { configReloadIssues } from "./reload-check.ts";
import { formatPath, isEmpty, isRecord, issue, type Segment } from "./path.ts";
import { METHOD_KINDS, type FetchitConfig, type MethodKind, type TargetConfig } from "./types.ts";

export { toCronPattern, scheduleProblem, CRON_MODE } from "./cron.ts";
export { imageEntryName } from "./image-rules.ts";

/** One cross-field check. */
export interface Rule {
  name: string;
  /** Issues found; the config may still contain values of the wrong type. */
  check(config: FetchitConfig): ConfigIssue[];
}

type Loose = Record<string, unknown>;

/**
 * Effective name of a target: its `name`, else the repository name from the
 * URL (without `.git`/`.zip`) plus `@branch`, e.g. `fetchit@main`; for an
 * oci:// url, the repository's last segment with its tag, e.g. `config:prod`.
 */
export function targetKey(t: Pick<TargetConfig, "name" | "url" | "branch" | "device">): string {
  if (t.name) return t.name;
  const source = t.url || t.device || "target";
  // oci://registry/org/config:prod → "config:prod" (a digest is shortened to 12 hex digits).
  const oci = isOciUrl(source) ? source.split("/").at(-1)!.replace(/@sha256:([0-9a-f]{12})[0-9a-f]*$/, "@$1") : undefined;
  const base = oci ?? (source.split(/[/:]/).filter(Boolean).at(-1) ?? source).replace(/\.(git|zip)$/, "");
  return t.branch ? `${base}@${t.branch}` : base;
}

function targets(config: FetchitConfig): [number, Loose][] {
  const list: unknown = config.targetConfigs;
  if (!Array.isArray(list)) return [];
  return list.flatMap((t, i): [number, Loose][] => (isRecord(t) ? [[i, t]] : []));
}

interface MethodEntry {
  path: Segment[];
  kind: MethodKind;
  method: Loose;
}

function methods(config: FetchitConfig): MethodEntry[] {
  const out: MethodEntry[] = [];
  for (const [ti, target] of targets(config)) {
    for (const kind of METHOD_KINDS) {
      const list = target[kind];
      if (!Array.isArray(list)) continue;
      list.forEach((method, mi) => {
        if (isRecord(method)) out.push({ path: ["targetConfigs", ti, kind, mi], kind, method });
      });
    }
  }
  return out;
}


const targetSource: Rule = {
  name: "target-source",
  check(config) {
    return targets(config).flatMap(([i, t]) => {
      const out: ConfigIssue[] = [];
      const disconnected = t.disconnected === true;
      if (isEmpty(t.url) && !(disconnected && typeof t.device === "string" && t.device !== "")) {
        const why = disconnected ? "; a disconnected target needs url (a git bundle, zip or tar file, or a directory: a path or URL) or device" : "";
        out.push(issue(["targetConfigs", i, "url"], `required key missing${why}`));
      }
      if (isEmpty(t.branch) && !disconnected && !isOciUrl(t.url as string | undefined) && !isLayoutUrl(t.url as string | undefined)) {
        out.push(issue(["targetConfigs", i, "branch"], "required key missing; there is no default branch (e.g. branch: main)"));
      }
      return out;
    });
  },
};

const uniqueTargetNames: Rule = {
  name: "unique-target-names",
  check(config) {
    const seen = new Map<string, number>();
    const out: ConfigIssue[] = [];
    for (const [i, t] of targets(config)) {
      if ([t.name, t.url, t.branch, t.device].some((v) => v !== undefined && typeof v !== "string")) continue;
      const key = targetKey(t as Pick<TargetConfig, "name" | "url" | "branch" | "device">);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, i);
        continue;
      }
      const how = t.name ? "" : " (derived from url and branch)";
      const message = `target name ${JSON.stringify(key)}${how} is already used by targetConfigs[${first}]; give each target a distinct "name"`;
      out.push(issue(["targetConfigs", i, ...(t.name ? ["name"] : [])], message));
    }
    return out;
  },
};

const uniqueMethodNames: Rule = {
  name: "unique-method-names",
  check(config) {
    const seen = new Map<string, Segment[]>();
    const out: ConfigIssue[] = [];
    for (const { path, kind, method } of methods(config)) {
      const name = method.name;
      if (typeof name !== "string") continue;
      if (name === "") {
        out.push(issue([...path, "name"], `must not be empty; omit it to use "${kind}"`));
        continue;
      }
      const key = `${String(path[1])}/${kind}/${name}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, path);
        continue;
      }
      const hint = name === kind ? `; entries without a name default to "${kind}", so give each ${kind} entry its own name` : "; give each entry its own name";
      out.push(issue([...path, "name"], `duplicate ${kind} name ${JSON.stringify(name)}, also used by ${formatPath(first)}${hint}`));
    }
    return out;
  },
};

const targetPaths: Rule = {
  name: "target-paths",
  check(config) {
    return methods(config).flatMap(({ path, method }) => {
      const p = method.targetPath;
      if (typeof p !== "string") return [];
      const at = [...path, "targetPath"];
      if (p.trim() === "") return [issue(at, 'must not be empty; use "." for the whole repository')];
      if (p.startsWith("/")) return [issue(at, `must be relative to the repository root, got absolute path ${JSON.stringify(p)}`)];
      if (p.split("/").includes("..")) return [issue(at, `must stay inside the repository; ${JSON.stringify(p)} contains a ".." segment`)];
      return [];
    });
  },
};

const destinationDirectories: Rule = {
  name: "destination-directories",
  check(config) {
    return methods(config).flatMap(({ path, kind, method }) => {
      const d = method.destinationDirectory;
      const ssh = method.sshDirectory; // ansible: mounted into the container by the Podman service, so never relative
      if (kind === "ansible" && typeof ssh === "string" && !ssh.startsWith("/")) return [issue([...path, "sshDirectory"], `must be an absolute host path, got ${JSON.stringify(ssh)}`)];
      if (kind !== "filetransfer" || typeof d !== "string") return [];
      if (!d.startsWith("/")) return [issue([...path, "destinationDirectory"], `must be an absolute host path, got ${JSON.stringify(d)}`)];
      return [];
    });
  },
};

const systemdSettings: Rule = {
  name: "systemd-settings",
  check(config) {
    const out = methods(config).flatMap(({ path, kind, method }) => {
      const d = method.unitDirectory;
      if ((kind !== "systemd" && kind !== "quadlet") || typeof d !== "string" || d.startsWith("/")) return [];
      const why = "systemd reads units only from fixed directories (e.g. /etc/systemd/system), so a path relative to where fetchit started makes no sense";
      return [issue([...path, "unitDirectory"], `must be an absolute host path, got ${JSON.stringify(d)}: ${why}`)];
    });
    const au = (config as unknown as Loose).podmanAutoUpdate;
    if (isRecord(au) && typeof au.schedule === "string") {
      const at = ["podmanAutoUpdate", "schedule"];
      if (!au.schedule.trim() || /[\r\n]/.test(au.schedule)) out.push(issue(at, 'must be one systemd OnCalendar= expression on one line, e.g. "Sun *-*-* 03:00"'));
      else if (au.root !== true && au.user !== true) out.push(issue(at, "has no effect without root: true or user: true; set one of them or remove schedule"));
    }
    return out;
  },
};

const validGlobs: Rule = {
  name: "valid-globs",
  check(config) {
    return methods(config).flatMap(({ path, method }) => {
      if (typeof method.glob !== "string") return [];
      try {
        compileGlob(method.glob);
        return [];
      } catch (err) {
        return [issue([...path, "glob"], `${(err as Error).message}; see the glob key in \`fetchit schema --markdown\``)];
      }
    });
  },
};

/** Every (path, schedule) pair in the config: methods, prune, images, configReload. */
function schedules(config: FetchitConfig): [Segment[], unknown][] {
  const out: [Segment[], unknown][] = methods(config).map(({ path, method }) => [[...path, "schedule"], method.schedule]);
  const c = config as unknown as Loose;
  for (const section of ["prune", "configReload"]) {
    const s = c[section];
    if (isRecord(s)) out.push([[section, "schedule"], s.schedule]);
  }
  if (Array.isArray(c.images)) {
    c.images.forEach((img, i) => isRecord(img) && out.push([["images", i, "schedule"], img.schedule]));
  }
  return out;
}

const validSchedules: Rule = {
  name: "valid-schedules",
  check(config) {
    return schedules(config).flatMap(([path, s]) => {
      const problem = typeof s === "string" ? scheduleProblem(s) : undefined;
      return problem ? [issue(path, problem)] : [];
    });
  },
};

const configReloadSource: Rule = {
  name: "config-reload-source",
  check: (config) => configReloadIssues(config, targets(config).map(([, t]) => targetKey(t as Pick<TargetConfig, "name" | "url" | "branch" | "device">))),
};

/** All rules, in the order their issues are reported. */
export const RULES: readonly Rule[] = [
  targetSource,
  uniqueTargetNames,
  uniqueMethodNames,
  targetPaths,
  destinationDirectories,
  systemdSettings,
  validGlobs,
  validSchedules,
  configReloadSource,
  { name: "image-sources", check: imageIssues },
  { name: "notify-urls", check: notifyIssues },
  { name: "listen", check: listenIssues },
  { name: "health", check: healthIssues },
  { name: "rollout", check: rolloutIssues },
  { name: "git-auth", check: (config) => gitAuthIssues(config) },
  { name: "disconnected-and-verify", check: disconnectedIssues },
  { name: "oci-targets", check: ociIssues },
];

/** Runs every rule and returns all their issues. */
export function ruleIssues(config: FetchitConfig): ConfigIssue[] {
  return RULES.flatMap((rule) => rule.check(config));
}
