import { describe, expect, test } from "bun:test";
import type { Static, TSchema } from "@sinclair/typebox";
import { configJsonSchema, FetchitConfigSchema, toCronPattern } from "../../src/config/index.ts";
import * as S from "../../src/config/schema.ts";
import type * as T from "../../src/config/types.ts";

/** Compile-time: the schema and the contract types have exactly the same keys. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const keyChecks: [
  SameKeys<Static<typeof S.FetchitConfigSchema>, T.FetchitConfig>,
  SameKeys<Static<typeof S.TargetConfigSchema>, T.TargetConfig>,
  SameKeys<Static<typeof S.RawMethodSchema>, T.RawMethod>,
  SameKeys<Static<typeof S.KubeMethodSchema>, T.KubeMethod>,
  SameKeys<Static<typeof S.SystemdMethodSchema>, T.SystemdMethod>,
  SameKeys<Static<typeof S.FileTransferMethodSchema>, T.FileTransferMethod>,
  SameKeys<Static<typeof S.AnsibleMethodSchema>, T.AnsibleMethod>,
  SameKeys<Static<typeof S.GitAuthSchema>, T.GitAuth>,
  SameKeys<Static<typeof S.VerifyCommitsInfoSchema>, T.VerifyCommitsInfo>,
  SameKeys<Static<typeof S.ConfigReloadSchema>, T.ConfigReload>,
  SameKeys<Static<typeof S.PruneSchema>, T.PruneConfig>,
  SameKeys<Static<typeof S.PodmanAutoUpdateSchema>, T.PodmanAutoUpdate>,
  SameKeys<Static<typeof S.ImageConfigSchema>, T.ImageConfig>,
  SameKeys<Static<typeof S.QuadletMethodSchema>, T.QuadletMethod>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];

/** Compile-time: a loaded config is valid input to the schema again. */
const roundTrip = (c: T.FetchitConfig): Static<typeof FetchitConfigSchema> => c;

type Json = Record<string, unknown>;

/** Calls `visit` for every property schema, with its dotted path. */
function walkProperties(schema: Json, path: string, visit: (path: string, prop: Json) => void): void {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  for (const [key, prop] of Object.entries(props)) {
    const at = path ? `${path}.${key}` : key;
    visit(at, prop);
    walkProperties(prop, at, visit);
    if (prop.items) walkProperties(prop.items as Json, `${at}[]`, visit);
  }
}

describe("JSON Schema export", () => {
  const schema = configJsonSchema();

  test("is plain JSON with $schema and title", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.title).toBe("fetchit configuration");
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect(keyChecks.every(Boolean)).toBe(true);
    expect(typeof roundTrip).toBe("function");
  });

  test("every property has a description", () => {
    const missing: string[] = [];
    let count = 0;
    walkProperties(schema, "", (path, prop) => {
      count++;
      if (typeof prop.description !== "string" || prop.description.length < 20) missing.push(path);
    });
    expect(missing).toEqual([]);
    expect(count).toBeGreaterThan(60);
  });

  test("forbids unknown keys in every object", () => {
    const open: string[] = [];
    // A map of user data (host.labels) is open on purpose: its keys are the user's, its values typed by patternProperties.
    const check = (s: Json, path: string) => s.type === "object" && s.additionalProperties !== false && !s.patternProperties && open.push(path || "(top)");
    check(schema, "");
    walkProperties(schema, "", (path, prop) => {
      check(prop, path);
      if (prop.items) check(prop.items as Json, `${path}[]`);
    });
    expect(open).toEqual([]);
  });

  test("documents the FetchIt spellings and method-name defaults", () => {
    const target = ((schema.properties as Json).targetConfigs as Json).items as Json;
    const raw = ((target.properties as Json).raw as Json).items as Json;
    expect(((raw.properties as Json).name as Json).default).toBe("raw");
    expect(((raw.required as string[]) ?? []).sort()).toEqual(["schedule", "targetPath"]);
    expect(JSON.stringify(schema)).toContain("fileTransfer");
  });

  test("the TypeBox schema is the one exported", () => {
    expect((FetchitConfigSchema as TSchema).type).toBe("object");
  });
});

describe("toCronPattern", () => {
  const cases: [string, string][] = [
    ["*/5 * * * *", "*/5 * * * *"],
    ["  0 */5 * * * *  ", "0 */5 * * * *"],
    ["@HOURLY", "@hourly"],
    ["@every 1m", "* * * * *"],
    ["@every 15m", "*/15 * * * *"],
    ["@every 60m", "0 * * * *"],
    ["@every 1h", "0 * * * *"],
    ["@every 4h", "0 */4 * * *"],
    ["@every 24h", "0 0 * * *"],
    ["@every 10s", "*/10 * * * * *"],
    ["@every 120s", "*/2 * * * *"],
  ];
  for (const [input, output] of cases) test(`${input} → ${output}`, () => expect(toCronPattern(input)).toBe(output));

  for (const bad of ["@every 7m", "@every 90s", "@every 5h", "@every 0s", "@every 1.5h", "@every", "@reboot", "* * *"]) {
    test(`rejects ${bad}`, () => expect(() => toCronPattern(bad)).toThrow());
  }
});
