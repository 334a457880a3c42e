/**
 * The config reference as a Markdown table, generated from the schema (so the
 * docs/config-reference.md cannot drift from what the loader accepts): one row per key path,
 * with its type, whether it is required, and its description.
 */
import type { TSchema } from "@sinclair/typebox";
import { FetchitConfigSchema } from "./schema.ts";
import { itemsOf, propertiesOf, requiredOf } from "./schema-walk.ts";

function typeOf(s: TSchema | undefined): string {
  if (!s) return "any";
  if (s.type === "array") return `list of ${propertiesOf(itemsOf(s)) ? "mappings" : `${typeOf(itemsOf(s))}s`}`;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).map(typeOf).join(" or ");
  return s.type === "object" ? "mapping" : String(s.type ?? "any");
}

function rows(schema: TSchema, prefix: string, out: string[]): void {
  const props = propertiesOf(schema) ?? propertiesOf(itemsOf(schema));
  if (!props) return;
  const container = propertiesOf(schema) ? schema : itemsOf(schema)!;
  const required = requiredOf(container);
  for (const [key, s] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const desc = String(s.description ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
    out.push(`| \`${path}\` | ${typeOf(s)} | ${required.includes(key) ? "yes" : ""} | ${desc} |`);
    rows(s, s.type === "array" ? `${path}[]` : path, out);
  }
}

/** The Markdown table of every config key. */
export function configReferenceMarkdown(): string {
  const out = ["| key | type | required | description |", "|---|---|---|---|"];
  rows(FetchitConfigSchema, "", out);
  return out.join("\n");
}
