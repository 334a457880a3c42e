/** Kube YAML handling (parse, labels, hash, pod names) and the kube config keys: pure logic, no Podman. */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { MethodError } from "../../src/errors.ts";
import { olderThan } from "../../src/methods/kube-verify.ts";
import { claimNames, injectLabels, isPodOf, kubeHash, markStopTimeout, parseKubeFile, renderKube, stopTimeoutOf } from "../../src/methods/kube-yaml.ts";
import { playOptions } from "../../src/methods/kube.ts";

const POD = `# the app
apiVersion: v1
kind: Pod
metadata:
  name: app   # pod name
  labels: {tier: web}
spec:
  containers:
    - name: web
      image: busybox
      env:
        - {name: FLAG, value: "yes"}
`;
const CLAIM = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec: {}\n";
const DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  template:\n    spec:\n      containers: [{name: w, image: busybox}]\n";
const CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {A: b}\n";

function error(fn: () => unknown): MethodError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MethodError);
    return err as MethodError;
  }
  throw new Error("expected a MethodError");
}

describe("parseKubeFile", () => {
  test("reads every document, skips empty ones, and counts what creates pods", () => {
    const f = parseKubeFile(`---\n${CONFIG}---\n${CLAIM}---\n${POD}---\n${DEPLOY}---\n`, "kube/a.yaml");
    expect(f.docs.map((d) => `${d.kind}/${d.name}`)).toEqual(["ConfigMap/cfg", "PersistentVolumeClaim/data", "Pod/app", "Deployment/worker"]);
    expect(f.workloads).toBe(2);
    expect(f.podNames).toEqual(["app"]);
    expect(f.controllerNames).toEqual(["worker"]);
    expect(claimNames(f)).toEqual(["data"]);
  });

  test("errors name the file, the document and the line", () => {
    expect(error(() => parseKubeFile("kind: Pod\nmetadata: [\n", "k/bad.yaml")).message).toMatch(/^k\/bad.yaml: document 1: invalid YAML at line \d+/);
    expect(error(() => parseKubeFile(`${CONFIG}---\nmetadata: {name: x}\n`, "k/b.yaml")).message).toBe('k/b.yaml: document 2: "kind" is missing');
    expect(error(() => parseKubeFile("kind: Pod\nspec: {}\n", "k/c.yaml")).message).toBe('k/c.yaml: document 1 (Pod): "metadata.name" is missing');
    expect(error(() => parseKubeFile("- a\n- b\n", "k/d.yaml")).message).toContain("not a mapping");
    expect(error(() => parseKubeFile("# only a comment\n", "k/e.yaml")).message).toBe("k/e.yaml: no Kubernetes object in the file");
  });
});

describe("labels, rendering and hash", () => {
  test("labels go on pods, pod templates and claims; comments and formatting stay", () => {
    const f = parseKubeFile(`${CLAIM}---\n${POD}---\n${DEPLOY}---\n${CONFIG}`, "k/a.yaml");
    injectLabels(f, { "owned-by": "fetchit" });
    injectLabels(f, { "io.fetchit.spec-hash": "h" }, false);
    const [claim, pod, dep, cfg] = f.docs.map((d) => d.doc.toJS());
    expect(claim.metadata.labels).toEqual({ "owned-by": "fetchit" });
    expect(pod.metadata.labels).toEqual({ tier: "web", "owned-by": "fetchit", "io.fetchit.spec-hash": "h" });
    expect(dep.spec.template.metadata.labels).toEqual({ "owned-by": "fetchit", "io.fetchit.spec-hash": "h" });
    expect(cfg.metadata.labels).toBeUndefined();
    const out = renderKube(f, new Set([f.docs[0]!]));
    expect(out).toContain("# the app");
    expect(out).toContain('value: "yes"'); // YAML 1.1: an unquoted yes would be a boolean for Podman
    expect(out).not.toContain("PersistentVolumeClaim");
    expect(out.split("---\n").length).toBe(3);
  });

  test("the hash ignores formatting and comments, but not content or play options", () => {
    const a = parseKubeFile(POD, "k/a.yaml");
    const b = parseKubeFile(POD.replace("# the app\n", "").replace("{tier: web}", "\n    tier: web"), "k/a.yaml");
    const c = parseKubeFile(POD.replace("web\n", "web2\n"), "k/a.yaml");
    expect(kubeHash(a, {})).toMatch(/^[0-9a-f]{32}$/);
    expect(kubeHash(b, {})).toBe(kubeHash(a, {}));
    expect(kubeHash(c, {})).not.toBe(kubeHash(a, {}));
    expect(kubeHash(a, { network: "n" })).not.toBe(kubeHash(a, {}));
  });

  test("pods of a file: Pod names and Podman's names for controller pods (4.3 and 5)", () => {
    const f = parseKubeFile(`${POD}---\n${DEPLOY}`, "k/a.yaml");
    for (const n of ["app", "worker-pod", "worker-pod-0", "worker-pod-12"]) expect(isPodOf(f, n)).toBe(true);
    for (const n of ["app2", "worker", "worker-pod-x", "other-pod"]) expect(isPodOf(f, n)).toBe(false);
  });
});

