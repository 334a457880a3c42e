/**
 * Schema check: runs TypeBox's `Value.Errors` and turns each error into a flat
 * issue with a dotted path and a message an operator can act on ("expected a
 * string, got a number (3)", "unknown key \"shedule\"; did you mean
 * \"schedule\"?"). Only the first error at each path is kept.
 */
import type { TSchema } from "@sinclair/typebox";
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import type { ConfigIssue } from "../errors.ts";
import { formatPath, isRecord, pointerToSegments } from "./path.ts";
import { itemsOf, propertiesOf } from "./schema-walk.ts";
import { didYouMean } from "../suggest.ts";

/** Every schema violation in `value`, one issue per path, in document order. */
export function schemaIssues(schema: TSchema, value: unknown): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of Value.Errors(schema, value)) {
    const segments = pointerToSegments(error.path, value);
    const path = formatPath(segments);
    if (seen.has(path)) continue;
    seen.add(path);
    const key = segments.at(-1);
    issues.push({ path, message: describeError(error, typeof key === "string" ? key : "", schema) });
  }
  return issues;
}

/** Short description of a YAML value for messages: `a number (3)`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "nothing (the key has no value)";
  if (Array.isArray(v)) return "a list";
  if (isRecord(v)) return "a mapping";
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 37) + "..." : v)})`;
  if (typeof v === "boolean") return `a boolean (${v})`;
  return `a ${typeof v} (${String(v)})`;
}

const UNITS: Record<string, string> = { skew: " (milliseconds)" };

function describeError(e: ValueError, key: string, root: TSchema): string {
  const got = describeValue(e.value);
  const unit = UNITS[key] ?? "";
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return unknownKeyMessage(key, Object.keys(propertiesOf(e.schema) ?? {}), root);
    case ValueErrorType.ObjectRequiredProperty:
      return "required key missing";
    case ValueErrorType.Object:
      return `expected a mapping (key: value lines), got ${got}`;
    case ValueErrorType.Array:
      return `expected a list, got ${got}` + (isRecord(e.value) ? '; start each entry with "- "' : "");
    case ValueErrorType.String:
      return `expected a string, got ${got}` + (typeof e.value === "number" ? "; put the value in quotes" : "");
    case ValueErrorType.Boolean:
      return `expected true or false, got ${got}`;
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
      return `expected a whole number${unit}, got ${got}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${String(e.schema.minimum)}${unit}` + (key === "skew" ? "; omit it for no delay" : "");
    case ValueErrorType.Union: {
      const values = ((e.schema.anyOf ?? []) as TSchema[]).map((m) => m.const);
      if (values.length && values.every((v) => v !== undefined)) return `expected one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${got}`;
      const members = (e.schema.anyOf ?? []) as TSchema[];
      const types = members.map((m) => (m.type === "array" ? `a list of ${String(itemsOf(m)?.type ?? "value")}s` : m.type === "number" ? "a number" : m.type === "string" ? "a string" : undefined));
      const strings = members.some((m) => m.type === "array" && itemsOf(m)?.type === "string");
      const odd = strings && Array.isArray(e.value) ? e.value.find((x) => typeof x !== "string") : undefined;
      const what = odd !== undefined ? `a list holding ${describeValue(odd)}; put each item in quotes` : got;
      if (types.length && types.every(Boolean)) return `expected ${types.join(" or ")}, got ${what}`;
      return e.message.charAt(0).toLowerCase() + e.message.slice(1);
    }
    default:
      return e.message.charAt(0).toLowerCase() + e.message.slice(1);
  }
}

function unknownKeyMessage(key: string, allowed: string[], root: TSchema): string {
  const base = `unknown key ${JSON.stringify(key)}`;
  const homes = keyHomes(root).get(key.toLowerCase());
  if (homes) return `${base} here; it belongs in ${homes.slice(0, 4).join(", ")}${homes.length > 4 ? ", ..." : ""}`;
  const suggestion = didYouMean(key, allowed);
  if (suggestion) return `${base}; did you mean ${JSON.stringify(suggestion)}?`;
  const hint = HINTS[key.toLowerCase()];
  if (hint) return `${base}; ${hint}`;
  return `${base}; allowed keys: ${allowed.join(", ")}`;
}

const HINTS: Record<string, string> = {
  clean: 'there is no "clean" section; pruning is configured with the top-level "prune" key',
};

const homesCache = new WeakMap<TSchema, Map<string, string[]>>();

/**
 * For each key (lower-cased), the places the schema allows it: "raw entries",
 * "gitAuth", "the top level". Used to say where a misplaced key belongs.
 */
function keyHomes(root: TSchema): Map<string, string[]> {
  let homes = homesCache.get(root);
  if (!homes) {
    homes = new Map();
    collectHomes(root, "the top level", homes);
    homesCache.set(root, homes);
  }
  return homes;
}

function collectHomes(schema: TSchema, label: string, homes: Map<string, string[]>): void {
  for (const [key, child] of Object.entries(propertiesOf(schema) ?? {})) {
    const list = homes.get(key.toLowerCase()) ?? [];
    if (!list.includes(label)) list.push(label);
    homes.set(key.toLowerCase(), list);
    const items = itemsOf(child);
    if (items) collectHomes(items, `${key} entries`, homes);
    else if (propertiesOf(child)) collectHomes(child, key, homes);
  }
}
