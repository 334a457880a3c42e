/**
 * OCI artifacts applied by the real CLI (`fetchit sync`) on the real Podman:
 * raw, kube and filetransfer from one artifact pushed with `fetchit push`;
 * an update (changed and deleted files), the tag moved back to the older
 * digest (applied, as a force push is), the registry down (last tree kept,
 * clear error) and signed artifacts (verifyOciSignature).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, waitFor, type Harness } from "../support/fetchit.ts";
import { spawnFetchit } from "../support/process.ts";
import { startFront } from "../support/registry-front.ts";
import { tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";
import { startRegistry, type OwnRegistry } from "../support/registry.ts";
import { keyPair, tree } from "./support.ts";

let podman: TestPodman;
let reg: OwnRegistry;
beforeAll(async () => {
  podman = await sharedPodman();
  reg = await startRegistry();
});
afterAll(async () => reg?.stop());
beforeEach(async () => podman.reset());

const spec = (name: string, mode: string) => JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, Env: { MODE: mode } });
const pod = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: main\n      image: ${podman.image}\n      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n`;

function config(url: string, dest: string, extra = ""): string {
  const every = `        schedule: "*/5 * * * * *"\n`;
  return [
    "targetConfigs:",
    "  - name: art",
    `    url: ${url}`,
    "    tlsVerify: false",
    extra,
    "    raw:",
    `      - name: apps\n        targetPath: raw\n${every}`,
    "    kube:",
    `      - name: pods\n        targetPath: kube\n${every}`,
    "    filetransfer:",
    `      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n${every}`,
  ].filter(Boolean).join("\n");
}

const push = async (h: Harness, dir: string, url: string, ...flags: string[]) => {
  const r = await h.cli("push", dir, url, "--tls-verify=false", ...flags);
  expect(r.code).toBe(0);
  return r.out.at(-1)!;
};
const statuses = async (h: Harness) => JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods as { kind: string; method: string; appliedCommit?: string; lastError?: { message: string } }[];
const env = async (ctr: string) => (await podman.cli(["exec", ctr, "env"])).split("\n");
const running = async () => (await podman.cli(["ps", "--format", "{{.Names}}"])).split("\n").filter((n) => n && !n.endsWith("-infra")).sort();

