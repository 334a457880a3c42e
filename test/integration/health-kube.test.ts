/**
 * Health gate of the kube method against the real Podman service (4.3, and
 * 5.4 with FETCHIT_TEST_PODMAN=5) through `fetchit sync`: a pod whose
 * container exits 2 s after starting passes the play's own check (1 s) but
 * fails the gate, as does a failing liveness probe; a healthy pod and a
 * run-once pod that exits 0 pass.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { createRemote, type TestRemote } from "../support/git.ts";
import { harness, targetConfig, type Harness } from "../support/fetchit.ts";
import { withSharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => (podman = p));

const SLEEP = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;
const pod = (name: string, command = SLEEP, policy = "Always") =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  restartPolicy: ${policy}\n  containers:\n  - name: app\n    image: ${podman.image}\n    command: ${command}\n`;
const kubeWithHealth = `    kube:\n      - name: apps\n        targetPath: kube\n        schedule: "*/5 * * * * *"\n        health:\n          window: 5s\n          rollback: false\n`;

async function sync(h: Harness) {
  const t0 = Date.now();
  const r = await h.cli("sync");
  const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
  return { code: r.code, seconds: (Date.now() - t0) / 1000, st };
}

describe("kube health gate", () => {
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    remote = await createRemote({ "kube/web.yaml": pod("hk-web") });
    h = harness(podman, targetConfig(remote.url, kubeWithHealth));
  });

  test("a healthy pod passes after the window", async () => {
    const r = await sync(h);
    expect(r.code).toBe(0);
    expect(r.seconds).toBeGreaterThanOrEqual(4.5);
    expect(r.st.lastError).toBeNull();
  });

  test("a pod whose container exits 2 s after starting fails the gate, naming pod, container and log", async () => {
    expect((await sync(h)).code).toBe(0);
    const c = await remote.commit({ "kube/web.yaml": pod("hk-web", `["sh", "-c", "sleep 2; echo pod-crash-31; exit 5"]`) }, "crash later");
    const r = await sync(h);
    expect(r.code).toBe(1);
    expect(r.st.appliedCommit).toBe(c);
    expect(r.st.lastError.files).toEqual(["kube/web.yaml"]);
    expect(r.st.lastError.message).toMatch(/kube\/web\.yaml: health gate: pod hk-web: container hk-web-app (restarted|exited with code 5)/);
    expect(r.st.lastError.message).toContain("pod-crash-31");
  });

  test("a liveness probe that fails fails the gate (Podman's healthcheck, run by the gate where no systemd timer does)", async () => {
    const probe = `${pod("hk-probe")}    livenessProbe:\n      exec: {command: [sh, -c, "echo probe-says-no; exit 1"]}\n      periodSeconds: 1\n      failureThreshold: 1\n`;
    await remote.commit({ "kube/web.yaml": probe }, "failing probe");
    const r = await sync(h);
    expect(r.code).toBe(1);
    expect(r.st.lastError.message).toMatch(/pod hk-probe: container hk-probe-app (is unhealthy|restarted|exited)/); // Podman 5 acts on a failed liveness probe itself (stops or restarts the container)
  });

  test("a run-once pod (restartPolicy Never) that exits 0 passes; one that exits 1 fails", async () => {
    await remote.commit({ "kube/web.yaml": pod("hk-job", `["sh", "-c", "echo job done"]`, "Never") }, "job ok");
    expect((await sync(h)).code).toBe(0);
    await remote.commit({ "kube/web.yaml": pod("hk-job", `["sh", "-c", "sleep 2; exit 1"]`, "Never") }, "job fails");
    const r = await sync(h);
    expect(r.code).toBe(1);
    expect(r.st.lastError.message).toContain("pod hk-job: container hk-job-app exited with code 1");
  });
});
