/**
 * Config reload without a URL, with `fetchit run` as a real process: SIGHUP and
 * edits of the local file swap the config the same way (unchanged methods
 * untouched); a config file kept in a git target; the initial download from
 * $FETCHIT_CONFIG_URL when there is no local config.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "../support/exec.ts";
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

const count = (text: string, what: string) => text.split(what).length - 1;

test("SIGHUP swaps the config: only the changed method runs again", async () => {
  const remote = await createRemote({ "a/x.txt": "a1\n", "b/y.txt": "b1\n" });
  const out = tempDir("fetchit-reload-hup-");
  const cfg = (bDest: string) => twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, bDest), YEARLY)], "configReload:\n  watch: false\n");
  const h = harness(undefined, cfg("b"));
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("both applied", () => read(join(out, "a/x.txt")) === "a1\n" && read(join(out, "b/y.txt")) === "b1\n");
  const stateA = await appliedState(h.stateDir, "a");
  await remote.commit({ "a/x.txt": "a2\n", "b/y.txt": "b2\n" });
  h.writeConfig(cfg("b2"));
  await Bun.sleep(1500); // watch: false — the edit alone does nothing
  expect(existsSync(join(out, "b2"))).toBe(false);
  running.proc.kill("SIGHUP");
  await waitFor("b re-applied after SIGHUP", () => read(join(out, "b2/y.txt")) === "b2\n" && running!.output().includes("config reloaded"));
  expect(read(join(out, "a/x.txt"))).toBe("a1\n");
  expect(stateOf(h.stateDir, "a")).toEqual(stateA);
  expect(existsSync(`${h.configFile}.bak`)).toBe(false); // a local edit is the operator's own: no backup
  // SIGHUP with nothing changed: reloaded, nothing runs again
  running.proc.kill("SIGHUP");
  await waitFor("second SIGHUP handled", () => count(running!.output(), "config reloaded") === 2);
  expect(stateOf(h.stateDir, "a")).toEqual(stateA);
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("an edit of the local config file reloads it; an invalid edit is rejected once and the old config keeps running", async () => {
  const remote = await createRemote({ "a/x.txt": "a1\n", "b/y.txt": "b1\n" });
  const out = tempDir("fetchit-reload-edit-");
  const cfg = (bDest: string) => twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, bDest), EVERY_SECOND)]);
  const h = harness(undefined, cfg("b"));
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("both applied", () => read(join(out, "a/x.txt")) === "a1\n" && read(join(out, "b/y.txt")) === "b1\n");
  const stateA = await appliedState(h.stateDir, "a");
  await remote.commit({ "a/x.txt": "a2\n" });
  h.writeConfig(cfg("b2"));
  await waitFor("edit picked up", () => read(join(out, "b2/y.txt")) === "b1\n" && running!.output().includes("config file changed; reloading"));
  expect(read(join(out, "a/x.txt"))).toBe("a1\n");
  expect(stateOf(h.stateDir, "a")).toEqual(stateA);

  h.writeConfig(cfg("b3").replace("schedule: \"0 0 1 1 *\"", "schedule: \"every now and then\""));
  await waitFor("invalid edit rejected", () => running!.output().includes("config reload rejected; the running config stays"));
  expect(running.output()).toContain("targetConfigs[0].filetransfer[0].schedule");
  await remote.commit({ "b/y.txt": "b2\n" });
  await waitFor("old config still running", () => read(join(out, "b2/y.txt")) === "b2\n");
  await Bun.sleep(1500);
  expect(count(running.output(), "config reload rejected")).toBe(1);
  expect(existsSync(join(out, "b3"))).toBe(false);
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("configReload.target + path: the config is read from a file in a git target", async () => {
  const remote = await createRemote({ "a/x.txt": "a1\n", "b/y.txt": "b1\n" });
  const out = tempDir("fetchit-reload-git-");
  const cfg = (bDest: string) =>
    twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, bDest), YEARLY)]) +
    `  - name: cfg\n    url: CFG_URL\n    branch: main\nconfigReload:\n  target: cfg\n  path: fleet/edge.yaml\n  schedule: "${EVERY_SECOND}"\n`;
  const configRepo = await createRemote({ "README": "configs\n" });
  const text = (bDest: string) => cfg(bDest).replace("CFG_URL", configRepo.url);
  await configRepo.commit({ "fleet/edge.yaml": text("b") });
  const h = harness(undefined, text("b"));
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("both applied", () => read(join(out, "a/x.txt")) === "a1\n" && read(join(out, "b/y.txt")) === "b1\n");
  await waitFor("reload scheduled", () => running!.output().includes("config reload scheduled"));
  const stateA = await appliedState(h.stateDir, "a");
  await remote.commit({ "a/x.txt": "a2\n", "b/y.txt": "b2\n" });
  await configRepo.commit({ "fleet/edge.yaml": text("b2") });
  await waitFor("reloaded from git", () => read(join(out, "b2/y.txt")) === "b2\n");
  expect(read(join(out, "a/x.txt"))).toBe("a1\n");
  expect(stateOf(h.stateDir, "a")).toEqual(stateA);
  expect(read(h.configFile)).toBe(text("b2"));
  expect(read(`${h.configFile}.bak`)).toBe(text("b"));
  expect(running.output()).toContain("fleet/edge.yaml in target cfg");

  await configRepo.commit({ "fleet/edge.yaml": null });
  await waitFor("missing file reported", () => running!.output().includes("no such file at commit"));
  expect(read(h.configFile)).toBe(text("b2"));
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("without a local config, $FETCHIT_CONFIG_URL is downloaded (URL credentials as basic auth), validated and saved as the config (mode 0600); a 404 stops the start", async () => {
  const remote = await createRemote({ "f/x.txt": "1\n" });
  const out = tempDir("fetchit-reload-init-");
  server = configServer();
  const text = twoMethodConfig(remote.url, [ft("f", "f", join(out, "f"), EVERY_SECOND)]);
  server.answer(text);
  const h = harness(undefined);
  expect(existsSync(h.configFile)).toBe(false);
  const withUserinfo = server.url.replace("http://", "http://boot:pw-INIT-99@");
  running = spawnFetchit(["run", ...infoFlags(h.flags())], { FETCHIT_CONFIG_URL: withUserinfo });
  await waitFor("downloaded config applied", () => read(join(out, "f/x.txt")) === "1\n");
  expect(read(h.configFile)).toBe(text);
  expect(statSync(h.configFile).mode & 0o777).toBe(0o600);
  expect(server.auth).toEqual([`Basic ${Buffer.from("boot:pw-INIT-99").toString("base64")}`]); // downloaded once, at start
  expect(running.output()).not.toContain("pw-INIT-99");
  expect(await running.stop()).toBe(0);
  running = undefined;

  // a local config wins over the URL
  server.answer("garbage: [", 200);
  running = spawnFetchit(["run", ...infoFlags(h.flags())], { FETCHIT_CONFIG_URL: server.url });
  await waitFor("started on the local file", () => running!.output().includes("fetchit started"));
  expect(server.requests()).toBe(1);
  expect(await running.stop()).toBe(0);
  running = undefined;

  const h2 = harness(undefined);
  server.answer("not here", 404);
  const p = spawnFetchit(["run", ...h2.flags()], { FETCHIT_CONFIG_URL: server.url });
  expect(await p.proc.exited).toBe(1);
  expect(p.output()).toContain("answered HTTP 404");
  expect(existsSync(h2.configFile)).toBe(false);
});

test("a reload that removes a method (pruneRemovedMethods: true) cleans it up; a new method runs at once", async () => {
  const remote = await createRemote({ "a/x.txt": "a1\n", "b/y.txt": "b1\n", "c/z.txt": "c1\n" });
  const out = tempDir("fetchit-reload-rm-");
  const prune = "pruneRemovedMethods: true\n";
  const h = harness(undefined, twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, "b"), YEARLY)], prune));
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("both applied", () => read(join(out, "a/x.txt")) === "a1\n" && read(join(out, "b/y.txt")) === "b1\n");
  const stateA = await appliedState(h.stateDir, "a");
  await appliedState(h.stateDir, "b");
  h.writeConfig(twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("c", "c", join(out, "c"), YEARLY)], prune));
  await waitFor("c applied, b cleaned up", () => read(join(out, "c/z.txt")) === "c1\n" && !existsSync(join(out, "b/y.txt")));
  await waitFor("b's state record removed", () => {
    try {
      stateOf(h.stateDir, "b");
      return false;
    } catch {
      return true;
    }
  });
  expect(stateOf(h.stateDir, "a")).toEqual(stateA);
  expect(running.output()).toMatch(/config reloaded.*added=.*t1\/filetransfer\/c.*removed=.*t1\/filetransfer\/b/);
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("configReload.device + configPath: the config on a mounted device is picked up; unmounted, the running config stays", async () => {
  if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs and needs root (run the tests as root, as CI does)");
  const remote = await createRemote({ "a/x.txt": "a1\n", "b/y.txt": "b1\n" });
  const out = tempDir("fetchit-reload-dev-");
  const device = `fetchit-test-cfgdev-${process.pid}-${Date.now()}`;
  const cfg = (bDest: string) =>
    twoMethodConfig(remote.url, [ft("a", "a", join(out, "a"), YEARLY), ft("b", "b", join(out, bDest), YEARLY)]) +
    `configReload:\n  device: ${device}\n  configPath: /fleet/edge.yaml\n  schedule: "${EVERY_SECOND}"\n`;
  const h = harness(undefined, cfg("b"));
  running = spawnFetchit(["run", ...infoFlags(h.flags())]);
  await waitFor("both applied", () => read(join(out, "a/x.txt")) === "a1\n" && read(join(out, "b/y.txt")) === "b1\n");
  await waitFor("device not mounted reported", () => running!.output().includes(`device ${device} is not mounted`));
  expect(count(running.output(), `device ${device} is not mounted`)).toBe(1);
  const stateA = await appliedState(h.stateDir, "a");

  const mnt = tempDir("fetchit-cfgmnt-");
  await runOk(["mount", "-t", "tmpfs", device, mnt], { cwd: "/" });
  try {
    mkdirSync(join(mnt, "fleet"));
    writeFileSync(join(mnt, "fleet/edge.yaml"), cfg("b2"));
    await waitFor("reloaded from the device", () => read(join(out, "b2/y.txt")) === "b1\n");
    expect(read(h.configFile)).toBe(cfg("b2"));
    expect(read(`${h.configFile}.bak`)).toBe(cfg("b"));
    expect(stateOf(h.stateDir, "a")).toEqual(stateA);
  } finally {
    await runOk(["umount", mnt], { cwd: "/" });
  }
  await Bun.sleep(2_500); // a few checks while the device is gone: the config read from it stays
  expect(read(h.configFile)).toBe(cfg("b2"));
  expect(await running.stop()).toBe(0);
  running = undefined;
}, 60_000);
