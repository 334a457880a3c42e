/**
 * The config rule of `configReload`: which source (configURL, target + path,
 * device + configPath), what each needs, and a schedule whenever one is set.
 */
import type { ConfigIssue } from "../errors.ts";
import { isEmpty, isRecord, issue } from "./path.ts";
import type { FetchitConfig } from "./types.ts";

type Loose = Record<string, unknown>;

/** Problems of `configReload`, given the effective names of the targets. */
export function configReloadIssues(config: FetchitConfig, targetNames: string[]): ConfigIssue[] {
  const r: unknown = config.configReload;
  if (!isRecord(r)) return [];
  const out = [...configReloadTarget(r, targetNames), ...configReloadDevice(r)];
  if (r.schedule !== undefined || (isEmpty(r.configURL) && isEmpty(r.device) && isEmpty(r.target))) return out;
  return [...out, issue(["configReload", "schedule"], "required key missing when configURL, target or device is set")];
}

/** `configReload.device` + `configPath`: both or neither, and not with configURL or target. */
function configReloadDevice(r: Loose): ConfigIssue[] {
  if (isEmpty(r.device)) return isEmpty(r.configPath) ? [] : [issue(["configReload", "configPath"], "needs device (the block device whose mount point holds the file)")];
  const out: ConfigIssue[] = [];
  if (isEmpty(r.configPath)) out.push(issue(["configReload", "configPath"], "required key missing when device is set (the config file's path on the device, e.g. fetchit/config.yaml)"));
  if (!isEmpty(r.configURL) || !isEmpty(r.target)) out.push(issue(["configReload", "device"], "set one of configURL, target or device"));
  return out;
}

/** `configReload.target` + `path`: both or neither, not with configURL, and target names a targetConfigs entry. */
function configReloadTarget(r: Loose, names: string[]): ConfigIssue[] {
  if (isEmpty(r.target)) return isEmpty(r.path) ? [] : [issue(["configReload", "path"], "needs target (the targetConfigs name whose repository holds the file)")];
  const out: ConfigIssue[] = [];
  if (!isEmpty(r.configURL)) out.push(issue(["configReload", "target"], "set either configURL or target, not both"));
  if (isEmpty(r.path)) out.push(issue(["configReload", "path"], "required key missing when target is set (the config file in that repository)"));
  if (typeof r.target === "string" && !names.includes(r.target)) {
    out.push(issue(["configReload", "target"], `no target named ${JSON.stringify(r.target)} in targetConfigs${names.length ? ` (targets: ${names.join(", ")})` : ""}`));
  }
  return out;
}
