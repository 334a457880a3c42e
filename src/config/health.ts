/**
 * The `health:` block (top level and per method; the method's keys win one by
 * one) and its resolution into the settings the engine's health gate uses.
 * Minimal version from the rollback branch: the gates branch owns this file
 * and replaces it at merge (same exported names).
 */
import { Type } from "@sinclair/typebox";

const STRICT = { additionalProperties: false } as const;

const duration = (what: string, dflt: string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: "^\\d+(ms|s|m|h)?$" })], {
    description: `${what} Seconds as a number, or a duration string such as "10s", "2m", "500ms". Default: ${dflt}.`,
  });

export const HealthSchema = Type.Object(
  {
    window: Type.Optional(duration("How long everything an apply created or replaced must stay healthy, measured from its last change. 0 turns gating off for the method.", "10s")),
    rollback: Type.Optional(Type.Boolean({ description: "true: a commit that fails its gate is rolled back to the last good commit and quarantined. false: the failure is only reported. Default: true." })),
    command: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], {
        description: "Host command run after the window: an argv list, or a string run by /bin/sh -c. Exit 0 means healthy. Default: none.",
      }),
    ),
    timeout: Type.Optional(duration("How long the health command may run.", "60s")),
    http: Type.Optional(Type.String({ description: "URL that must answer 2xx by the end of the window. Default: none." })),
  },
  { ...STRICT, description: "Health gate of an apply (issue 12): what must stay healthy, for how long, and whether a failure rolls back. Not in FetchIt." },
);

export interface HealthConfig {
  window?: number | string;
  rollback?: boolean;
  command?: string | string[];
  timeout?: number | string;
  http?: string;
}

export interface HealthSettings {
  windowMs: number;
  rollback: boolean;
  command?: string | string[];
  commandTimeoutMs: number;
  http?: string;
}

/** A number of seconds or "10s"/"2m"/"500ms" → milliseconds. */
export function durationMs(v: number | string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v === "number") return v * 1000;
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v);
  if (!m) return dflt;
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : m[2] === "h" ? n * 3_600_000 : n * 1000;
}

/** Global block, then the method's, key by key. */
export function resolveHealth(global: HealthConfig | undefined, method: HealthConfig | undefined): HealthSettings {
  const h = { ...global, ...method };
  return {
    windowMs: durationMs(h.window, 10_000),
    rollback: h.rollback ?? true,
    ...(h.command !== undefined ? { command: h.command } : {}),
    commandTimeoutMs: durationMs(h.timeout, 60_000),
    ...(h.http !== undefined ? { http: h.http } : {}),
  };
}
