/**
 * Kubernetes YAML for the kube method: multi-document parsing (YAML 1.1, as
 * Podman reads it), fetchit's labels injected into every pod template
 * (comments and formatting kept), a content hash, and what a file will
 * create (pod names, volume claims) without asking Podman.
 */
import { isMap, parseAllDocuments, type Document } from "yaml";
import { MethodError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";

/** Kinds whose documents create pods (Podman 4.3: Pod and Deployment; later versions add DaemonSet and Job). */
const WORKLOADS = new Set(["Pod", "Deployment", "DaemonSet", "Job"]);

/** One YAML document of a kube file. */
export interface KubeDoc {
  kind: string;
  name: string;
  doc: Document;
}

/** A parsed kube file. */
export interface KubeFile {
  docs: KubeDoc[];
  /** Documents that create pods. */
  workloads: number;
  /** Names of Pod documents (the pod names Podman gives them). */
  podNames: string[];
  /** Names of Deployment/DaemonSet/Job documents (Podman names their pods `<name>-pod`, 4.3: `<name>-pod-<n>`). */
  controllerNames: string[];
}

/** Parses every document of `text`; empty documents are skipped. Errors name the file and the line. */
export function parseKubeFile(text: string, path: string): KubeFile {
  const out: KubeFile = { docs: [], workloads: 0, podNames: [], controllerNames: [] };
  parseAllDocuments(text, { version: "1.1" }).forEach((doc, i) => {
    const where = `document ${i + 1}`;
    const err = doc.errors[0];
    if (err) throw new MethodError(`${where}: invalid YAML at line ${err.linePos?.[0].line ?? "?"}: ${err.message.split("\n")[0]}`, path);
    if (doc.contents === null || doc.toJS() == null) return;
    if (!isMap(doc.contents)) throw new MethodError(`${where}: not a mapping (expected a Kubernetes object)`, path);
    const kind = doc.get("kind");
    const name = doc.getIn(["metadata", "name"]);
    if (typeof kind !== "string" || !kind) throw new MethodError(`${where}: "kind" is missing`, path);
    if (typeof name !== "string" || !name) throw new MethodError(`${where} (${kind}): "metadata.name" is missing`, path);
    out.docs.push({ kind, name, doc });
    if (!WORKLOADS.has(kind)) return;
    out.workloads++;
    (kind === "Pod" ? out.podNames : out.controllerNames).push(name);
  });
  if (!out.docs.length) throw new MethodError("no Kubernetes object in the file", path);
  return out;
}

/** Adds `labels` to each pod (Pod metadata, controller pod template) and, with `claims`, each PersistentVolumeClaim (its volume). */
export function injectLabels(file: KubeFile, labels: Record<string, string>, claims = true): void {
  for (const { kind, doc } of file.docs) {
    const paths =
      kind === "Pod" || (claims && kind === "PersistentVolumeClaim")
        ? [["metadata", "labels"]]
        : WORKLOADS.has(kind)
          ? [["metadata", "labels"], ["spec", "template", "metadata", "labels"]]
          : [];
    for (const p of paths) for (const [k, v] of Object.entries(labels)) setLabel(doc, p, k, v);
  }
}

/** The label marking pods whose restartPolicy lets them finish (Never, OnFailure): not running is not drift. */
export const LABEL_RUN_ONCE = "io.fetchit.run-once";

/** Labels each workload whose pods may legitimately stop (restartPolicy Never or OnFailure) with LABEL_RUN_ONCE. */
export function markRunOnce(file: KubeFile): void {
  for (const { kind, doc } of file.docs) {
    if (!WORKLOADS.has(kind)) continue;
    const spec = kind === "Pod" ? ["spec"] : ["spec", "template", "spec"];
    const policy = doc.getIn([...spec, "restartPolicy"]);
    if (policy !== "Never" && policy !== "OnFailure") continue;
    setLabel(doc, kind === "Pod" ? ["metadata", "labels"] : ["spec", "template", "metadata", "labels"], LABEL_RUN_ONCE, "true");
  }
}

/** The label carrying a workload's terminationGracePeriodSeconds to its pods (fetchit passes it when it stops them). */
export const LABEL_STOP_TIMEOUT = "io.fetchit.stop-timeout";

/**
 * Labels each workload's pods with its terminationGracePeriodSeconds
 * (LABEL_STOP_TIMEOUT): Podman 4.3's kube play ignores the field, so fetchit
 * passes it as the stop timeout when it stops or replaces the pod. Applied
 * after the hash (the field itself is already part of the hashed documents).
 */
export function markStopTimeout(file: KubeFile): void {
  for (const { kind, doc } of file.docs) {
    if (!WORKLOADS.has(kind)) continue;
    const spec = kind === "Pod" ? ["spec"] : ["spec", "template", "spec"];
    const grace = doc.getIn([...spec, "terminationGracePeriodSeconds"]);
    if (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0) continue;
    setLabel(doc, kind === "Pod" ? ["metadata", "labels"] : ["spec", "template", "metadata", "labels"], LABEL_STOP_TIMEOUT, String(grace));
  }
}

/** The stop timeout a pod's label carries, or undefined (then each container's own). */
export function stopTimeoutOf(labels: Record<string, string>): number | undefined {
  const v = labels[LABEL_STOP_TIMEOUT];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Sets `path.key = value`, creating missing mappings from plain objects (so they read back as objects). */
function setLabel(doc: Document, path: string[], key: string, value: string): void {
  for (let i = 1; i <= path.length; i++) {
    if (!isMap(doc.getIn(path.slice(0, i), true))) doc.setIn(path.slice(0, i), doc.createNode({}));
  }
  doc.setIn([...path, key], value);
}

/** A stable hash of the documents (as data, so formatting and comments do not count) and the play options. */
export function kubeHash(file: KubeFile, options: object): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
      : Array.isArray(v) ? v.map(canon) : v;
  return sha256(JSON.stringify(canon({ docs: file.docs.map((d) => d.doc.toJS()), options }))).slice(0, 32);
}

/** Names of the volumes the file's PersistentVolumeClaims create. */
export function claimNames(file: KubeFile): string[] {
  return file.docs.filter((d) => d.kind === "PersistentVolumeClaim").map((d) => d.name);
}

/** The YAML to play: every document except those listed in `skip` (e.g. claims whose volume exists). */
export function renderKube(file: KubeFile, skip: Set<KubeDoc> = new Set()): string {
  return file.docs
    .filter((d) => !skip.has(d))
    .map((d) => {
      if (d.doc.directives) d.doc.directives.docStart = null; // the separator is added here, once
      return d.doc.toString();
    })
    .join("---\n");
}

/** Whether `pod` is a pod Podman would create for this file (Pod names, `<controller>-pod[-n]`). */
export function isPodOf(file: KubeFile, pod: string): boolean {
  if (file.podNames.includes(pod)) return true;
  return file.controllerNames.some((c) => pod === `${c}-pod` || new RegExp(`^${escapeRe(c)}-pod-\\d+$`).test(pod));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
