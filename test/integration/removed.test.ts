/** A method or target removed from the config: its resources stay (default) or go (pruneRemovedMethods: true) at the next start. */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";
import { spawnFetchit } from "../support/process.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const names = async () => (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();

async function setup() {
  const remote = await createRemote({
    "raw/a.json": JSON.stringify({ Image: podman.image, Name: "kept-a", Command: SLEEPER }),
    "files/f.txt": "f\n",
  });
  const dest = join(tempDir("fetchit-removed-"), "out");
  const raw = `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "0 0 1 1 *"\n`;
  const ft = `    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "0 0 1 1 *"\n`;
  const target = `targetConfigs:\n  - name: t1\n    url: ${remote.url}\n    branch: main\n`;
  const h = harness(podman, target + raw + ft);
  expect((await h.cli("sync")).code).toBe(0);
  expect(await names()).toEqual(["kept-a"]);
  expect(existsSync(join(dest, "f.txt"))).toBe(true);
  return { h, dest, target, raw, ft };
}

/** Starts the daemon with the current config until it has settled, then stops it. */
async function startOnce(h: ReturnType<typeof harness>, until: () => Promise<boolean> | boolean) {
  const p = spawnFetchit(["run", ...h.flags().filter((f) => f !== "warn" && f !== "--log-level")], podman.env);
  await waitFor("daemon settled", async () => p.output().includes("fetchit started") && (await until()), 20_000);
  expect(await p.stop()).toBe(0);
  return p.output();
}

test("by default a removed method's resources stay, and the log says so", async () => {
  const { h, dest, target, ft } = await setup();
  h.writeConfig(target + ft); // raw removed
  const out = await startOnce(h, () => true);
  expect(out).toContain("raw/apps of target t1 is no longer in the config; the 1 resource(s) it deployed stay in place");
  expect(await names()).toEqual(["kept-a"]);
  expect(existsSync(join(dest, "f.txt"))).toBe(true);
});

test("with pruneRemovedMethods: true a removed method and a removed target are cleaned up", async () => {
  const { h, dest, target, raw } = await setup();
  h.writeConfig("pruneRemovedMethods: true\n" + target + raw); // filetransfer removed
  await startOnce(h, () => !existsSync(join(dest, "f.txt")));
  expect(await names()).toEqual(["kept-a"]);
  h.writeConfig("pruneRemovedMethods: true\ntargetConfigs: []\n"); // the whole target removed
  await startOnce(h, async () => (await names()).length === 0);
  const status = JSON.parse((await h.cli("status", "--json")).out.join("\n"));
  expect(status.methods).toEqual([]);
});
