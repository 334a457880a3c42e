/**
 * configReload from a URL, with `fetchit run` as a real process, a real HTTP
 * server and real git repositories: a changed config swaps one method and
 * leaves the other untouched; broken answers keep the old config running.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { harness, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { appliedState, configServer, EVERY_SECOND, ft, infoFlags, read, stateOf, twoMethodConfig, YEARLY, type ConfigServer } from "./support.ts";

let running: FetchitProcess | undefined;
let server: ConfigServer | undefined;
afterEach(async () => {
  await running?.stop("SIGKILL");
  running = undefined;
  server?.stop();
  server = undefined;
});

test("a reload from configURL changes one method; the other keeps its schedule and state and is not re-run; the old file is kept as .bak", async () => {
  const remote = await createRemote({ "a/x.txt": "a1\n", "b/y.txt": "b1\n" });
  const out = tempDir("fetchit-reload-url-");
  server = configServer();
  const reload = `configReload:\n  configURL: ${server.url}\n  schedule: "${EVERY_SECOND}"\ngitAuth:\n  pat: tok-SECRET-4711\n`;
  const first = twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, "b"), YEARLY)], reload);
  server.answer(first);
  const h = harness(undefined, first);
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("both methods applied", () => read(join(out, "a/x.txt")) === "a1\n" && read(join(out, "b/y.txt")) === "b1\n");
  await waitFor("the URL checked", () => server!.requests() >= 2);
  const stateA = await appliedState(h.stateDir, "a");

  // a new commit that neither method would see before next year, and a config that moves b
  await remote.commit({ "a/x.txt": "a2\n", "b/y.txt": "b2\n" });
  const second = twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, "b2"), YEARLY)], reload);
  server.answer(second);
  await waitFor("b re-applied at the new destination", () => read(join(out, "b2/y.txt")) === "b2\n" && running!.output().includes("config reloaded"));

  expect(read(join(out, "a/x.txt"))).toBe("a1\n"); // a did not run again (it would have copied a2)
  expect(stateOf(h.stateDir, "a")).toEqual(stateA);
  expect(existsSync(join(out, "b/y.txt"))).toBe(false); // b moved, nothing left behind
  expect(read(h.configFile)).toBe(second);
  expect(read(`${h.configFile}.bak`)).toBe(first);
  const log = running.output();
  expect(log).toContain("config updates found");
  expect(log).toMatch(/config reloaded.*unchanged.*1/);
  expect(server.auth.every((a) => a === "token tok-SECRET-4711")).toBe(true);
  expect(log).not.toContain("tok-SECRET-4711");
  // the same config again is not a reload
  const reloads = log.split("config reloaded").length;
  await Bun.sleep(2500);
  expect(running.output().split("config reloaded").length).toBe(reloads);
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("broken reloads (invalid YAML, schema error, 404, 500, unreachable) keep the old config running and say why; basic auth is sent, never logged", async () => {
  const remote = await createRemote({ "f/x.txt": "1\n" });
  const out = tempDir("fetchit-reload-bad-");
  server = configServer();
  const reload = `configReload:\n  configURL: ${server.url}\n  schedule: "${EVERY_SECOND}"\ngitAuth:\n  username: ops\n  password: pw-SECRET-0815\n`;
  const good = twoMethodConfig(remote.url, [ft("f", "f", join(out, "f"), EVERY_SECOND)], reload);
  server.answer(good);
  const h = harness(undefined, good);
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("applied", () => read(join(out, "f/x.txt")) === "1\n");

  const cases: [string, number, string][] = [
    ["targetConfigs: [\n  - url: {\n", 200, "YAML syntax error"],
    [twoMethodConfig(remote.url, [ft("f", "f", join(out, "other"), EVERY_SECOND)]).replace("    branch: main\n", ""), 200, "targetConfigs[0].branch"],
    ["<html>not found</html>", 404, "answered HTTP 404"],
    ["<html>oops</html>", 500, "answered HTTP 500"],
  ];
  for (const [body, status, why] of cases) {
    server.answer(body, status);
    await waitFor(`rejected: ${why}`, () => running!.output().includes(why));
  }
  server.stop();
  await waitFor("rejected: unreachable", () => running!.output().includes("cannot download the config from"));
  const log = running.output();
  expect(log.split("config reload rejected; the running config stays").length - 1).toBe(5); // each problem once, not every second
  expect(log).not.toContain("config reloaded");

  // still the old config: follows a new commit to the old destination
  await remote.commit({ "f/x.txt": "2\n" });
  await waitFor("old config still running", () => read(join(out, "f/x.txt")) === "2\n");
  expect(existsSync(join(out, "other"))).toBe(false);
  expect(read(h.configFile)).toBe(good);
  expect(existsSync(`${h.configFile}.bak`)).toBe(false);
  expect(server.auth.length).toBeGreaterThan(4);
  expect(server.auth.every((a) => a === `Basic ${Buffer.from("ops:pw-SECRET-0815").toString("base64")}`)).toBe(true);
  expect(running.output()).not.toContain("pw-SECRET-0815");
  expect(await running.stop()).toBe(0);
  running = undefined;
});
