/**
 * Exact identity for raw (issue 15): Podman resolves a name it does not know
 * as a unique id prefix, so a spec whose Name is "db" must never reach a
 * user's container whose id starts with "db". For deploy, delete, rename,
 * drift repair and prune, a bystander container with such an id stays the
 * same container and keeps running. Also: taking over a same-named container
 * fetchit did not create (warning, `plan` "take over", `adopt: false`).
 * Runs on Podman 4 (host) and Podman 5 (FETCHIT_TEST_PODMAN=5).
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { harness, SLEEPER, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, type TestRemote } from "../support/git.ts";
import { containerWithIdPrefix, networkWithIdPrefix, podWithIdPrefix, stateOf, type Bystander } from "../support/id-prefix.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";
import { spawnFetchit } from "../support/process.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const T = 120_000;
const spec = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, ...extra });
const rawMethod = (extra = "") => `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n${extra}`;

/** The container named exactly `name` (the CLI's name filter is a regex: anchored), or null. */
async function named(name: string): Promise<{ id: string; owner: string | undefined; running: boolean } | null> {
  const out = await podman.cli(["ps", "-a", "--filter", `name=^${name}$`, "--format", "json"]);
  const c = (JSON.parse(out || "[]") as any[]).find((x) => x.Names.includes(name));
  return c ? { id: c.Id, owner: c.Labels?.["owned-by"], running: c.State === "running" } : null;
}

/** `fetchit sync` as a real process: exit code and everything it logged. */
async function syncLogged(h: Harness): Promise<{ code: number; log: string }> {
  const p = spawnFetchit(["sync", ...h.flags()], podman.env);
  const code = await p.proc.exited;
  await Bun.sleep(100);
  return { code, log: p.output() };
}

async function expectUntouched(b: Bystander): Promise<void> {
  expect(await stateOf(podman, "container", b.id)).toEqual({ id: b.id, running: true });
}

describe("a spec Name that is another container's id prefix", () => {
  let b: Bystander;
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    b = await containerWithIdPrefix(podman);
    remote = await createRemote({ "raw/x.json": spec(b.prefix) });
    h = harness(podman, targetConfig(remote.url, rawMethod()));
  }, T);

  test("deploy creates a new container of that name; the bystander is untouched", async () => {
    const r = await syncLogged(h);
    expect(r.code).toBe(0);
    expect(r.log).not.toContain("taking over");
    const ours = await named(b.prefix);
    expect(ours).toMatchObject({ owner: "fetchit", running: true });
    expect(ours!.id).not.toBe(b.id);
    await expectUntouched(b);
    expect((await h.cli("sync")).code).toBe(0); // idempotent: the same container
    expect((await named(b.prefix))!.id).toBe(ours!.id);
    await expectUntouched(b);
  }, T);

  test("delete, after fetchit's container was removed by hand, touches nothing", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    await podman.cli(["rm", "-f", "-t", "0", (await named(b.prefix))!.id]);
    await remote.commit({ "raw/x.json": null });
    expect((await h.cli("sync")).code).toBe(0);
    await expectUntouched(b);
  }, T);

  test("a renamed container Name, after the old one was removed by hand, touches nothing", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    await podman.cli(["rm", "-f", "-t", "0", (await named(b.prefix))!.id]);
    await remote.commit({ "raw/x.json": spec("renamed-app") });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await named("renamed-app")).toMatchObject({ owner: "fetchit", running: true });
    await expectUntouched(b);
  }, T);

  test("drift repair recreates fetchit's container; the bystander is untouched", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    const first = (await named(b.prefix))!.id;
    await podman.cli(["rm", "-f", "-t", "0", first]);
    expect((await h.cli("sync")).code).toBe(0); // no new commit: self-heal
    const again = await named(b.prefix);
    expect(again).toMatchObject({ owner: "fetchit", running: true });
    expect(again!.id).not.toBe(first);
    await expectUntouched(b);
  }, T);

  test("prune (scope fetchit) removes fetchit's orphan of that name by id; the bystander is untouched", async () => {
    const cfg = targetConfig(remote.url, rawMethod()) + `prune:\n  scope: fetchit\n  schedule: "0 3 * * *"\n`;
    await remote.commit({ "raw/x.json": spec("managed") });
    h.writeConfig(cfg);
    await podman.cli(["create", "--name", b.prefix, "--label", "owned-by=fetchit", podman.image, "true"]);
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(r.out.find((l) => l.includes(" prune/prune "))).toContain("(removed 1 containers,");
    expect(await named(b.prefix)).toBeNull();
    expect(await named("managed")).toMatchObject({ owner: "fetchit", running: true });
    await expectUntouched(b);
  }, T);
});

