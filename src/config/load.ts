/**
 * Loading a config: YAML → canonical keys → weak typing → schema check →
 * defaults → relative host paths made absolute → cross-field rules. Every
 * issue is collected; the library returns them and the CLI decides what to
 * do (`loadConfig` throws one ConfigError
 * carrying all of them).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { Value } from "@sinclair/typebox/value";
import { parseDocument, type YAMLError } from "yaml";
import { ConfigError, errorMessage, type ConfigIssue } from "../errors.ts";
import { coerceWeakTypes } from "./coerce.ts";
import { resolveConfigSource, type ConfigSourceOptions } from "./discover.ts";
import { gatherFacts, type HostFacts } from "../fleet/facts.ts";
import type { TemplateContext } from "../fleet/context.ts";
import { configContext, renderTargetConfigs } from "./host.ts";
import { describeValue, schemaIssues } from "./issues.ts";
import { normalizeKeys } from "./normalize.ts";
import { isRecord } from "./path.ts";
import { resolveConfigPaths, resolveHostPaths, START_DIR } from "./resolve-paths.ts";
import { ruleIssues } from "./rules.ts";
import { FetchitConfigSchema } from "./schema.ts";
import type { FetchitConfig } from "./types.ts";

export { resolveConfigSource, type ConfigSource, type ConfigSourceOptions } from "./discover.ts";

/** Outcome of parsing one config text. `config` is set only when there are no issues. */
export interface ParseResult {
  /** The label the text was read from (a path or "$FETCHIT_CONFIG"). */
  file: string;
  config?: FetchitConfig;
  issues: ConfigIssue[];
  /** Non-fatal notes, e.g. one per key spelled differently from the canonical key. Log each once. */
  warnings: string[];
  /** The template context the config was rendered with (host facts, labels, values). */
  context?: TemplateContext;
}

/** Where the template context comes from (default: this process and host). */
export interface ParseOptions {
  env?: Record<string, string | undefined>;
  uid?: number;
  home?: string;
  /** Default: gathered from the host now (start and each reload). */
  facts?: HostFacts;
  readFile?: (path: string) => string;
  /** Base of relative host paths. Default: the working directory fetchit started in ({@link START_DIR}). */
  baseDir?: string;
}

/**
 * Parses and validates config text; never throws. Relative host paths are
 * made absolute against `opts.baseDir` (default: the working directory
 * fetchit started in) before they are read or checked; see resolve-paths.ts.
 */
export function parseConfig(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const doc = readYaml(text);
  if (doc.issues.length > 0) return { file, issues: doc.issues, warnings: doc.warnings };
  const normalized = normalizeKeys(doc.value, FetchitConfigSchema);
  const baseDir = opts.baseDir ?? START_DIR;
  resolveHostPaths(normalized.value, baseDir); // host.valuesFile is read by the render step
  const rendered = renderStep(normalized.value as Record<string, unknown>, opts);
  const coerced = coerceWeakTypes(normalized.value, FetchitConfigSchema);
  const issues = [...normalized.issues, ...rendered.issues, ...schemaIssues(FetchitConfigSchema, coerced)];
  const config = applyDefaults(coerced);
  resolveConfigPaths(config, baseDir);
  issues.push(...ruleIssues(config));
  const warnings = [...doc.warnings, ...normalized.warnings];
  const unique = dedupe(issues);
  const context = rendered.context;
  if (!unique.length) Object.defineProperty(config, "context", { value: context, enumerable: false });
  return unique.length > 0 ? { file, issues: unique, warnings, context } : { file, config, issues: [], warnings, context };
}

/** Builds the template context (facts, labels, values) and renders `{{ … }}` under targetConfigs. */
function renderStep(doc: Record<string, unknown>, opts: ParseOptions) {
  const env = opts.env ?? process.env;
  const { context, issues } = configContext(doc, {
    facts: opts.facts ?? gatherFacts(),
    env,
    uid: opts.uid ?? process.getuid?.() ?? 1000,
    home: opts.home ?? (env.HOME || homedir()),
    readFile: opts.readFile,
  });
  return { context, issues: [...issues, ...renderTargetConfigs(doc, context)] };
}

