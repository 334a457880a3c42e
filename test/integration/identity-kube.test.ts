/**
 * Exact identity for kube (issue 15): a Pod whose name is another pod's id
 * prefix, and a claim whose name begins another volume's name. Deploy, drift
 * repair, rename and delete leave the user's pod (same id, running) and
 * volume (same data) alone; a same-named pod fetchit did not create is taken
 * over with a warning, or refused with `adopt: false`. Runs on Podman 4 and 5.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { harness, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, type TestRemote } from "../support/git.ts";
import { networkWithIdPrefix, podWithIdPrefix, stateOf, type Bystander } from "../support/id-prefix.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const T = 120_000;
const SLEEP = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;
const kubeMethod = (extra = "") => `    kube:\n      - name: apps\n        targetPath: kube\n        schedule: "*/5 * * * * *"\n${extra}`;
const claim = (name: string) => `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${name}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 10Mi}}\n`;
const pod = (name: string, extra = "") =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: c\n      image: ${podman.image}\n      command: ${SLEEP}\n${extra}`;
const withClaim = (podName: string, claimName: string) =>
  `${claim(claimName)}---\n` +
  pod(podName, `      volumeMounts: [{name: data, mountPath: /data}]\n  volumes:\n    - name: data\n      persistentVolumeClaim: {claimName: ${claimName}}\n`);

/** The pod named exactly `name`: id, owner label, status; or null. */
async function podNamed(name: string): Promise<{ id: string; owner: string | undefined; running: boolean } | null> {
  const list = JSON.parse((await podman.cli(["pod", "ps", "--format", "json"])) || "[]") as any[];
  const p = list.find((x) => x.Name === name);
  return p ? { id: p.Id, owner: p.Labels?.["owned-by"], running: p.Status === "Running" } : null;
}
const status = async (h: Harness) => JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];

describe("a Pod named like another pod's id prefix", () => {
  let b: Bystander;
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    b = await podWithIdPrefix(podman);
    remote = await createRemote({ "kube/p.yaml": pod(b.prefix) });
    h = harness(podman, targetConfig(remote.url, kubeMethod()));
  }, T);

  test("deploy, drift repair, rename and delete leave the bystander pod running", async () => {
    const untouched = async () => expect(await stateOf(podman, "pod", b.id)).toEqual({ id: b.id, running: true });
    expect((await h.cli("sync")).code).toBe(0);
    const ours = await podNamed(b.prefix);
    expect(ours).toMatchObject({ owner: "fetchit", running: true });
    expect(ours!.id).not.toBe(b.id);
    await untouched();

    await podman.cli(["pod", "rm", "-f", "-t", "0", ours!.id]); // drift: fetchit's pod gone
    expect((await h.cli("sync")).code).toBe(0);
    expect(await podNamed(b.prefix)).toMatchObject({ owner: "fetchit", running: true });
    await untouched();

    await podman.cli(["pod", "rm", "-f", "-t", "0", (await podNamed(b.prefix))!.id]);
    await remote.commit({ "kube/p.yaml": pod("renamed-pod") }); // the pod renamed inside the file
    expect((await h.cli("sync")).code).toBe(0);
    expect(await podNamed("renamed-pod")).toMatchObject({ owner: "fetchit", running: true });
    await untouched();

    await remote.commit({ "kube/p.yaml": null });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await podNamed("renamed-pod")).toBeNull();
    await untouched();
  }, T);
});

describe("a kube entry's network that is another network's id prefix", () => {
  test("is refused before anything is played", async () => {
    const b = await networkWithIdPrefix(podman);
    const remote = await createRemote({ "kube/p.yaml": pod("netpod") });
    const h = harness(podman, targetConfig(remote.url, kubeMethod(`        network: "${b.prefix}"\n`)));
    expect((await h.cli("sync")).code).toBe(1);
    expect((await status(h)).lastError.message).toContain(`kube/p.yaml: network "${b.prefix}" (the kube entry's network) does not exist (names are matched exactly, never as id prefixes)`);
    expect(await podNamed("netpod")).toBeNull();
  }, T);
});

describe("a claim whose name begins another volume's name", () => {
  test("gets its own volume; the user's volume keeps its data through deploy, delete and prune", async () => {
    await podman.cli(["volume", "create", "dbdata"]);
    await podman.cli(["run", "--rm", "-v", "dbdata:/d", podman.image, "sh", "-c", "echo users-data > /d/f"]);
    const remote = await createRemote({ "kube/db.yaml": withClaim("dbpod", "db") });
    const h = harness(podman, targetConfig(remote.url, kubeMethod()) + `prune:\n  scope: fetchit\n  volumes: true\n  schedule: "0 3 * * *"\n`);
    expect((await h.cli("sync")).code).toBe(0);
    const mounts = JSON.parse(await podman.cli(["container", "inspect", "dbpod-c"]))[0].Mounts as { Name?: string; Destination: string }[];
    expect(mounts.find((m) => m.Destination === "/data")?.Name).toBe("db");
    const vols = async () => (await podman.cli(["volume", "ls", "--format", "{{.Name}}"])).split("\n").filter(Boolean).sort();
    expect(await vols()).toEqual(["db", "dbdata"]);
    const data = () => podman.cli(["run", "--rm", "-v", "dbdata:/d", podman.image, "cat", "/d/f"]);
    expect(await data()).toBe("users-data");

    expect((await h.cli("sync")).code).toBe(0); // the claim's volume exists now: reused, not re-created
    expect(await vols()).toEqual(["db", "dbdata"]);
    await remote.commit({ "kube/db.yaml": null });
    const r = await h.cli("sync"); // pod removed, volumes kept; then prune removes fetchit's orphan claim only
    expect(r.code).toBe(0);
    expect(await vols()).toEqual(["dbdata"]);
    expect(await data()).toBe("users-data");
  }, T);
});

describe("a same-named pod fetchit did not create", () => {
  test("is taken over with a warning; adopt: false refuses and leaves it running", async () => {
    await podman.cli(["pod", "create", "--name", "shop"]);
    await podman.cli(["run", "-d", "--pod", "shop", "--name", "shop-users", podman.image, "sleep", "3600"]);
    const users = (await podNamed("shop"))!;
    const remote = await createRemote({ "kube/shop.yaml": pod("shop") });
    const refusing = harness(podman, targetConfig(remote.url, kubeMethod("        adopt: false\n")));
    expect((await refusing.cli("sync")).code).toBe(1);
    expect((await status(refusing)).lastError.message).toMatch(
      /kube\/shop\.yaml: pod shop \(containers shop-users, id [0-9a-f]{12}\): not created by fetchit; this method has adopt: false, so it is left alone/,
    );
    expect(await podNamed("shop")).toEqual(users);

    const h = harness(podman, targetConfig(remote.url, kubeMethod()));
    const plan = await h.cli("plan");
    expect(plan.out.find((l) => l.includes("shop.yaml"))).toContain("~ take over shop.yaml (shop): new file; replaces pod shop (containers shop-users, id");
    expect((await h.cli("sync")).code).toBe(0);
    const now = await podNamed("shop");
    expect(now).toMatchObject({ owner: "fetchit", running: true });
    expect(now!.id).not.toBe(users.id);
  }, T);
});
