/** The CLI entry (runCli) for the commands that need no Podman. */
import { expect, test } from "bun:test";
import { runCli } from "../../src/cli/cli.ts";
import { ExitError } from "../../src/errors.ts";
import { harness } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const code = await runCli(args, { HOME: tempDir("fetchit-home-"), PATH: process.env.PATH, ...env }, (l) => out.push(l));
  return { code, out, text: out.join("\n") };
}

const GOOD = `targetConfigs:\n  - url: file:///srv/repo.git\n    branch: main\n    filetransfer:\n      - targetPath: files\n        destinationDirectory: /tmp/x\n        schedule: "* * * * *"\n`;

test("validate: a good config prints a summary and exits 0", async () => {
  const h = harness(undefined, GOOD);
  const r = await cli(["validate", "--config", h.configFile]);
  expect(r.code).toBe(0);
  expect(r.text).toBe(`${h.configFile}: valid (1 target(s), 1 method(s))`);
});

test("validate: every problem is printed, with file and key path, exit 1", async () => {
  const h = harness(undefined, `targetConfigs:\n  - url: x\n    raw:\n      - name: a\n        schedule: "* *"\n        targetPath: /abs\n        skew: 0\nprun: {}\n`);
  const r = await cli(["validate", "--config", h.configFile]);
  expect(r.code).toBe(1);
  expect(r.text).toContain(h.configFile);
  for (const path of ["targetConfigs[0].branch", "targetConfigs[0].raw[0].schedule", "targetConfigs[0].raw[0].targetPath", "targetConfigs[0].raw[0].skew", "prun"]) {
    expect(r.text).toContain(path);
  }
  expect(r.text).toContain('did you mean "prune"');
});

test("validate: $FETCHIT_CONFIG holds the YAML itself", async () => {
  const r = await cli(["validate"], { FETCHIT_CONFIG: GOOD });
  expect(r.code).toBe(0);
  expect(r.text).toContain("$FETCHIT_CONFIG: valid");
});

test("no config anywhere: the error lists every place tried", async () => {
  const home = tempDir("fetchit-home-");
  await expect(cli(["validate"], { HOME: home })).resolves.toMatchObject({ code: 1 });
  const r = await cli(["validate"], { HOME: home });
  expect(r.text).toContain(`${home}/.fetchit/config.yaml`);
  expect(r.text).toContain("FETCHIT_CONFIG");
});

test("schema prints a JSON Schema with descriptions", async () => {
  const r = await cli(["schema"]);
  const schema = JSON.parse(r.text);
  expect(schema.$schema).toContain("json-schema.org");
  expect(schema.properties.targetConfigs.description.length).toBeGreaterThan(10);
});

test("version names fetchit, the commit and Bun", async () => {
  const r = await cli(["version"]);
  expect(r.text).toMatch(/^fetchit \d+\.\d+\.\d+ \(commit \S+, bun \d+\.\d+\.\d+\)$/);
});

test("unknown command and no command exit 2", async () => {
  expect((await cli(["bogus"])).code).toBe(2);
  expect((await cli([])).code).toBe(2);
});

test("status with no state says so; --json is an empty list", async () => {
  const dir = tempDir("fetchit-state-");
  expect((await cli(["status", "--state-dir", dir])).text).toContain("no method has run");
  expect(JSON.parse((await cli(["status", "--state-dir", dir, "--json"])).text)).toEqual({ stateDir: dir, daemon: null, methods: [] });
});

test("sync with a filter that matches nothing is an error naming the filter", async () => {
  const remote = await createRemote({ "files/a": "a" });
  const h = harness(undefined, GOOD.replace("file:///srv/repo.git", remote.url));
  const err = await cli(["sync", "--target", "nope", ...h.flags()]).catch((e) => e);
  expect(err).toBeInstanceOf(ExitError);
  expect((err as ExitError).message).toContain("--target nope");
  expect((err as ExitError).exitCode).toBe(2);
});

test("a bad --log-level is refused", async () => {
  const err = await cli(["status", "--log-level", "loud"]).catch((e) => e);
  expect(err).toBeInstanceOf(ExitError);
});

test("docs/config-reference.md is the one generated from the schema", async () => {
  const readme = await Bun.file(new URL("../../docs/config-reference.md", import.meta.url)).text();
  const block = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(readme)?.[1];
  const r = await cli(["schema", "--markdown"]);
  expect(block).toBe(r.text);
});
