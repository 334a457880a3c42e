/**
 * Interoperability with Podman's own artifacts: a Podman 5.4 testbed
 * (`podman artifact add` + `push`, tech preview in 5.4) publishes files to
 * the real docker-registry; fetchit reads that artifact (one file per layer,
 * named by org.opencontainers.image.title) and applies it with kube and
 * filetransfer on that Podman 5. Runs whatever FETCHIT_TEST_PODMAN says:
 * `podman artifact` exists only in Podman 5, so this file starts its own
 * Podman 5 testbed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "../support/exec.ts";
import { harness, waitFor } from "../support/fetchit.ts";
import { freePort, TEST_IMAGE, type TestPodman } from "../support/podman.ts";
import { startPodman5 } from "../support/podman5.ts";
import { startRegistry, type OwnRegistry } from "../support/registry.ts";

let p5: TestPodman;
let reg: OwnRegistry;
let testbed: string;

/** `podman artifact …` run by the Podman 5 inside the testbed. */
const artifact = (...args: string[]) => runOk(["podman", "exec", testbed, "podman", "artifact", ...args], { env: { CONTAINER_HOST: undefined } });

beforeAll(async () => {
  p5 = await startPodman5({ prefix: "fetchit-podman-", image: TEST_IMAGE, network: "fetchit-test", freePort });
  reg = await startRegistry({ host: p5.registryHost });
  testbed = (await runOk(["podman", "ps", "--filter", `label=io.fetchit.test-dir=${p5.dir}`, "--format", "{{.Names}}"], { env: { CONTAINER_HOST: undefined } })).trim();
  expect(testbed).toStartWith("fetchit-p5-");
}, 300_000);
afterAll(async () => reg?.stop());

const pod = (name: string, greeting: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n      env: [{name: GREETING, value: ${greeting}}]\n`;

describe("podman artifact push → fetchit", () => {
  test("an artifact pushed by Podman 5 is applied by kube and filetransfer, and an updated one replaces it", async () => {
    // Podman 5.4 names every layer of a multi-file `artifact add` after the last file: one file per artifact here.
    const refs = { pods: `${reg.host}/site/pods:prod`, motd: `${reg.host}/site/motd:prod` };
    const files = join(p5.dir, "art");
    await runOk(["mkdir", "-p", files]);
    writeFileSync(join(files, "app.yaml"), pod("art-pod", "one"));
    writeFileSync(join(files, "motd.conf"), "hello from an artifact\n");
    const publish = async (ref: string, file: string) => {
      await artifact("rm", ref).catch(() => undefined);
      await artifact("add", ref, join(files, file));
      await artifact("push", "--tls-verify=false", ref);
    };
    await publish(refs.pods, "app.yaml");
    await publish(refs.motd, "motd.conf");
    const dest = join(p5.dir, "dest");
    const every = `        schedule: "*/5 * * * * *"\n`;
    const h = harness(p5, [
      "targetConfigs:",
      `  - url: oci://${refs.pods}`,
      "    tlsVerify: false",
      "    kube:",
      `      - name: pods\n        targetPath: .\n${every}`,
      `  - url: oci://${refs.motd}`,
      "    tlsVerify: false",
      "    filetransfer:",
      `      - name: motd\n        targetPath: .\n        destinationDirectory: ${dest}\n${every}`,
    ].join("\n"));
    const first = await h.cli("sync");
    expect(first.code).toBe(0);
    expect(readFileSync(join(dest, "motd.conf"), "utf8")).toBe("hello from an artifact\n");
    const env = async () => (await p5.cli(["exec", "art-pod-main", "env"])).split("\n");
    await waitFor("the pod", async () => (await env().catch((): string[] => [])).includes("GREETING=one"), 60_000);

    writeFileSync(join(files, "app.yaml"), pod("art-pod", "two"));
    await publish(refs.pods, "app.yaml");
    expect((await h.cli("sync")).code).toBe(0);
    await waitFor("the replaced pod", async () => (await env().catch((): string[] => [])).includes("GREETING=two"), 60_000);
    const status = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods as { appliedCommit: string }[];
    expect(status.every((s) => /^sha256:[0-9a-f]{64}$/.test(s.appliedCommit))).toBe(true);
  }, 300_000);
});
