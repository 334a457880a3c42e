/**
 * The `health:` block (health-gated applies; not in FetchIt): its schema, used
 * at the top level and inside every method entry, the duration syntax, the
 * rule that checks its values, and `resolveHealth`, which merges the global
 * block with a method's (the method's keys win, key by key).
 */
import { Type } from "@sinclair/typebox";
import type { ConfigIssue } from "../errors.ts";
import { formatPath, isRecord, type Segment } from "./path.ts";
import { METHOD_KINDS, type FetchitConfig, type HealthConfig } from "./types.ts";

/** What the engine's health gate works with (src/engine/health-gate.ts). */
export interface HealthSettings {
  /** How long what an apply created or replaced must stay healthy, from its last change. 0 = no watching. */
  windowMs: number;
  /** Roll back to the last good commit when the gate fails (default true). */
  rollback: boolean;
  /** Host command run after the window; a string runs under /bin/sh -c. */
  command?: string | string[];
  /** How long the command may run. */
  commandTimeoutMs: number;
  /** URL that must answer 2xx by the end of the window. */
  http?: string;
}

export const DEFAULT_WINDOW_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** Longest window or timeout accepted: a method runs nothing else while its gate lasts. */
export const MAX_DURATION_MS = 3_600_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration in milliseconds: a number of seconds (`10`, `0.5`, `"10"`) or a
 * Go-style string (`"10s"`, `"2m"`, `"1m30s"`, `"500ms"`). A string says what
 * is wrong with the value.
 */
export function parseDuration(v: unknown): number | string {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : `expected 0 or more seconds, got ${v}`;
  if (typeof v !== "string") return `expected seconds (a number) or a duration such as "10s" or "2m"`;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return `"${v}" is not a duration; write seconds (10) or a number with a unit: 500ms, 10s, 2m, 1h, 1m30s`;
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

const durationSchema = (description: string) => Type.Union([Type.Number({ minimum: 0 }), Type.String()], { description });

/** `health:` at the top level or in a method entry. */
export const HealthSchema = Type.Object(
  {
    window: Type.Optional(
      durationSchema(
        "How long everything an apply created or replaced (containers, pods, units) must stay healthy, counted from the last change the apply made: seconds as a number, or a duration string (\"10s\", \"2m\", \"1m30s\"). 0: nothing is watched (a command or http gate still runs, right after the apply). At most 1h. Default: 10s.",
      ),
    ),
    rollback: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          "true: when the gate fails, go back to the last commit that passed it. false: a failed gate is only reported (the commit stays applied, the failure shows in status, logs and webhooks, and `fetchit sync` exits 1). Default: true.",
      }),
    ),
    command: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String({ minLength: 1 }))], {
        description:
          "Host command run once the window has passed; exit code 0 means healthy. A list is the argv (no shell); a string runs with /bin/sh -c. It runs as fetchit's user with FETCHIT_TARGET and FETCHIT_METHOD set, and is killed (its whole process group) after timeout. The only gate of filetransfer and ansible besides http. \"\" or [] in a method turns off a command set at the top level. Default: none.",
      }),
    ),
    timeout: Type.Optional(durationSchema("How long command may run before it is killed and the gate fails: seconds or a duration string. At most 1h. Default: 60s.")),
    http: Type.Optional(
      Type.String({
        description:
          "http:// or https:// URL that must answer with a 2xx status by the end of the window (a readiness probe): asked once a second from the start of the window until it does. \"\" in a method turns off a URL set at the top level. Default: none.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Health gate of each apply (see docs/health.md): what the apply created or replaced must stay healthy for window (raw and kube: containers running, no restarts, healthchecks healthy; systemd and quadlet: units active, no restarts), then command and http must pass. At the top level it applies to every method; a method's own health block wins key by key. Default: none (no gate). Not in FetchIt.",
  },
);

const nonEmpty = <T>(v: T | undefined): T | undefined => (v === "" || (Array.isArray(v) && v.length === 0) ? undefined : v);

/** Effective settings of a method: its block over the global one, key by key, with defaults. */
export function resolveHealth(global: HealthConfig | undefined, method: HealthConfig | undefined): HealthSettings {
  const pick = <K extends keyof HealthConfig>(k: K): HealthConfig[K] => (method?.[k] !== undefined ? method[k] : global?.[k]);
  const ms = (v: unknown, dflt: number) => {
    const d = v === undefined ? dflt : parseDuration(v);
    return typeof d === "number" ? Math.min(d, MAX_DURATION_MS) : dflt;
  };
  const command = nonEmpty(pick("command"));
  const http = nonEmpty(pick("http"));
  return {
    windowMs: ms(pick("window"), DEFAULT_WINDOW_MS),
    rollback: pick("rollback") ?? true,
    ...(command !== undefined ? { command } : {}),
    commandTimeoutMs: ms(pick("timeout"), DEFAULT_COMMAND_TIMEOUT_MS) || DEFAULT_COMMAND_TIMEOUT_MS,
    ...(http !== undefined ? { http } : {}),
  };
}

/** Problems of one health block at `at`: durations that do not parse or are too long, URLs that are not http(s). */
function blockIssues(h: unknown, at: Segment[]): ConfigIssue[] {
  if (!isRecord(h)) return [];
  const out: ConfigIssue[] = [];
  for (const key of ["window", "timeout"] as const) {
    if (typeof h[key] !== "number" && typeof h[key] !== "string") continue;
    const d = parseDuration(h[key]);
    if (typeof d === "string") out.push({ path: formatPath([...at, key]), message: d });
    else if (d > MAX_DURATION_MS) out.push({ path: formatPath([...at, key]), message: `at most 1h; a method applies nothing else while its gate lasts` });
    else if (key === "timeout" && d === 0) out.push({ path: formatPath([...at, key]), message: "must be more than 0; omit it for the default (60s)" });
  }
  if (typeof h.http === "string" && h.http !== "") {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(h.http).protocol);
    } catch {}
    if (!ok) out.push({ path: formatPath([...at, "http"]), message: `expected an http:// or https:// URL, got ${JSON.stringify(h.http.replace(/\/\/[^/@]*@/, "//***@"))}` });
  }
  if (typeof h.command === "string" && h.command !== "" && h.command.trim() === "") {
    out.push({ path: formatPath([...at, "command"]), message: "is only blanks; write a command, or \"\" for none" });
  }
  return out;
}

/** Rule `health`: the top-level block and every method's. */
export function healthIssues(config: FetchitConfig): ConfigIssue[] {
  const out = blockIssues((config as { health?: unknown }).health, ["health"]);
  const targets: unknown = config.targetConfigs;
  if (!Array.isArray(targets)) return out;
  targets.forEach((t, ti) => {
    if (!isRecord(t)) return;
    for (const kind of METHOD_KINDS) {
      const list = t[kind];
      if (Array.isArray(list)) list.forEach((m, mi) => isRecord(m) && out.push(...blockIssues(m.health, ["targetConfigs", ti, kind, mi, "health"])));
    }
  });
  return out;
}
