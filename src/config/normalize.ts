/**
 * Canonical key spellings. FetchIt (viper + mapstructure) matches keys
 * case-insensitively, so real configs say `fileTransfer:`, `All:`,
 * `configUrl:`, `GitsignVerify:`, `TargetConfigs:`. This pass walks the parsed
 * YAML alongside the schema, renames such keys to the canonical spelling and
 * returns one warning per renamed key (the caller logs each once). Keys that
 * match nothing are left alone for the schema check to report.
 */
import type { TSchema } from "@sinclair/typebox";
import type { ConfigIssue } from "../errors.ts";
import { formatPath, isRecord, type Segment } from "./path.ts";
import { itemsOf, propertiesOf } from "./schema-walk.ts";

/** Result of {@link normalizeKeys}: a renamed copy plus what was changed. */
export interface NormalizeResult {
  value: unknown;
  /** One per non-canonical key, e.g. `targetConfigs[0].fileTransfer: key spelled "fileTransfer"; canonical is "filetransfer"`. */
  warnings: string[];
  /** Keys given twice in different spellings (e.g. `schedule` and `Schedule`). */
  issues: ConfigIssue[];
}

/** Renames keys that match a schema key case-insensitively to the schema's spelling. */
export function normalizeKeys(value: unknown, schema: TSchema): NormalizeResult {
  const out: NormalizeResult = { value: undefined, warnings: [], issues: [] };
  out.value = walk(value, schema, [], out);
  return out;
}

function walk(value: unknown, schema: TSchema | undefined, path: Segment[], out: NormalizeResult): unknown {
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    return value.map((v, i) => walk(v, items, [...path, i], out));
  }
  const props = propertiesOf(schema);
  if (!isRecord(value) || !props) return value;
  const byLower = new Map(Object.keys(props).map((k) => [k.toLowerCase(), k]));
  const result: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [key, child] of Object.entries(value)) {
    const canonical = key in props ? key : byLower.get(key.toLowerCase());
    const target = canonical ?? key;
    if (canonical && canonical !== key) {
      out.warnings.push(`${formatPath([...path, key])}: key spelled "${key}"; canonical is "${canonical}"`);
    }
    const earlier = spelledAs.get(target);
    if (earlier !== undefined) {
      out.issues.push({
        path: formatPath([...path, target]),
        message: `key given twice, as "${earlier}" and "${key}" (keys are matched case-insensitively); keep one`,
      });
      continue;
    }
    spelledAs.set(target, key);
    result[target] = walk(child, canonical ? props[canonical] : undefined, [...path, target], out);
  }
  return result;
}
