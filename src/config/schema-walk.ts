/**
 * Small readers over TypeBox (JSON Schema) objects, for the passes that walk
 * the parsed YAML alongside the schema (key normalisation, weak typing).
 */
import type { TSchema } from "@sinclair/typebox";

/** The property schemas of an object schema, or undefined for other schemas. */
export function propertiesOf(schema: TSchema | undefined): Record<string, TSchema> | undefined {
  if (!schema || schema.type !== "object") return undefined;
  return schema.properties as Record<string, TSchema> | undefined;
}

/** The item schema of an array schema, or undefined for other schemas. */
export function itemsOf(schema: TSchema | undefined): TSchema | undefined {
  if (!schema || schema.type !== "array") return undefined;
  return schema.items as TSchema | undefined;
}

/** Keys an object schema requires. */
export function requiredOf(schema: TSchema | undefined): readonly string[] {
  const req = schema?.required as unknown;
  return Array.isArray(req) ? (req as string[]) : [];
}
