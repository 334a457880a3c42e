/**
 * Raw container spec files: FetchIt's fields (Image, Name, Env, Ports, Mounts,
 * Volumes, CapAdd, CapDrop) plus Command, Labels, Network, Restart, User,
 * Devices, Pod, StopTimeout and a healthcheck (HealthCmd, HealthInterval, HealthTimeout,
 * HealthRetries, HealthStartPeriod, in FetchIt's capitalised style). JSON when the first non-space character is `{`, else YAML;
 * keys match case-insensitively; unknown keys and wrong types are errors that
 * name the field.
 */
import { parse as parseYaml } from "yaml";
import { parseDuration } from "../config/health.ts";
import { MethodError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";

export interface RawPort {
  host_ip?: string;
  container_port: number;
  host_port?: number;
  range?: number;
  protocol?: string;
}
export interface RawMount {
  destination: string;
  type: string;
  source?: string;
  options?: string[];
}
export interface RawVolume {
  name: string;
  dest: string;
  options?: string[];
}

export interface RawSpec {
  Image: string;
  Name: string;
  Env: Record<string, string>;
  Ports: RawPort[];
  Mounts: RawMount[];
  Volumes: RawVolume[];
  CapAdd: string[];
  CapDrop: string[];
  Command?: string[];
  Labels: Record<string, string>;
  Network?: string;
  Restart: string;
  User?: string;
  Devices: string[];
  Pod?: string;
  /** Podman's healthcheck test: ["CMD-SHELL", cmd] for a string, ["CMD", ...argv] for a list. */
  HealthCmd?: string[];
  /** Milliseconds. */
  HealthInterval?: number;
  HealthTimeout?: number;
  HealthStartPeriod?: number;
  HealthRetries?: number;
  /** Seconds between SIGTERM and SIGKILL when the container is stopped (Podman's default: 10). */
  StopTimeout?: number;
}

type Check = (v: unknown, where: string) => unknown;

const fail = (where: string, expected: string, v: unknown): never => {
  const got = v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "string" && v.trim() === "" ? "an empty string" : typeof v;
  throw new Error(`${where}: expected ${expected}, got ${got}`);
};
const str: Check = (v, w) =>
  typeof v === "string" && v.trim() !== "" ? v : fail(w, "a non-empty string", v);
/** Optional strings where FetchIt's own examples write "" to mean "not set" (host_ip, protocol). */
const optStr: Check = (v, w) => (v === "" ? undefined : str(v, w));
/** Names may be written as YAML numbers (`Name: 42`). */
const name: Check = (v, w) => (typeof v === "number" ? String(v) : str(v, w));
const port: Check = (v, w) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? v : fail(w, "a port number 0-65535", v));
const strList: Check = (v, w) => list(v, w).map((x, i) => str(x, `${w}[${i}]`));
const strMap: Check = (v, w) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(w, "a mapping of names to strings", v);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as object)) {
    if (x === null || typeof x === "object") fail(`${w}.${k}`, "a string", x);
    out[k] = String(x);
  }
  return out;
};
function list(v: unknown, w: string): unknown[] {
  return Array.isArray(v) ? v : v === null || v === undefined || v === "" ? [] : fail(w, "a list", v);
}

/** Reads the keys of a mapping case-insensitively against `fields`, erroring on unknown ones. */
function record(v: unknown, w: string, fields: Record<string, Check>, required: string[]): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(w || "spec", "a mapping", v);
  const byLower = new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(v as object)) {
    const canon = byLower.get(key.toLowerCase());
    const at = w ? `${w}.${key}` : key;
    if (!canon) {
      const near = didYouMean(key, Object.keys(fields));
      throw new Error(`${at}: unknown field; ${near ? `did you mean "${near}"?` : `expected one of ${Object.keys(fields).join(", ")}`}`);
    }
    const checked = val === null || val === undefined ? undefined : fields[canon]!(val, at);
    if (checked !== undefined) out[canon] = checked;
  }
  for (const r of required) if (out[r] === undefined) throw new Error(`${w ? w + "." : ""}${r}: required field missing`);
  return out;
}

