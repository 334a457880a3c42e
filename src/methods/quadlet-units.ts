/**
 * Pure knowledge about Quadlet files (podman-systemd.unit(5)): which files
 * the generator reads, the service each one becomes, the Podman version that
 * has quadlet, and how to read the output of `quadlet -dryrun`.
 */
import { posix } from "node:path";

/** Podman's first release with quadlet. */
export const QUADLET_MIN_VERSION = "4.4.0";

/**
 * File suffix → the section that holds its keys and the suffix of the
 * generated service name (foo.container → foo.service, foo.pod → foo-pod.service).
 */
export const QUADLET_TYPES = {
  ".container": { section: "Container", serviceSuffix: "" },
  ".kube": { section: "Kube", serviceSuffix: "" },
  ".pod": { section: "Pod", serviceSuffix: "-pod" },
  ".network": { section: "Network", serviceSuffix: "-network" },
  ".volume": { section: "Volume", serviceSuffix: "-volume" },
  ".image": { section: "Image", serviceSuffix: "-image" },
  ".build": { section: "Build", serviceSuffix: "-build" },
} as const;

export type QuadletSuffix = keyof typeof QUADLET_TYPES;

/** The quadlet suffix of a file name, or undefined for other files (a .kube's YAML, an environment file). */
export function quadletSuffix(path: string): QuadletSuffix | undefined {
  const base = posix.basename(path);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const ext = base.slice(dot);
  return ext in QUADLET_TYPES ? (ext as QuadletSuffix) : undefined;
}

/** The value of `key` in `[section]` of an INI-style unit file (last one wins, as in systemd). */
export function unitKey(content: string, section: string, key: string): string | undefined {
  let current = "";
  let value: string | undefined;
  for (const raw of content.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    const eq = line.indexOf("=");
    if (current === section && eq > 0 && line.slice(0, eq).trim() === key) value = line.slice(eq + 1).trim();
  }
  return value;
}

/**
 * The systemd service the generator makes of a quadlet file: the base name
 * plus the type's suffix, or `ServiceName=` of its section (Podman 5.1+).
 * undefined for files that are not quadlet files.
 */
export function serviceOf(path: string, content: string): string | undefined {
  const suffix = quadletSuffix(path);
  if (!suffix) return undefined;
  const { section, serviceSuffix } = QUADLET_TYPES[suffix];
  const custom = unitKey(content, section, "ServiceName");
  if (custom) return custom.endsWith(".service") ? custom : `${custom}.service`;
  return `${posix.basename(path).slice(0, -suffix.length)}${serviceSuffix}.service`;
}

/** True when a quadlet file's text names the file `name` as a value (`Yaml=app.yaml`, `EnvironmentFile=./env`). */
export function namesFile(text: string, name: string): boolean {
  return new RegExp(`=\\s*(\\./)?${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`, "m").test(text);
}

/** [major, minor, patch] of "podman version 4.3.1" or "5.4.2-dev"; undefined when there is no version. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** True when version `v` is at least `min` ("4.4.0"). */
export function versionAtLeast(v: [number, number, number], min: string): boolean {
  const m = parseVersion(min) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (v[i]! !== m[i]!) return v[i]! > m[i]!;
  return true;
}

/** What `quadlet -dryrun` said. */
export interface DryRun {
  /** Generated service name → the quadlet file it came from (its SourcePath). */
  services: Map<string, string>;
  /** File base name (as quoted by the generator) → its conversion errors. */
  errors: Map<string, string[]>;
  /** A file the generator could not read at all (it then converts nothing): its path and the message. */
  unreadable?: { path: string; message: string };
}

const PREFIX = /^quadlet-generator\[\d+\]: /;

/** Parses the generator's stdout (the units) and stderr (its log). */
export function parseDryRun(stdout: string, stderr: string): DryRun {
  const out: DryRun = { services: new Map(), errors: new Map() };
  let service: string | undefined;
  for (const line of stdout.split("\n")) {
    const head = /^---(.+)---$/.exec(line);
    if (head) service = head[1]!;
    else if (service && line.startsWith("SourcePath=")) out.services.set(service, line.slice("SourcePath=".length));
  }
  for (const raw of stderr.split("\n")) {
    const line = raw.replace(PREFIX, "").trim();
    const conv = /^converting "([^"]+)": (.*)$/.exec(line);
    if (conv) {
      const list = out.errors.get(conv[1]!) ?? [];
      list.push(conv[2]!);
      out.errors.set(conv[1]!, list);
      continue;
    }
    const load = /^error loading "([^"]+)", (.*)$/.exec(line);
    if (load) out.unreadable ??= { path: load[1]!, message: load[2]! };
  }
  return out;
}

/** True when every error only says that a referenced quadlet unit (a .network, .volume, ...) is not there yet. */
export function onlyMissingReferences(errors: string[]): boolean {
  return errors.length > 0 && errors.every((e) => /^requested Quadlet (unit|\w+) \S+ was not found$/.test(e));
}
