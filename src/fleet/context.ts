/**
 * The template context of a host: `host` (facts), `labels` and `values`.
 * Labels come from the config's `host.labels`, then `FETCHIT_LABEL_<key>`
 * variables (which win, so one baked image serves every host); values from
 * the YAML values file, then `FETCHIT_VALUE_<key>` variables.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ConfigIssue } from "../errors.ts";
import type { HostFacts } from "./facts.ts";

export type LabelValue = string | number | boolean;

export interface TemplateContext {
  host: HostFacts;
  labels: Record<string, LabelValue>;
  values: Record<string, unknown>;
}

/** The config's top-level `host:` block. */
export interface HostBlock {
  labels?: Record<string, LabelValue>;
  valuesFile?: string;
}

export interface ContextSources {
  facts: HostFacts;
  env: Record<string, string | undefined>;
  uid: number;
  home: string;
  readFile?: (path: string) => string;
}

/** /etc/fetchit/values.yaml as root, ~/.fetchit/values.yaml otherwise. */
export const defaultValuesFile = (uid: number, home: string): string =>
  uid === 0 ? "/etc/fetchit/values.yaml" : join(home, ".fetchit", "values.yaml");

const LABEL = "FETCHIT_LABEL_";
const VALUE = "FETCHIT_VALUE_";

function fromEnv(env: ContextSources["env"], prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith(prefix) && k.length > prefix.length && v !== undefined) out[k.slice(prefix.length)] = v;
  return out;
}

export function buildContext(block: HostBlock | undefined, src: ContextSources): { context: TemplateContext; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const labels: Record<string, LabelValue> = { ...(block?.labels ?? {}), ...fromEnv(src.env, LABEL) };
  const file = block?.valuesFile ?? defaultValuesFile(src.uid, src.home);
  const values: Record<string, unknown> = { ...readValues(file, block?.valuesFile !== undefined, src, issues), ...fromEnv(src.env, VALUE) };
  return { context: { host: src.facts, labels, values }, issues };
}

function readValues(file: string, explicit: boolean, src: ContextSources, issues: ConfigIssue[]): Record<string, unknown> {
  let text: string;
  try {
    text = (src.readFile ?? ((p: string) => readFileSync(p, "utf8")))(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!explicit && code === "ENOENT") return {};
    issues.push({ path: "host.valuesFile", message: `cannot read values file ${file} (${code ?? (err as Error).message}); create it or fix the path` });
    return {};
  }
  try {
    const v = parse(text) as unknown;
    if (v === null || v === undefined) return {};
    if (typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    issues.push({ path: "host.valuesFile", message: `values file ${file} must hold a YAML mapping (key: value), not ${Array.isArray(v) ? "a list" : typeof v}` });
  } catch (err) {
    issues.push({ path: "host.valuesFile", message: `values file ${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}` });
  }
  return {};
}
