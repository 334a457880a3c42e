/**
 * Weak typing like FetchIt (viper decodes with mapstructure's
 * WeaklyTypedInput): "true"/"false" strings become booleans and numeric
 * strings become integers where the schema wants them. An optional key with no
 * value (`raw:` with every entry commented out) counts as absent, as it did in
 * FetchIt. Anything else is left for the schema check to report; in particular
 * numbers are NOT turned into strings (YAML already lost their spelling, e.g.
 * `password: 0123` would silently become "123").
 */
import type { TSchema } from "@sinclair/typebox";
import { isRecord } from "./path.ts";
import { itemsOf, propertiesOf, requiredOf } from "./schema-walk.ts";

/** Spellings Go's strconv.ParseBool accepts. */
const BOOLEANS: Record<string, boolean> = {
  "1": true, t: true, T: true, true: true, TRUE: true, True: true,
  "0": false, f: false, F: false, false: false, FALSE: false, False: false,
};

/** Returns a copy of `value` with weakly typed scalars converted to the schema's types. */
export function coerceWeakTypes(value: unknown, schema: TSchema | undefined): unknown {
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    return value.map((v) => coerceWeakTypes(v, items));
  }
  const props = propertiesOf(schema);
  if (isRecord(value) && props) {
    const required = requiredOf(schema);
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (child === null && key in props && !required.includes(key)) continue;
      result[key] = coerceWeakTypes(child, props[key]);
    }
    return result;
  }
  return coerceScalar(value, schema);
}

function coerceScalar(value: unknown, schema: TSchema | undefined): unknown {
  if (typeof value !== "string" || !schema) return value;
  if (schema.type === "boolean") return BOOLEANS[value.trim()] ?? value;
  if (schema.type === "integer" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value.trim());
  return value;
}
