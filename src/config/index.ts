/**
 * Public API of the config module: load (discovery + parse + validate), the
 * schema and its JSON Schema export, cron helpers for the scheduler, and the
 * contract types.
 */
export * from "./types.ts";
export {
  loadConfig,
  loadConfigFile,
  parseConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  type ParseOptions,
  type ParseResult,
} from "./load.ts";
export {
  resolveConfigSource,
  userConfigPath,
  SYSTEM_CONFIG_PATH,
  type ConfigSource,
  type ConfigSourceOptions,
} from "./discover.ts";
export { FetchitConfigSchema, configJsonSchema } from "./schema.ts";
export { configReferenceMarkdown } from "./reference.ts";
export { resolveConfigPaths, START_DIR } from "./resolve-paths.ts";
export { RULES, imageEntryName, ruleIssues, targetKey, type Rule } from "./rules.ts";
export { CRON_MODE, scheduleProblem, toCronPattern } from "./cron.ts";
export { normalizeKeys, type NormalizeResult } from "./normalize.ts";
