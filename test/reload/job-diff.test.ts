/** The reload diff (pure): which jobs a new config leaves alone, replaces, stops or starts. */
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { definitions, diffJobs, isNoop } from "../../src/engine/job-diff.ts";
import { buildJobs, jobId } from "../../src/engine/jobs.ts";
import { silentLogger } from "../../src/log.ts";
import { tempDir } from "../support/git.ts";

const stateDir = tempDir("fetchit-jobdiff-");

function defs(yaml: string): Map<string, string> {
  const { config, issues } = parseConfig(yaml, "test.yaml");
  if (!config) throw new Error(JSON.stringify(issues));
  const { jobs, tasks } = buildJobs(config, stateDir, silentLogger);
  return definitions(config, jobs, tasks, jobId);
}

const ft = (name: string, dest: string, extra = "") => `      - name: ${name}\n        targetPath: ${name}\n        destinationDirectory: ${dest}\n        schedule: "@hourly"\n${extra}`;
const cfg = (entries: string[], top = "", target = "") =>
  `targetConfigs:\n  - name: t1\n    url: file:///r\n    branch: main\n${target}    filetransfer:\n${entries.join("")}${top}`;

test("same config, keys in another order: nothing changes", () => {
  const a = defs(cfg([ft("a", "/a"), ft("b", "/b")]));
  const b = defs(cfg([ft("a", "/a"), "      - destinationDirectory: /b\n        schedule: \"@hourly\"\n        targetPath: b\n        name: b\n"]));
  const d = diffJobs(a, b);
  expect(d).toEqual({ unchanged: ["t1/filetransfer/a", "t1/filetransfer/b"], changed: [], removed: [], added: [] });
  expect(isNoop(d)).toBe(true);
});

test("one method edited, one removed, one added", () => {
  const d = diffJobs(defs(cfg([ft("a", "/a"), ft("b", "/b"), ft("c", "/c")])), defs(cfg([ft("a", "/a"), ft("b", "/b2"), ft("d", "/d")])));
  expect(d).toEqual({ unchanged: ["t1/filetransfer/a"], changed: ["t1/filetransfer/b"], removed: ["t1/filetransfer/c"], added: ["t1/filetransfer/d"] });
});

test("target settings and gitAuth belong to every method of the target", () => {
  const base = defs(cfg([ft("a", "/a")]));
  expect(diffJobs(base, defs(cfg([ft("a", "/a")]).replace("branch: main", "branch: next"))).changed).toEqual(["t1/filetransfer/a"]);
  expect(diffJobs(base, defs(cfg([ft("a", "/a")], "gitAuth:\n  pat: x\n"))).changed).toEqual(["t1/filetransfer/a"]);
});

test("configReload settings do not touch the methods; prune scope fetchit follows the method list", () => {
  const prune = "prune:\n  scope: fetchit\n  schedule: \"@daily\"\n";
  const base = defs(cfg([ft("a", "/a")], prune));
  const reload = defs(cfg([ft("a", "/a")], `${prune}configReload:\n  configURL: http://h/c.yaml\n  schedule: "@hourly"\n`));
  expect(isNoop(diffJobs(base, reload))).toBe(true);
  const more = diffJobs(base, defs(cfg([ft("a", "/a"), ft("b", "/b")], prune)));
  expect(more.changed).toEqual(["(global)/prune/prune"]);
  expect(more.added).toEqual(["t1/filetransfer/b"]);
  const all = "prune:\n  schedule: \"@daily\"\n";
  expect(diffJobs(defs(cfg([ft("a", "/a")], all)), defs(cfg([ft("a", "/a"), ft("b", "/b")], all))).unchanged).toContain("(global)/prune/prune");
});

test("image loaders are compared by their entry", () => {
  const img = (url: string) => `images:\n  - name: app\n    url: ${url}\n    schedule: "@hourly"\n`;
  const d = diffJobs(defs(cfg([ft("a", "/a")], img("http://h/a.tar"))), defs(cfg([ft("a", "/a")], img("http://h/b.tar"))));
  expect(d.changed).toEqual(["(images)/images/app"]);
  expect(d.unchanged).toEqual(["t1/filetransfer/a"]);
});
