/**
 * One conformance suite for every file-driven method (pattern: unstorage's
 * driver tests). Each method supplies a kit (fixtures and a way to observe the
 * host); the suite runs the same cases against the real Podman service and
 * real git repositories, driving the real engine.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import type { EngineDeps } from "../../src/engine/context.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runMethod, type RunResult } from "../../src/engine/run-method.ts";
import { hostExec, type Exec } from "../../src/host/exec.ts";
import { createHostFs, type HostFs } from "../../src/host/fs.ts";
import { silentLogger } from "../../src/log.ts";
import { createPodmanClient, type PodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { createRemote, tempDir, type FileContent, type TestRemote } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

export interface ConformanceKit {
  kind: string;
  /** The method entry's extra YAML lines (indented 8 spaces), given a scratch dir. */
  extraYaml(scratch: string): string;
  /** File name (relative to targetPath) and content of resource `id`, version `v`. */
  file(id: string, v: number, podman: TestPodman): [string, string];
  /** A file this method must reject (name, content, a substring of the error). */
  badFile(): [string, FileContent, string];
  /** What is on the host: resource id → identity (changes when recreated/rewritten). */
  observe(podman: TestPodman, scratch: string): Promise<Record<string, string>>;
  /** How the engine runs host tools (systemctl…); default hostExec. */
  exec?: Exec;
  /** Once before the suite (e.g. start a systemd testbed) and after it. */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /** Before each test, after the Podman reset: remove what the previous test left on the host. */
  reset?(): Promise<void>;
}

/** Podman and fs calls that change something. */
const READS = new Set(["ping", "version", "imageExists", "inspectImage", "inspectContainer", "listContainers", "listPods", "inspectPod", "findContainer", "findPod", "volumeExists", "networkExists", "inspectVolume", "request", "resolve", "readFile", "lstat", "readDir", "hashFile", "spaceShortfall"]);