const portFields: Record<string, Check> = { host_ip: optStr, container_port: port, host_port: port, range: port, protocol: optStr };
const mountFields: Record<string, Check> = { destination: str, type: str, source: str, options: strList };
const volumeFields: Record<string, Check> = { name: str, dest: str, options: strList };
const listOf = (fields: Record<string, Check>, req: string[]): Check => (v, w) =>
  list(v, w).map((x, i) => record(x, `${w}[${i}]`, fields, req));

const RESTART = /^(no|always|on-failure(:\d+)?|unless-stopped)$/;
/** Seconds (a number) or a duration string ("5s", "1m"), in milliseconds. */
const duration: Check = (v, w) => {
  const d = parseDuration(v);
  return typeof d === "number" ? d : fail(w, 'seconds (a number) or a duration such as "5s" or "1m"', v);
};
const specFields: Record<string, Check> = {
  Image: str,
  Name: (v, w) => {
    const n = String(name(v, w));
    return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(n) ? n : fail(w, "a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", v);
  },
  Env: strMap,
  Ports: listOf(portFields, ["container_port"]),
  Mounts: listOf(mountFields, ["destination", "type"]),
  Volumes: listOf(volumeFields, ["name", "dest"]),
  CapAdd: strList,
  CapDrop: strList,
  Command: (v, w) => (typeof v === "string" ? ["/bin/sh", "-c", v] : strList(v, w)),
  Labels: strMap,
  Network: str,
  Restart: (v, w) => (RESTART.test(String(str(v, w))) ? v : fail(w, "no, always, on-failure[:N] or unless-stopped", v)),
  User: (v, w) => (typeof v === "number" ? String(v) : str(v, w)),
  Devices: strList,
  Pod: str,
  HealthCmd: (v, w) => (typeof v === "string" ? ["CMD-SHELL", str(v, w)] : ["CMD", ...(strList(v, w) as string[])]),
  HealthInterval: (v, w) => ((duration(v, w) as number) >= 1000 ? duration(v, w) : fail(w, "at least 1s", v)),
  HealthTimeout: (v, w) => ((duration(v, w) as number) >= 1000 ? duration(v, w) : fail(w, "at least 1s", v)),
  HealthStartPeriod: duration,
  HealthRetries: (v, w) => (Number.isInteger(v) && (v as number) >= 1 ? v : fail(w, "a whole number of 1 or more", v)),
  StopTimeout: (v, w) => (Number.isInteger(v) && (v as number) >= 0 ? v : fail(w, "a whole number of seconds (0 or more)", v)),
};

/** Health* fields other than HealthCmd mean nothing without it. */
function checkHealth(r: Record<string, unknown>): void {
  const HEALTH_FIELDS = ["HealthInterval", "HealthTimeout", "HealthStartPeriod", "HealthRetries"];
  const orphan = HEALTH_FIELDS.find((f) => r[f] !== undefined);
  if (orphan && r.HealthCmd === undefined) throw new Error(`${orphan}: needs HealthCmd (the command that checks the container)`);
  if (Array.isArray(r.HealthCmd) && r.HealthCmd.length < 2) throw new Error("HealthCmd: expected a command (a string, or a non-empty list)");
}

/** Parses and validates one raw spec file; errors are MethodErrors naming the file and field. */
export function parseRawSpec(content: Buffer | string, file: string): RawSpec {
  const text = content.toString().replace(/^\uFEFF/, "").trim();
  if (text === "") throw new MethodError("spec file is empty; expected a container spec with at least Image and Name", file);
  let doc: unknown;
  try {
    doc = text.startsWith("{") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new MethodError(`not valid ${text.startsWith("{") ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`, file);
  }
  try {
    const r = record(doc, "", specFields, ["Image", "Name"]);
    checkHealth(r);
    return {
      Env: {}, Ports: [], Mounts: [], Volumes: [], CapAdd: [], CapDrop: [], Labels: {}, Devices: [],
      Restart: "always",
      ...r,
    } as unknown as RawSpec;
  } catch (err) {
    throw new MethodError((err as Error).message, file);
  }
}