describe("options", () => {
  test("only options that are set reach the play (and the hash)", () => {
    const base = { name: "k", schedule: "* * * * *", targetPath: "k" };
    expect(playOptions(base)).toEqual({});
    expect(playOptions({ ...base, start: true })).toEqual({});
    expect(playOptions({ ...base, network: "n", start: false, userns: "auto" })).toEqual({ network: "n", start: false, userns: "auto" });
  });

  test("Podman versions: userns needs 4.7", () => {
    expect(olderThan("4.3.1", "4.7.0")).toBe(true);
    expect(olderThan("4.6.2", "4.7.0")).toBe(true);
    expect(olderThan("4.7.0", "4.7.0")).toBe(false);
    expect(olderThan("5.4.2-dev", "4.7.0")).toBe(false);
    expect(olderThan("4.10.0", "4.7.0")).toBe(false);
  });

  test("the config accepts network, start (weakly typed) and userns, and rejects unknown keys", () => {
    const target = "targetConfigs:\n- url: https://h/r.git\n  branch: main\n  kube:\n  - schedule: '@hourly'\n    targetPath: kube\n";
    const ok = parseConfig(`${target}    network: edge\n    start: "false"\n    userns: auto\n`, "c.yaml");
    expect(ok.issues).toEqual([]);
    expect(ok.config?.targetConfigs[0]?.kube?.[0]).toMatchObject({ network: "edge", start: false, userns: "auto" });
    const bad = parseConfig(`${target}    netwrok: edge\n    replace: true\n`, "c.yaml");
    expect(bad.issues.map((i) => i.path).sort()).toEqual(["targetConfigs[0].kube[0].netwrok", "targetConfigs[0].kube[0].replace"]);
    expect(bad.issues.find((i) => i.path.endsWith("netwrok"))?.message).toContain('"network"');
  });
});

describe("terminationGracePeriodSeconds", () => {
  test("becomes the stop-timeout label of each workload's pods; absent or invalid values add nothing", () => {
    const yaml = [
      "kind: Pod\nmetadata: {name: a}\nspec: {terminationGracePeriodSeconds: 45, containers: []}",
      "kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {terminationGracePeriodSeconds: 0, containers: []}}}",
      "kind: Pod\nmetadata: {name: b}\nspec: {containers: []}",
      "kind: Pod\nmetadata: {name: c}\nspec: {terminationGracePeriodSeconds: soon, containers: []}",
    ].join("\n---\n");
    const file = parseKubeFile(yaml, "k.yaml");
    markStopTimeout(file);
    const labels = file.docs.map((d) => d.doc.toJS());
    expect(labels[0].metadata.labels).toEqual({ "io.fetchit.stop-timeout": "45" });
    expect(labels[1].spec.template.metadata.labels).toEqual({ "io.fetchit.stop-timeout": "0" });
    expect(labels[2].metadata.labels).toBeUndefined();
    expect(labels[3].metadata.labels).toBeUndefined();
    expect(stopTimeoutOf({ "io.fetchit.stop-timeout": "45" })).toBe(45);
    expect(stopTimeoutOf({ "io.fetchit.stop-timeout": "-1" })).toBeUndefined();
    expect(stopTimeoutOf({})).toBeUndefined();
  });
});
