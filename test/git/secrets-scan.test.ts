/**
 * The secrets proof: a real `fetchit run` fetches from real servers with every
 * kind of credential (basic auth from the config, a token from envSecret,
 * credentials in the url, a passphrase-protected SSH key) while this test reads
 * every /proc/<pid>/cmdline over and over; afterwards it reads the logs (debug
 * level), every file of the state dir (state records, bare clones with their
 * config, the askpass helper) and the deployed files. No secret value (nor its
 * base64 form in a Basic header) may appear anywhere.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { harness, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { startSshd, type TestSshd } from "../support/sshd.ts";

const S = {
  basic: "scan-basic-Pw-81723",
  env: "scan-env-Token-55120",
  url: "scan-url-Pw-30117",
  ssh: "scan-ssh-Pass-99881",
};
const needles = [
  ...Object.values(S),
  Buffer.from(`alice:${S.basic}`).toString("base64"),
  Buffer.from(`fetchit:${S.env}`).toString("base64"),
  Buffer.from(`carol:${S.url}`).toString("base64"),
];

const servers: TestHttpServer[] = [];
let sshd: TestSshd;
let running: FetchitProcess | undefined;
beforeAll(async () => {
  sshd = await startSshd({ passphrase: S.ssh });
});
afterAll(async () => {
  await running?.stop("SIGKILL");
  for (const s of servers) await s.close();
  await sshd?.close();
});

async function httpRepo(name: string, username: string, password: string): Promise<{ remote: TestRemote; url: string }> {
  const remote = await createRemote({ [`files/${name}.txt`]: "v1\n" });
  const server = await serveHttp(remote.dir, { auth: { username, password } });
  servers.push(server);
  return { remote, url: server.url };
}

interface Scan {
  passes: number;
  /** Command lines of git and ssh processes seen while scanning (proof the scan overlapped git). */
  gitSeen: Set<string>;
  hits: string[];
  stop(): Promise<void>;
}

/** Reads every /proc/<pid>/cmdline in a loop until stopped, yielding between passes. */
function scanProc(): Scan {
  const scan: Scan = { passes: 0, gitSeen: new Set(), hits: [], stop: async () => {} };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        let cmd: string;
        try {
          cmd = readFileSync(`/proc/${entry}/cmdline`, "latin1").replace(/\0/g, " ");
        } catch {
          continue;
        }
        if (/^(git|\/usr\/bin\/git|ssh) /.test(cmd) && !cmd.includes("http-backend")) scan.gitSeen.add(cmd.split(" ").slice(0, 2).join(" "));
        for (const n of needles) if (cmd.includes(n)) scan.hits.push(`pid ${entry}: ${cmd}`);
      }
      scan.passes++;
      await Bun.sleep(1);
    }
  })();
  scan.stop = async () => {
    stopped = true;
    await loop;
  };
  return scan;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test("no secret in any process's arguments, the logs, the state dir or the clones during a real daemon run", async () => {
  const a = await httpRepo("a", "alice", S.basic);
  const b = await httpRepo("b", "fetchit", S.env);
  const c = await httpRepo("c", "carol", S.url);
  const d = await createRemote({ "files/d.txt": "v1\n" });
  const out = tempDir("fetchit-scan-out-");
  const method = (dir: string) => `    filetransfer:\n      - targetPath: files\n        destinationDirectory: ${join(out, dir)}\n        schedule: "* * * * * *"\n`;
  const yaml =
    `gitAuth:\n  username: alice\n  password: ${S.basic}\ntargetConfigs:\n` +
    `  - name: basic\n    url: ${a.url}\n    branch: main\n${method("a")}` +
    `  - name: env\n    url: ${b.url}\n    branch: main\n    gitAuth:\n      envSecret: FETCHIT_SCAN_TOKEN\n${method("b")}` +
    `  - name: inurl\n    url: ${c.url.replace("http://", `http://carol:${S.url}@`)}\n    branch: main\n    gitAuth: {}\n${method("c")}` +
    `  - name: ssh\n    url: ${sshd.url(d.dir)}\n    branch: main\n    gitAuth:\n      ssh: true\n      sshKeyFile: ${sshd.clientKey}\n      sshKnownHosts: ${sshd.knownHosts}\n      password: ${S.ssh}\n${method("d")}`;
  const h = harness(undefined, yaml);
  const scan = scanProc();
  const flags = h.flags().filter((f) => f !== "--log-level" && f !== "warn");
  running = spawnFetchit(["run", ...flags, "--log-level", "debug"], { FETCHIT_SCAN_TOKEN: S.env });
  const deployed = (dir: string, file: string, text: string) => () => existsSync(join(out, dir, file)) && readFileSync(join(out, dir, file), "utf8") === text;
  const all = (text: string) => () => ["a", "b", "c", "d"].every((x) => deployed(x, `${x}.txt`, text)());
  try {
    await waitFor("first apply of every target", all("v1\n"), 60_000);
    // new commits: real fetches (not only ls-remote) while the scan runs
    await Promise.all([a.remote, b.remote, c.remote, d].map((r, i) => r.commit({ [`files/${"abcd"[i]}.txt`]: "v2\n" })));
    await waitFor("second commit everywhere", all("v2\n"), 60_000);
    await Bun.sleep(2500); // a few more ticks of ls-remote
  } finally {
    await scan.stop();
  }
  expect(await running.stop("SIGTERM")).toBe(0);
  const logs = running.output();
  running = undefined;

  expect(scan.hits).toEqual([]);
  expect(scan.passes).toBeGreaterThan(100);
  // the scan really overlapped git: it saw git over HTTP and git over ssh (with the passphrase in play)
  expect([...scan.gitSeen].some((c) => c.startsWith("git ") || c.startsWith("/usr/bin/git "))).toBe(true);
  expect([...scan.gitSeen].some((c) => c.startsWith("ssh "))).toBe(true);

  expect(logs).toContain("git: fetched");
  expect(logs).toContain("readable by every user"); // the config file holds secrets and is mode 644
  for (const n of needles) expect(logs).not.toContain(n);

  const files = await filesUnder(h.stateDir);
  expect(files.some((f) => f.endsWith("/config") && f.includes("/repos/"))).toBe(true);
  expect(files.some((f) => f.endsWith("fetchit-ssh-askpass"))).toBe(true);
  const leaked: string[] = [];
  for (const f of [...files, ...(await filesUnder(out))]) {
    const text = await readFile(f, "latin1");
    for (const n of needles) if (text.includes(n)) leaked.push(`${f}: ${n}`);
  }
  expect(leaked).toEqual([]);
}, 180_000);
