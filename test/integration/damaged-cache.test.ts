/**
 * A damaged clone under the state dir, through the compiled binary against
 * the real Podman: objects lost (objects/pack and objects/?? deleted), stale
 * locks of a killed git, a git fetch killed with SIGKILL. fetchit recognises
 * each, clones again and carries on in the same run; drift repair from the
 * applied commit still works afterwards. The commit is never blamed.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, fetchitBinary, spawnBinary } from "../support/binary.ts";
import { pidsMentioning } from "../support/exec.ts";
import { SLEEPER, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { withSharedPodman, type TestPodman } from "../support/podman.ts";
import { SETUP_TIMEOUT } from "../support/systemd.ts";

let podman: TestPodman;
withSharedPodman((p) => (podman = p));
beforeAll(async () => void (await ensureBinary()), SETUP_TIMEOUT);

const spec = (name: string, env: Record<string, string> = {}) => JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, Env: env });
const raw = (schedule = "*/5 * * * *") => `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "${schedule}"\n`;

function setup(url: string, schedule?: string) {
  const cwd = tempDir("fetchit-damaged-");
  writeFileSync(join(cwd, "cfg.yaml"), `targetConfigs:\n  - name: t1\n    url: ${url}\n    branch: main\n${raw(schedule)}`);
  const flags = ["--config", "cfg.yaml", "--state-dir", "st", "--podman-socket", podman.socketPath];
  const clone = () => join(cwd, "st", "repos", readdirSync(join(cwd, "st", "repos"))[0]!);
  return {
    cwd,
    flags,
    clone,
    sync: async () => {
      const r = await fetchitBinary(["sync", ...flags], { cwd, env: podman.env });
      return { code: r.code, output: r.output };
    },
    status: async () => JSON.parse((await fetchitBinary(["status", "--json", "--state-dir", "st"], { cwd })).stdout).methods[0],
  };
}

/** What a lost write leaves: every object of the clone gone, its refs intact. */
function loseObjects(dir: string): void {
  rmSync(join(dir, "objects", "pack"), { recursive: true, force: true });
  for (const d of readdirSync(join(dir, "objects"))) if (/^[0-9a-f]{2}$/.test(d)) rmSync(join(dir, "objects", d), { recursive: true, force: true });
}

const envOf = async (name: string) => (await podman.cli(["container", "inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", name])).split("\n");
const running = async (name: string) => (await podman.cli(["container", "inspect", "--format", "{{.State.Running}}", name]).catch(() => "")).trim() === "true";

describe("damaged clone, through the compiled binary", () => {
  test("objects lost and a container removed out of band, no new commit: one sync clones again and recreates it", async () => {
    const remote = await createRemote({ "raw/a.json": spec("dmg-a") });
    const s = setup(remote.url);
    expect(await s.sync()).toMatchObject({ code: 0 });
    loseObjects(s.clone());
    await podman.cli(["rm", "-f", "dmg-a"]);
    const r = await s.sync();
    expect(r).toMatchObject({ code: 0 });
    expect(r.output).toContain("the local clone is damaged; removing it and cloning again");
    expect(r.output).toContain("drift repaired: recreated from the applied commit");
    expect(await running("dmg-a")).toBe(true);
    expect((await s.status()).appliedCommit).toBe(await remote.head());
  });

  test("objects lost, then a commit pushed: the new commit is applied", async () => {
    const remote = await createRemote({ "raw/b.json": spec("dmg-b", { V: "1" }) });
    const s = setup(remote.url);
    expect(await s.sync()).toMatchObject({ code: 0 });
    loseObjects(s.clone());
    const head = await remote.commit({ "raw/b.json": spec("dmg-b", { V: "2" }) });
    expect(await s.sync()).toMatchObject({ code: 0 });
    expect(await envOf("dmg-b")).toContain("V=2");
    const st = await s.status();
    expect(st.appliedCommit).toBe(head);
    expect(st.lastError).toBeNull();
  });

  test("stale shallow.lock and index.lock of a killed git, then a commit: applied, the clone still shallow", async () => {
    const remote = await createRemote({ "raw/c.json": spec("dmg-c", { V: "1" }) });
    const s = setup(remote.url);
    expect(await s.sync()).toMatchObject({ code: 0 });
    writeFileSync(join(s.clone(), "shallow.lock"), "");
    writeFileSync(join(s.clone(), "index.lock"), "");
    const head = await remote.commit({ "raw/c.json": spec("dmg-c", { V: "2" }) });
    const r = await s.sync();
    expect(r).toMatchObject({ code: 0 });
    expect(r.output).not.toContain("will not be retried");
    expect(await envOf("dmg-c")).toContain("V=2");
    expect((await s.status()).appliedCommit).toBe(head);
    expect(existsSync(join(s.clone(), "shallow"))).toBe(true);
    expect(existsSync(join(s.clone(), "shallow.lock"))).toBe(false);
  });

  test("fetchit run: its git fetch killed with SIGKILL half-way; the stale lock recognised, cloned again, applied", async () => {
    const remote = await createRemote({ "raw/d.json": spec("dmg-d"), "blobs/big.bin": randomBytes(40 * 1024 * 1024) });
    const s = setup(remote.url, "*/5 * * * * *");
    const daemon = await spawnBinary(["run", ...s.flags, "--log-level", "debug"], { cwd: s.cwd, env: podman.env });
    try {
      const lock = await waitFor("git's shallow.lock in the clone", (): string => {
        const repos = join(s.cwd, "st", "repos");
        const dir = existsSync(repos) ? readdirSync(repos)[0] : undefined;
        return dir && existsSync(join(repos, dir, "shallow.lock")) ? join(repos, dir, "shallow.lock") : "";
      }, 60_000);
      const fetches = pidsMentioning(remote.dir).filter((pid) => {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0]?.endsWith("git") && argv.includes("fetch");
      });
      expect(fetches.length).toBe(1);
      process.kill(fetches[0]!, "SIGKILL");
      await waitFor("dmg-d running", () => running("dmg-d"), 90_000);
      expect(existsSync(lock)).toBe(false);
      expect(daemon.output()).toContain("the local clone is damaged; removing it and cloning again");
      expect(daemon.output()).not.toContain("will not be retried");
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});