/** Reads and parses one config file; an unreadable file is reported as an issue. */
export function loadConfigFile(path: string, readFile: (path: string) => string = readText, opts: ParseOptions = {}): ParseResult {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    return { file: path, issues: [{ path: "", message: `cannot read config file: ${errorMessage(err)}` }], warnings: [] };
  }
  return parseConfig(text, path, opts);
}

/** A usable config and where it came from. */
export interface LoadedConfig {
  config: FetchitConfig;
  /** Path of the file, or "$FETCHIT_CONFIG". */
  file: string;
  warnings: string[];
  context?: TemplateContext;
}

/** Options of {@link loadConfig}: discovery inputs plus an injectable file reader. */
export interface LoadConfigOptions extends ConfigSourceOptions {
  /** Default: read the file as UTF-8. */
  readFile?: (path: string) => string;
}

/** Discovers, reads and validates the config. Throws ConfigError with every issue found. */
export function loadConfig(opts: LoadConfigOptions): LoadedConfig {
  const source = resolveConfigSource(opts);
  const parseOpts: ParseOptions = { env: opts.env, uid: opts.uid, home: opts.home };
  const result = source.kind === "env" ? parseConfig(source.text, source.file, parseOpts) : loadConfigFile(source.file, opts.readFile, parseOpts);
  if (!result.config) throw new ConfigError(result.file, result.issues);
  return { config: result.config, file: result.file, warnings: result.warnings, context: result.context };
}

function readText(path: string): string {
  return readFileSync(path, "utf8");
}

interface YamlResult {
  value?: Record<string, unknown>;
  issues: ConfigIssue[];
  warnings: string[];
}

function readYaml(text: string): YamlResult {
  const doc = parseDocument(text, { merge: true }); // "<<" merge keys, as FetchIt's yaml.v3 allows
  const warnings = doc.warnings.map((w) => `YAML: ${yamlErrorText(w)}`);
  if (doc.errors.length > 0) return { issues: doc.errors.map((e) => ({ path: "", message: `YAML syntax error: ${yamlErrorText(e)}` })), warnings };
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    return { issues: [{ path: "", message: `YAML error: ${errorMessage(err)}` }], warnings };
  }
  if (value === null || value === undefined) {
    return { issues: [{ path: "", message: "config is empty; expected a mapping with targetConfigs" }], warnings };
  }
  if (!isRecord(value)) {
    return { issues: [{ path: "", message: `expected a mapping with targetConfigs at the top level, got ${describeValue(value)}` }], warnings };
  }
  return { value, issues: [], warnings };
}

/** "<what> at line L, column C", without yaml's source excerpt. */
function yamlErrorText(e: YAMLError): string {
  const what =
    e.code === "MULTIPLE_DOCS"
      ? "the text holds several YAML documents (separated by ---); fetchit reads exactly one"
      : (e.message.split(/ at line \d+, column \d+/)[0] ?? e.message);
  const pos = e.linePos?.[0];
  return pos ? `${what} at line ${pos.line}, column ${pos.col}` : what;
}

/** Schema defaults (method name = kind, targetConfigs = [], booleans false, glob "**"). */
function applyDefaults(value: unknown): FetchitConfig {
  const config = Value.Default(FetchitConfigSchema, value) as FetchitConfig;
  if (!Array.isArray(config.targetConfigs)) return config;
  for (const t of config.targetConfigs) {
    // Disconnected targets may omit url (device source) or branch; the contract wants strings.
    if (isRecord(t) && t.disconnected === true) {
      t.url ??= "";
      t.branch ??= "";
    }
  }
  return config;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
