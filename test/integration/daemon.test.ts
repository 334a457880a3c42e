/** `fetchit run` as a real process: follows commits on its schedule, stops cleanly, converges after a restart. */
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";

let podman: TestPodman;
let running: FetchitProcess | undefined;
beforeAll(async () => {
  podman = await sharedPodman();
  await podman.reset();
});
afterEach(async () => {
  await running?.stop("SIGKILL");
  running = undefined;
});

const spec = (mode: string) => JSON.stringify({ Image: podman.image, Name: "daemon-app", Env: { MODE: mode }, Command: SLEEPER });
const inspect = async (name: string) => {
  try {
    return JSON.parse(await podman.cli(["container", "inspect", name]))[0];
  } catch {
    return null;
  }
};

test("the daemon applies at start, follows new commits, and stops on SIGTERM with exit 0", async () => {
  const remote = await createRemote({ "raw/app.json": spec("one"), "files/hello.txt": "v1\n" });
  const dest = join(tempDir("fetchit-daemon-dest-"), "out");
  const methods =
    `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "* * * * * *"\n` +
    `    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n        skew: 200\n`;
  const h = harness(podman, targetConfig(remote.url, methods));
  running = spawnFetchit(["run", ...h.flags().filter((f) => f !== "warn" && f !== "--log-level")], podman.env);

  await waitFor("first apply", async () => (await inspect("daemon-app"))?.State.Running && existsSync(join(dest, "hello.txt")));
  const firstId = (await inspect("daemon-app")).Id;
  await remote.commit({ "raw/app.json": spec("two"), "files/hello.txt": "v2\n" });
  await waitFor("second commit applied", async () => {
    const c = await inspect("daemon-app");
    return c?.Config.Env.includes("MODE=two") && c.State.Running && readFileSync(join(dest, "hello.txt"), "utf8") === "v2\n";
  });
  expect((await inspect("daemon-app")).Id).not.toBe(firstId);

  const code = await running.stop("SIGTERM");
  expect(code).toBe(0);
  expect(running.output()).toContain("stopped");
  running = undefined;

  // a restart converges: same container, nothing duplicated
  const secondId = (await inspect("daemon-app")).Id;
  running = spawnFetchit(["run", ...h.flags()], podman.env);
  await Bun.sleep(2500);
  expect(await running.stop("SIGINT")).toBe(0);
  running = undefined;
  const all = (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean);
  expect(all).toEqual(["daemon-app"]);
  expect((await inspect("daemon-app")).Id).toBe(secondId);
});

test("a bad config never starts the daemon: exit 1 with every problem listed", async () => {
  const h = harness(undefined, `targetConfigs:\n  - url: file:///nowhere\n    raw:\n      - shedule: "* * *"\n`);
  const p = spawnFetchit(["run", ...h.flags()]);
  const code = await p.proc.exited;
  expect(code).toBe(1);
  const out = p.output();
  expect(out).toContain(h.configFile);
  expect(out).toContain("targetConfigs[0].branch");
  expect(out).toContain('did you mean "schedule"');
  expect(out).toContain("targetConfigs[0].raw[0].targetPath");
});