function counting<T extends object>(target: T, writes: string[]): T {
  return new Proxy(target, {
    get(t, prop) {
      const v = (t as Record<string | symbol, unknown>)[prop];
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (!READS.has(String(prop))) writes.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

export function describeConformance(kit: ConformanceKit): void {
  describe(`conformance: ${kit.kind}`, () => {
    let podman: TestPodman;
    let remote: TestRemote;
    let scratch: string;
    let writes: string[];
    let deps: EngineDeps;
    let yaml: string;
    const run = (): Promise<RunResult> => runMethod(buildJobs(parseConfig(yaml, "t").config!, scratch, silentLogger).jobs[0]!, deps);
    const observe = () => kit.observe(podman, scratch);
    const put = (id: string, v: number) => Object.fromEntries([kit.file(id, v, podman)].map(([f, c]) => [`m/${f}`, c]));

    beforeAll(async () => {
      podman = await sharedPodman();
      await kit.setup?.();
    }, 120_000);
    afterAll(async () => {
      await kit.teardown?.();
    });
    beforeEach(async () => {
      await podman.reset();
      await kit.reset?.();
      scratch = tempDir("fetchit-conf-");
      remote = await createRemote({ ...put("one", 1), ...put("two", 1) });
      yaml = `targetConfigs:\n  - name: c\n    url: ${remote.url}\n    branch: main\n    ${kit.kind}:\n      - name: m\n        targetPath: m\n        schedule: "* * * * *"\n${kit.extraYaml(scratch)}`;
      writes = [];
      const fs: HostFs = counting(createHostFs(), writes);
      const pm: PodmanClient = counting(createPodmanClient(podman.socketPath), writes);
      deps = { podman: pm, fs, exec: kit.exec ?? hostExec, state: createStateStore(fs, join(scratch, "state")), log: silentLogger };
    });

    test("first apply creates one resource per file", async () => {
      expect((await run()).status).toBe("applied");
      expect(Object.keys(await observe()).sort()).toEqual(["one", "two"]);
    });

    test("re-applying the same commit from scratch (state lost) changes nothing: zero write calls", async () => {
      await run();
      const before = await observe();
      rmSync(join(scratch, "state", "state"), { recursive: true, force: true });
      writes.length = 0;
      expect((await run()).status).toBe("applied");
      expect(writes).toEqual(["writeFileAtomic"]); // the state record, nothing on the host
      expect(await observe()).toEqual(before);
    });

    test("modify replaces only the changed resource", async () => {
      await run();
      const before = await observe();
      await remote.commit(put("one", 2));
      expect((await run()).status).toBe("applied");
      const after = await observe();
      expect(after.one).not.toBe(before.one);
      expect(after.two).toBe(before.two);
    });

    test("delete undoes add", async () => {
      await run();
      await remote.commit({ [`m/${kit.file("two", 1, podman)[0]}`]: null });
      expect((await run()).status).toBe("applied");
      expect(Object.keys(await observe())).toEqual(["one"]);
    });

    test("rename keeps exactly one resource per file", async () => {
      await run();
      const [from] = kit.file("two", 1, podman);
      await remote.rename(`m/${from}`, `m/renamed-${from}`);
      expect((await run()).status).toBe("applied");
      expect(Object.keys(await observe()).sort()).toEqual(["one", "two"]);
    });

    test("a bad file next to good ones: the good ones are applied, the bad one reported, the state not advanced", async () => {
      const [bad, content, message] = kit.badFile();
      await remote.commit({ ...put("three", 1), [`m/${bad}`]: content });
      const r = await run();
      expect(r.status).toBe("failed");
      expect(r.failures.map((f) => f.file)).toEqual([`m/${bad}`]);
      expect(String((r.failures[0]!.error as Error).message)).toContain(message);
      expect(Object.keys(await observe()).sort()).toEqual(["one", "three", "two"]);
      const st = (await deps.state.list())[0]!;
      expect(st.appliedCommit).toBeUndefined();
    });

    test("rollback: a commit failing its health gate is undone (modify, delete, add), quarantined, and not re-applied", async () => {
      // The gate command fails once, for the bad commit, then passes for the rollback's own gate.
      const flag = `/tmp/fetchit-conf-gate-${process.pid}-${Date.now()}`;
      const exec = kit.exec ?? hostExec;
      yaml += `        health:\n          window: 0\n          command: "if [ -e ${flag} ]; then rm -f ${flag}; echo bad commit >&2; exit 1; fi"\n`;
      expect((await run()).status).toBe("applied");
      const good = (await deps.state.list())[0]!;
      await exec("sh", ["-c", `touch ${flag}`]);
      const bad = await remote.commit({ ...put("one", 2), ...put("three", 1), [`m/${kit.file("two", 1, podman)[0]}`]: null }, "bad one");
      const r = await run();
      expect(r.rollback).toMatchObject({ outcome: "rolled-back", from: bad, to: good.appliedCommit });
      expect(r.rollback!.reason).toContain("bad commit");
      expect(Object.keys(await observe()).sort()).toEqual(["one", "two"]);
      const st = (await deps.state.list())[0]!;
      expect(st.resources).toEqual(good.resources);
      expect(st.appliedCommit).toBe(good.appliedCommit!);
      expect(st.quarantined).toMatchObject({ commit: bad, subject: "bad one" });
      const settled = await observe();
      writes.length = 0;
      for (let i = 0; i < 3; i++) expect((await run()).status).toBe("skipped");
      expect(writes).toEqual([]);
      expect(await observe()).toEqual(settled);
    });

    test("a restart in the middle converges: old state + new commit, no duplicates", async () => {
      await run();
      const [record] = await deps.state.list();
      await remote.commit({ ...put("one", 2), ...put("three", 1) });
      await run();
      const applied = await observe();
      await deps.state.save(record!); // crash before the state was saved
      expect((await run()).status).toBe("applied");
      expect(await observe()).toEqual(applied);
    });
  });
}

/** Runs a `podman … --format "{{name}} {{id}} {{state}}"` listing; returns name (without "conf-") → "id state" (uptime dropped). */
export async function observeListing(podman: TestPodman, args: string[]): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for (const line of (await podman.cli(args)).split("\n").filter(Boolean)) {
    const [name, ...rest] = line.split(" ");
    // Podman 4.3's ps state reads "Up 1 second ago": keep the id and whether it runs, not the clock.
    seen[name!.replace(/^conf-/, "")] = rest.join(" ").replace(/ Up .*$/i, " running");
  }
  return seen;
}
