/** Where content comes from: several targets, smart HTTP, force pushes, registries, and an unreachable Podman. */
import { beforeAll, beforeEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { serveHttp } from "../support/git-http.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";
import { sharedRegistry, type TestRegistry } from "../support/registry.ts";

let podman: TestPodman;
let registry: TestRegistry;
beforeAll(async () => {
  podman = await sharedPodman();
  registry = await sharedRegistry();
}, 60_000);
beforeEach(async () => {
  await podman.reset();
});

const spec = (name: string, image = podman.image, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Image: image, Name: name, Command: SLEEPER, ...extra });
const rawMethod = (extra = "") => `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n${extra}`;
const names = async () => (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();
const statusOf = async (h: ReturnType<typeof harness>) => JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods;

test("two targets whose repositories share a basename get separate clones and both apply", async () => {
  const base = tempDir("fetchit-same-");
  const a = await createRemote({ "raw/a.json": spec("from-x") });
  const b = await createRemote({ "raw/b.json": spec("from-y") });
  // two remotes both named ".../app" (FetchIt would clone both into /opt/app)
  const ax = join(base, "x", "app");
  const by = join(base, "y", "app");
  Bun.spawnSync(["mkdir", "-p", join(base, "x"), join(base, "y")]);
  Bun.spawnSync(["git", "clone", "-q", "--bare", a.dir, ax]);
  Bun.spawnSync(["git", "clone", "-q", "--bare", b.dir, by]);
  const cfg =
    `targetConfigs:\n` +
    `  - name: x\n    url: file://${ax}\n    branch: main\n${rawMethod()}` +
    `  - name: y\n    url: ${by}\n    branch: main\n${rawMethod()}`;
  const h = harness(podman, cfg);
  expect((await h.cli("sync")).code).toBe(0);
  expect(await names()).toEqual(["from-x", "from-y"]);
  expect(readdirSync(join(h.stateDir, "repos")).length).toBe(2);
  const st = await statusOf(h);
  expect(st.map((s: any) => s.target).sort()).toEqual(["x", "y"]);
});

test("a repository served over smart HTTP is fetched and applied", async () => {
  const remote = await createRemote({ "raw/h.json": spec("over-http") });
  const server = await serveHttp(remote.dir);
  try {
    const h = harness(podman, targetConfig(server.url, rawMethod()));
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["over-http"]);
    await remote.commit({ "raw/h.json": null, "raw/h2.json": spec("over-http-2") });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await names()).toEqual(["over-http-2"]);
  } finally {
    await server.close();
  }
});

test("a force push is followed: diffed against the last applied commit even though the branch no longer contains it", async () => {
  const remote = await createRemote({ "raw/keep.json": spec("keep") });
  const base = await remote.head();
  await remote.commit({ "raw/gone.json": spec("gone") });
  const h = harness(podman, targetConfig(remote.url, rawMethod()));
  expect((await h.cli("sync")).code).toBe(0);
  expect(await names()).toEqual(["gone", "keep"]);
  await remote.resetHard(base);
  await remote.commit({ "raw/new.json": spec("new") }, "rewritten history");
  expect((await h.cli("sync")).code).toBe(0);
  expect(await names()).toEqual(["keep", "new"]);
});

test("a missing image is pulled from the registry; pullImage: true pulls a newer one under the same tag", async () => {
  const ref = await registry.push(podman.image, "fetchit/pulled:1");
  const remote = await createRemote({ "raw/p.json": spec("pulled", ref) });
  const h = harness(podman, targetConfig(remote.url, rawMethod("        pullImage: true\n")));
  expect((await h.cli("sync")).code).toBe(0);
  const id1 = (await podman.cli(["image", "inspect", "--format", "{{.Id}}", ref])).trim();
  expect((await podman.cli(["container", "inspect", "--format", "{{.Image}}", "pulled"])).trim()).toBe(id1);
  // publish a different image under the same tag, then change the spec
  await podman.cli(["tag", podman.image, "localhost/fetchit-test/next:1"]);
  const cid = (await podman.cli(["create", "--label", "v=2", podman.image, "true"])).trim();
  await podman.cli(["commit", "-q", cid, "localhost/fetchit-test/next:1"]);
  await podman.cli(["rm", cid]);
  await registry.push("localhost/fetchit-test/next:1", "fetchit/pulled:1");
  await remote.commit({ "raw/p.json": spec("pulled", ref, { Env: { V: "2" } }) });
  expect((await h.cli("sync")).code).toBe(0);
  const id2 = (await podman.cli(["image", "inspect", "--format", "{{.Id}}", ref])).trim();
  expect(id2).not.toBe(id1);
  expect((await podman.cli(["container", "inspect", "--format", "{{.Image}}", "pulled"])).trim()).toBe(id2);
});

test("an image that cannot be pulled fails that file with the image named", async () => {
  const remote = await createRemote({ "raw/x.json": spec("nopull", `${registry.host}/fetchit/absent:1`), "raw/ok.json": spec("ok") });
  const h = harness(podman, targetConfig(remote.url, rawMethod()));
  expect((await h.cli("sync")).code).toBe(1);
  expect(await names()).toEqual(["ok"]);
  const [st] = await statusOf(h);
  expect(st.lastError.files).toEqual(["raw/x.json"]);
  expect(st.lastError.message).toContain(`${registry.host}/fetchit/absent:1`);
}, 30_000);

test("an unreachable Podman socket is a transient error naming the socket, retried with back-off", async () => {
  const remote = await createRemote({ "raw/a.json": spec("never") });
  const h = harness(undefined, targetConfig(remote.url, rawMethod()));
  const sock = join(h.dir, "missing.sock");
  const r = await h.cli("sync", "--podman-socket", sock);
  expect(r.code).toBe(1);
  const [st] = await statusOf(h);
  expect(st.lastError.message).toContain(sock);
  expect(st.lastError.message).toContain("podman.socket");
  expect(st.lastError.retryable).toBe(true);
  expect(Date.parse(st.nextRetryAt)).toBeGreaterThan(Date.now());
  expect(st.appliedCommit).toBeNull();
});

test("a branch that does not exist is a permanent error naming the branch", async () => {
  const remote = await createRemote({ "raw/a.json": spec("nobranch") });
  const h = harness(podman, targetConfig(remote.url, rawMethod()).replace("branch: main", "branch: release-9"));
  expect((await h.cli("sync")).code).toBe(1);
  const [st] = await statusOf(h);
  expect(st.lastError.message).toContain("release-9");
  expect(st.lastError.retryable).toBe(false);
});