describe("an OCI artifact as a target's source", () => {
  test("raw, kube and filetransfer applied; an update; the tag moved back; the registry down", async () => {
    const dest = join(tempDir("fetchit-oci-dest-"), "etc");
    const url = `oci://${reg.host}/site/config:prod`;
    const dir = tree({ "raw/app.json": spec("oci-app", "one"), "kube/pod.yaml": pod("oci-pod"), "files/a.conf": "a=1\n", "files/gone.conf": "bye\n" });
    const h = harness(podman, config(url, dest));
    const d1 = await push(h, dir, url, "--annotation", "org.opencontainers.image.description=first config");
    expect(d1).toMatch(/^sha256:[0-9a-f]{64}$/);
    const first = await h.cli("sync");
    expect(first.code === 0 ? "" : JSON.stringify(await statuses(h))).toBe("");
    expect(await running()).toEqual(["oci-app", "oci-pod-main"]);
    expect(await env("oci-app")).toContain("MODE=one");
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");
    expect((await statuses(h)).every((s) => s.appliedCommit === d1)).toBe(true);

    writeFileSync(join(dir, "raw/app.json"), spec("oci-app", "two"));
    rmSync(join(dir, "files/gone.conf"));
    const d2 = await push(h, dir, url);
    expect((await h.cli("sync")).code).toBe(0);
    expect(await env("oci-app")).toContain("MODE=two");
    expect(existsSync(join(dest, "gone.conf"))).toBe(false);
    expect((await statuses(h)).every((s) => s.appliedCommit === d2)).toBe(true);

    // The tag moved back: the same tree gives the same digest, applied as a force push is.
    const back = await push(h, tree({ "raw/app.json": spec("oci-app", "one"), "kube/pod.yaml": pod("oci-pod"), "files/a.conf": "a=1\n", "files/gone.conf": "bye\n" }), url, "--annotation", "org.opencontainers.image.description=first config");
    expect(back).toBe(d1);
    expect((await h.cli("sync")).code).toBe(0);
    expect(await env("oci-app")).toContain("MODE=one");
    expect(readFileSync(join(dest, "gone.conf"), "utf8")).toBe("bye\n");
    expect((await statuses(h)).every((s) => s.appliedCommit === d1)).toBe(true);

    await reg.kill();
    try {
      const down = await h.cli("sync");
      expect(down.code).toBe(1);
      const st = await statuses(h);
      expect(st.every((s) => s.appliedCommit === d1)).toBe(true);
      expect(st[0]?.lastError?.message).toContain(`registry ${reg.host}`);
      expect(st[0]?.lastError?.message).toContain("cannot reach the registry");
      expect(await running()).toEqual(["oci-app", "oci-pod-main"]);
    } finally {
      await reg.start();
    }
  });

  for (const algo of ["ECDSA", "Ed25519"] as const) {
    test(`verifyOciSignature (${algo}): a signed artifact is applied; unsigned or signed by another key blocks the target`, async () => {
      const good = await keyPair(algo);
      const other = await keyPair(algo);
      const dest = join(tempDir("fetchit-oci-dest-"), "etc");
      const url = `oci://${reg.host}/signed/${algo.toLowerCase()}:prod`;
      const dir = tree({ "files/a.conf": "a=1\n" });
      const h = harness(podman, config(url, dest, `    verifyOciSignature: ${good.publicKey}`));
      const d1 = await push(h, dir, url, "--sign", good.privateKey);
      const first = await h.cli("sync");
      expect(first.code === 0 ? "" : JSON.stringify(await statuses(h))).toBe("");
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");

      writeFileSync(join(dir, "files/a.conf"), "a=2\n");
      const d2 = await push(h, dir, url);
      expect((await h.cli("sync")).code).toBe(1);
      let st = await statuses(h);
      expect(st.find((s) => s.kind === "filetransfer")?.appliedCommit).toBe(d1);
      expect(st[0]?.lastError?.message).toContain(`@${d2} is not signed`);
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");

      writeFileSync(join(dir, "files/a.conf"), "a=3\n");
      const d3 = await push(h, dir, url, "--sign", other.privateKey);
      expect((await h.cli("sync")).code).toBe(1);
      st = await statuses(h);
      expect(st[0]?.lastError?.message).toContain(`@${d3} is not signed by the key in verifyOciSignature`);
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");

      writeFileSync(join(dir, "files/a.conf"), "a=4\n");
      const d4 = await push(h, dir, url, "--sign", good.privateKey);
      expect((await h.cli("sync")).code).toBe(0);
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=4\n");
      expect((await statuses(h)).find((s) => s.kind === "filetransfer")?.appliedCommit).toBe(d4);
    });
  }

  test("fetchit run: each tick is one HEAD for the target (its three methods share it); plan shows a pushed change", async () => {
    const front = startFront(reg.host);
    try {
      const dest = join(tempDir("fetchit-oci-dest-"), "etc");
      const url = `oci://${front.host}/daemon/config:prod`;
      const dir = tree({ "raw/app.json": spec("oci-daemon", "one"), "kube/pod.yaml": pod("oci-dpod"), "files/a.conf": "a=1\n" });
      const h = harness(podman, config(url, dest).replaceAll('"*/5 * * * * *"', '"*/3 * * * * *"'));
      await push(h, dir, url);
      const daemon = spawnFetchit(["run", ...h.flags()], podman.env);
      try {
        await waitFor("the first apply", () => existsSync(join(dest, "a.conf")), 60_000);
        await waitFor("the pod", async () => (await running()).includes("oci-dpod-main"), 60_000);
        await Bun.sleep(4000);
        const mark = front.seen.length;
        await Bun.sleep(12_500);
        const seen = front.since(mark);
        // 12.5 s of a 3 s schedule: 4 or 5 ticks (skew 0), each one HEAD, nothing else.
        expect(seen.every((x) => x.method === "HEAD")).toBe(true);
        expect(seen.length).toBeGreaterThanOrEqual(3);
        expect(seen.length).toBeLessThanOrEqual(5);
      } finally {
        expect(await daemon.stop()).toBe(0);
      }
      writeFileSync(join(dir, "files/a.conf"), "a=2\n");
      const d2 = await push(h, dir, url);
      const plan = await h.cli("plan");
      expect(plan.code).toBe(2);
      expect(plan.out.join("\n")).toContain("a.conf");
      expect(plan.out.join("\n")).toContain(d2.slice(0, 9));
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");
    } finally {
      front.stop();
    }
  }, 180_000);
});
