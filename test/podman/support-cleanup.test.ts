/**
 * The test Podman support must leave nothing behind: no service, no conmon,
 * no container process, no scratch directory — after a normal exit and
 * after SIGKILL of the test process.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pidsMentioning } from "../support/exec.ts";

const SUPPORT = join(import.meta.dir, "../support/podman.ts");

/** Starts a child bun process that brings up the shared service, runs a container, prints the scratch dir. */
async function child(mode: "exit" | "hang"): Promise<{ dir: string; proc: Bun.Subprocess<"ignore", "pipe", "pipe"> }> {
  const tmp = mkdtempSync("/tmp/fetchit-cleanup-test-");
  const script = join(tmp, "child.ts");
  writeFileSync(
    script,
    `import { sharedPodman } from ${JSON.stringify(SUPPORT)};
const pm = await sharedPodman();
await pm.cli(["run", "-d", "--name", "leftover", pm.image, "sleep", "600"]);
console.log(pm.dir);
${mode === "hang" ? "await Bun.sleep(600_000);" : ""}`,
  );
  const proc = Bun.spawn([process.execPath, script], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  rmSync(tmp, { recursive: true, force: true });
  const dir = out.trim();
  if (!dir.startsWith("/tmp/fetchit-podman-")) throw new Error(`child failed: ${await new Response(proc.stderr).text()}`);
  return { dir, proc };
}

async function expectCleaned(dir: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((existsSync(dir) || pidsMentioning(dir).length > 0) && Date.now() < deadline) await Bun.sleep(50);
  expect(pidsMentioning(dir)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
  expect(pidsMentioning("sleep 600").length).toBe(0);
}

describe("test podman support", () => {
  test("cleans up after a normal exit", async () => {
    const { dir, proc } = await child("exit");
    expect(pidsMentioning(dir).length).toBeGreaterThan(0);
    await proc.exited;
    await expectCleaned(dir);
  }, 30_000);

  test("cleans up after the test process is killed", async () => {
    const { dir, proc } = await child("hang");
    proc.kill("SIGKILL");
    await proc.exited;
    await expectCleaned(dir);
  }, 30_000);
});
