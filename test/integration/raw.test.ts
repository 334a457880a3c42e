/** The raw method against the real Podman service and real git repositories. */
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createRemote, type TestRemote } from "../support/git.ts";
import { harness, SLEEPER, targetConfig, type Harness } from "../support/fetchit.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
const spec = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, ...extra }, null, 2);
const rawMethod = (extra = "") => `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n${extra}`;

async function inspect(name: string): Promise<any | null> {
  try {
    return JSON.parse(await podman.cli(["container", "inspect", name]))[0];
  } catch {
    return null;
  }
}
async function names(): Promise<string[]> {
  const out = await podman.cli(["ps", "-a", "--format", "{{.Names}}"]);
  return out.split("\n").filter(Boolean).sort();
}

beforeAll(async () => {
  podman = await sharedPodman();
});
beforeEach(async () => {
  await podman.reset();
});

describe("raw", () => {
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    remote = await createRemote({
      "raw/a.json": spec("app-a", { Env: { MODE: "one" } }),
      "raw/b.yaml": `Image: ${podman.image}\r\nName: app-b\r\nCommand: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]\r\nLabels:\r\n  tier: backend\r\n`,
      "README.md": "not a spec\n",
      "other/c.json": spec("app-c"),
    });
    h = harness(podman, targetConfig(remote.url, rawMethod()));
  });

  test("first deploy creates and starts one labelled container per spec file", async () => {
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(await names()).toEqual(["app-a", "app-b"]);
    const a = await inspect("app-a");
    expect(a.State.Running).toBe(true);
    expect(a.Config.Labels["owned-by"]).toBe("fetchit");
    expect(a.Config.Labels["io.fetchit.target"]).toBe("t1");
    expect(a.Config.Labels["io.fetchit.method"]).toBe("raw/apps");
    expect(a.Config.Labels["io.fetchit.spec-hash"]).toMatch(/^[0-9a-f]{32}$/);
    expect(a.Config.Env).toContain("MODE=one");
    expect(a.HostConfig.RestartPolicy.Name).toBe("always");
    expect((await inspect("app-b")).Config.Labels.tier).toBe("backend");
  });

  test("a tick with nothing new touches neither Podman nor the state file", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    const idBefore = (await inspect("app-a")).Id;
    const stateFiles = readdirSync(join(h.stateDir, "state")).map((f) => join(h.stateDir, "state", f));
    const mtimes = stateFiles.map((f) => statSync(f).mtimeMs);
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(r.out.join("\n")).toContain("unchanged");
    expect((await inspect("app-a")).Id).toBe(idBefore);
    expect(stateFiles.map((f) => statSync(f).mtimeMs)).toEqual(mtimes);
  });

  test("modify recreates only the container whose spec changed", async () => {
    await h.cli("sync");
    const [a0, b0] = [(await inspect("app-a")).Id, (await inspect("app-b")).Id];
    await remote.commit({ "raw/a.json": spec("app-a", { Env: { MODE: "two" } }) });
    expect((await h.cli("sync")).code).toBe(0);
    const a1 = await inspect("app-a");
    expect(a1.Id).not.toBe(a0);
    expect(a1.Config.Env).toContain("MODE=two");
    expect((await inspect("app-b")).Id).toBe(b0);
    // whitespace-only change: same spec, no recreate
    await remote.commit({ "raw/a.json": spec("app-a", { Env: { MODE: "two" } }) + "\n\n" });
    expect((await h.cli("sync")).code).toBe(0);
    expect((await inspect("app-a")).Id).toBe(a1.Id);
  });

  test("delete removes the container named by the old spec", async () => {
    await h.cli("sync");
    await remote.commit({ "raw/b.yaml": null });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["app-a"]);
  });

  test("rename keeps the container; a renamed container Name replaces the old one", async () => {
    await h.cli("sync");
    await remote.rename("raw/a.json", "raw/a-renamed.json");
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["app-a", "app-b"]);
    await remote.commit({ "raw/a-renamed.json": null, "raw/z.json": spec("app-z", { Env: { MODE: "one" } }) });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["app-b", "app-z"]);
    const status = JSON.parse((await h.cli("status", "--json")).out.join("\n"));
    expect(status.methods[0].resources.map((r: any) => r.file).sort()).toEqual(["b.yaml", "z.json"]);
  });

  test("a bad spec is reported with file and field; the good ones are still applied", async () => {
    await remote.commit({
      "raw/bad.json": JSON.stringify({ Name: "no-image" }),
      "raw/typo.yaml": `Image: ${podman.image}\nName: typo\nEnvv: {}\n`,
      "raw/d.json": spec("app-d"),
    });
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    expect(await names()).toEqual(["app-a", "app-b", "app-d"]);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.appliedCommit).toBeNull();
    expect(st.consecutiveFailures).toBe(1);
    expect(st.lastError.files.sort()).toEqual(["raw/bad.json", "raw/typo.yaml"]);
    expect(st.lastError.message).toContain("raw/bad.json: Image: required field missing");
    expect(st.lastError.message).toContain('raw/typo.yaml: Envv: unknown field; did you mean "Env"?');
    expect(st.lastError.retryable).toBe(false);
    await remote.commit({ "raw/bad.json": null, "raw/typo.yaml": null });
    expect((await h.cli("sync")).code).toBe(0);
    const fixed = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(fixed.appliedCommit).toBe(await remote.head());
    expect(fixed.lastError).toBeNull();
  });

  test("a container applied by a failed commit and deleted before any commit applied is still removed", async () => {
    await h.cli("sync");
    await remote.commit({ "raw/bad.json": JSON.stringify({ Name: "no-image" }), "raw/c.json": spec("app-c2") });
    expect((await h.cli("sync")).code).toBe(1);
    expect(await names()).toEqual(["app-a", "app-b", "app-c2"]);
    await remote.commit({ "raw/bad.json": null, "raw/c.json": null });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["app-a", "app-b"]);
  });

  test("a crash between apply and state save converges on restart: no duplicates, nothing recreated", async () => {
    await h.cli("sync");
    const stateDir = join(h.stateDir, "state");
    const file = join(stateDir, readdirSync(stateDir)[0]!);
    const before = readFileSync(file, "utf8");
    await remote.commit({ "raw/e.json": spec("app-e") });
    expect((await h.cli("sync")).code).toBe(0);
    const ids = { a: (await inspect("app-a")).Id, e: (await inspect("app-e")).Id };
    // crash after applying but before saving state: put the old record back
    await Bun.write(file, before);
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["app-a", "app-b", "app-e"]);
    expect((await inspect("app-a")).Id).toBe(ids.a);
    expect((await inspect("app-e")).Id).toBe(ids.e);
  });
});