test("the demo works offline: creates a repository and follows its commits", async () => {
  const dir = tempDir("fetchit-demo-");
  running = spawnFetchit(["run", "--demo", "--state-dir", dir]);
  const motd = join(dir, "out", "motd.txt");
  await waitFor("demo files copied", () => existsSync(motd) && existsSync(join(dir, "out/conf.d/app.conf")));
  const repo = join(dir, "repo");
  await Bun.write(join(repo, "files/motd.txt"), "changed by the test\n");
  const git = (...a: string[]) => Bun.spawnSync(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...a]);
  git("commit", "-qam", "change");
  await waitFor("demo follows the commit", () => readFileSync(motd, "utf8") === "changed by the test\n", 15_000);
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("one process per state dir: sync refuses while the daemon runs, and takes over a stale lock", async () => {
  const remote = await createRemote({ "files/a.txt": "a\n" });
  const dest = join(tempDir("fetchit-lock-"), "out");
  const h = harness(undefined, targetConfig(remote.url, `    filetransfer:\n      - name: f\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n`));
  running = spawnFetchit(["run", ...h.flags()]);
  await waitFor("daemon applied", () => existsSync(join(dest, "a.txt")));
  const err = await h.cli("sync").catch((e) => e);
  expect(String(err.message)).toContain(`another fetchit (pid ${running.proc.pid}) is using the state dir ${h.stateDir}`);
  expect(await running.stop()).toBe(0);
  running = undefined;
  expect(existsSync(join(h.stateDir, "fetchit.lock"))).toBe(false);
  await Bun.write(join(h.stateDir, "fetchit.lock"), "999999\n");
  expect((await h.cli("sync")).code).toBe(0);
  expect(existsSync(join(h.stateDir, "fetchit.lock"))).toBe(false);
});

test("SIGHUP reloads the config: a valid one replaces the schedules, an invalid one is rejected and the old one keeps running", async () => {
  const remote = await createRemote({ "files/a.txt": "a\n" });
  const base = tempDir("fetchit-hup-");
  const ft = (dest: string) => `    filetransfer:\n      - name: f\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n`;
  const h = harness(undefined, targetConfig(remote.url, ft(join(base, "one"))));
  running = spawnFetchit(["run", ...h.flags().filter((f) => f !== "warn" && f !== "--log-level")]);
  await waitFor("first config applied", () => existsSync(join(base, "one/a.txt")));
  h.writeConfig(targetConfig(remote.url, ft(join(base, "two"))));
  running.proc.kill("SIGHUP");
  await waitFor("reloaded config applied", () => existsSync(join(base, "two/a.txt")) && running!.output().includes("config reloaded"));
  expect(existsSync(join(base, "one/a.txt"))).toBe(false); // moved with the new destinationDirectory, not left behind
  h.writeConfig("targetConfigs:\n  - url: x\n");
  running.proc.kill("SIGHUP");
  await waitFor("reload rejected", () => running!.output().includes("config reload rejected; the running config stays"));
  expect(running.output()).toContain("targetConfigs[0].branch");
  await remote.commit({ "files/b.txt": "b\n" });
  await waitFor("old config still running", () => existsSync(join(base, "two/b.txt")));
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("with no methods the daemon idles (waiting for a reload) instead of exiting", async () => {
  const h = harness(undefined, "targetConfigs: []\n");
  running = spawnFetchit(["run", ...h.flags()]);
  await Bun.sleep(1500);
  expect(running.proc.exitCode).toBeNull();
  expect(await running.stop()).toBe(0);
  running = undefined;
});

test("under systemd (NOTIFY_SOCKET) the daemon sends READY=1, RELOADING=1 then READY=1 on SIGHUP, and STOPPING=1", async () => {
  const dir = tempDir("fetchit-notify-");
  const sock = join(dir, "notify.sock");
  const recv = Bun.spawn(["python3", "-c", NOTIFY_RECEIVER, sock], { stdout: "pipe", stderr: "inherit" });
  const lines: string[] = [];
  void (async () => {
    for await (const chunk of recv.stdout) lines.push(...new TextDecoder().decode(chunk).split("\n").filter(Boolean));
  })();
  await waitFor("receiver bound", () => lines.includes("bound"));
  const h = harness(undefined, "targetConfigs: []\n");
  running = spawnFetchit(["run", ...h.flags()], { NOTIFY_SOCKET: sock });
  await waitFor("READY=1", () => lines.some((l) => l.startsWith("READY=1|STATUS=running 0 method(s)")));
  running.proc.kill("SIGHUP");
  await waitFor("reload notified", () => lines.includes("RELOADING=1") && lines.filter((l) => l.startsWith("READY=1")).length === 2);
  expect(await running.stop()).toBe(0);
  running = undefined;
  await waitFor("STOPPING=1", () => lines.includes("STOPPING=1"));
  recv.kill();
});

/** A unix datagram receiver (Bun has none): prints each message with newlines as "|". */
const NOTIFY_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`;