describe("a spec's Pod or Network that is another pod's or network's id prefix", () => {
  const lastError = async (h: Harness) => JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0].lastError.message as string;

  test("Pod: refused with an error naming the field; the bystander pod gets no container and keeps running", async () => {
    const b = await podWithIdPrefix(podman);
    const before = await podman.cli(["pod", "inspect", "--format", "{{.NumContainers}}", b.id]);
    const h = harness(podman, targetConfig((await createRemote({ "raw/x.json": spec("joiner", { Pod: b.prefix }) })).url, rawMethod()));
    expect((await h.cli("sync")).code).toBe(1);
    expect(await lastError(h)).toContain(`raw/x.json: Pod: pod "${b.prefix}" does not exist (names are matched exactly, never as id prefixes); create it first`);
    expect(await named("joiner")).toBeNull();
    expect(await podman.cli(["pod", "inspect", "--format", "{{.NumContainers}}", b.id])).toBe(before);
    expect(await stateOf(podman, "pod", b.id)).toEqual({ id: b.id, running: true });
  }, T);

  test("Network: refused with an error naming the field; no container joins the bystander network", async () => {
    const b = await networkWithIdPrefix(podman);
    const h = harness(podman, targetConfig((await createRemote({ "raw/x.json": spec("joiner", { Network: b.prefix }) })).url, rawMethod()));
    expect((await h.cli("sync")).code).toBe(1);
    expect(await lastError(h)).toContain(`raw/x.json: Network: network "${b.prefix}" does not exist (names are matched exactly, never as id prefixes); create it first`);
    expect(await named("joiner")).toBeNull();
  }, T);
});

describe("a same-named container fetchit did not create", () => {
  let users: string;
  let remote: TestRemote;
  beforeEach(async () => {
    users = await podman.cli(["run", "-d", "--name", "web", podman.image, ...SLEEPER]);
    remote = await createRemote({ "raw/web.json": spec("web") });
  }, T);

  test("is taken over (FetchIt-compatible): plan says \"take over\", the run warns naming it and its image", async () => {
    const h = harness(podman, targetConfig(remote.url, rawMethod()));
    const plan = await h.cli("plan");
    expect(plan.code).toBe(2);
    const line = plan.out.find((l) => l.includes("web.json"));
    expect(line).toContain("~ take over web.json (web): new file; replaces container web (image localhost/fetchit-test/busybox:latest");
    expect(line).toContain("which fetchit did not create");
    expect(plan.out.at(-1)).toContain("1 to take over");
    const json = JSON.parse((await h.cli("plan", "--json")).out.join("\n"));
    expect(json.summary["take-over"]).toBe(1);
    expect(json.methods[0].items[0].action).toBe("take-over");
    expect(await named("web")).toMatchObject({ id: users, running: true }); // plan touched nothing

    const r = await syncLogged(h);
    expect(r.code).toBe(0);
    expect(r.log).toMatch(/WARN.*taking over container web \(image localhost\/fetchit-test\/busybox:latest, id [0-9a-f]{12}\): it was not created by fetchit and is replaced/);
    const now = await named("web");
    expect(now).toMatchObject({ owner: "fetchit", running: true });
    expect(now!.id).not.toBe(users);
  }, T);

  test("adopt: false refuses with a clear error and leaves it running", async () => {
    const h = harness(podman, targetConfig(remote.url, rawMethod("        adopt: false\n")));
    const plan = await h.cli("plan");
    expect(plan.out.find((l) => l.includes("web.json"))).toContain("! error     web.json (web): container web (image localhost/fetchit-test/busybox:latest");
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.lastError.message).toMatch(
      /raw\/web\.json: container web \(image localhost\/fetchit-test\/busybox:latest, id [0-9a-f]{12}\) exists and was not created by fetchit; this method has adopt: false, so it is left alone\. Remove or rename that container, or set adopt: true/,
    );
    expect(await named("web")).toMatchObject({ id: users, running: true });
    expect(await stateOf(podman, "container", users)).toEqual({ id: users, running: true });
  }, T);
});
