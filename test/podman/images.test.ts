/** Service-level and image calls against the real test Podman service and registry. */
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPodmanClient, type PodmanClient } from "../../src/podman/index.ts";
import { rejection, sharedPodman, type TestPodman } from "../support/podman.ts";
import { sharedRegistry, type TestRegistry } from "../support/registry.ts";

let pm: TestPodman;
let client: PodmanClient;

beforeAll(async () => {
  pm = await sharedPodman();
  client = createPodmanClient(pm.socketPath);
}, 60_000);

describe("service", () => {
  test("ping and version", async () => {
    await client.ping();
    const v = await client.version();
    expect(v.version).toBe(await pm.cli(["version", "--format", "{{.Client.Version}}"]));
    expect(v.apiVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("request<T> reaches any libpod endpoint", async () => {
    const info = await client.request<{ store: { graphRoot: string } }>("GET", "/info");
    expect(info.store.graphRoot).toBe(await pm.cli(["info", "--format", "{{.Store.GraphRoot}}"]));
    const raw = await client.requestRaw("GET", "/containers/nope/json", { allowStatus: [404] });
    expect(raw.status).toBe(404);
  });

  test("a missing socket names the path and how to start the service", async () => {
    const path = join(pm.dir, "absent", "podman.sock");
    const err = await rejection(createPodmanClient(path).ping());
    expect(err.message).toContain("GET /libpod/_ping");
    expect(err.message).toContain(path);
    expect(err.message).toContain("enable --now podman.socket");
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
  });

  test("a socket path nobody listens on is a retryable connection error", async () => {
    const path = join(pm.dir, "not-a-socket");
    writeFileSync(path, "");
    const err = await rejection(createPodmanClient(path).version());
    expect(err.message).toContain(path);
    expect(err.retryable).toBe(true);
  });

  test("a request that outlives its timeout fails, retryable", async () => {
    const { id } = await client.createContainer({ image: pm.image, command: ["sleep", "30"] });
    await client.startContainer(id);
    try {
      const err = await rejection(client.request("POST", `/containers/${id}/wait`, { timeoutMs: 300 }));
      expect(err.message).toMatch(/POST \/libpod\/containers\/\w+\/wait: no answer from Podman .* within 0.3s/);
      expect(err.retryable).toBe(true);
    } finally {
      await client.removeContainer(id, { force: true, timeoutSeconds: 0 });
    }
  });
});

describe("images", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await sharedRegistry();
  }, 60_000);

  test("imageExists and inspectImage", async () => {
    expect(await client.imageExists(pm.image)).toBe(true);
    expect(await client.imageExists("localhost/fetchit-test/absent:latest")).toBe(false);
    const img = await client.inspectImage(pm.image);
    expect(img?.RepoTags).toContain(pm.image);
    expect(img?.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(await client.inspectImage("localhost/fetchit-test/absent:latest")).toBeNull();
  });

  test("pulls from a registry (insecure via registries.conf)", async () => {
    const ref = await registry.push(pm.image, "fetchit/pull-test:v1");
    expect(ref).toBe(`${registry.host}/fetchit/pull-test:v1`);
    // push leaves no local tag for `ref`: only the registry has it.
    expect(await client.imageExists(ref)).toBe(false);
    const id = await client.pullImage(ref);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await client.imageExists(ref)).toBe(true);
    expect((await client.inspectImage(ref))?.Id).toBe(id);
  }, 60_000);

  test("pulling a missing image fails naming the image, not retryable", async () => {
    const ref = `${registry.host}/fetchit/never-pushed:latest`;
    const err = await rejection(client.pullImage(ref));
    expect(err.message).toContain("POST /libpod/images/pull");
    expect(err.message).toContain(ref);
    expect(err.message).toMatch(/manifest unknown|not found/i);
    expect(err.retryable).toBe(false);
  }, 60_000);

  test("pulling from an unreachable registry is retryable", async () => {
    const err = await rejection(client.pullImage("127.0.0.1:1/fetchit/x:latest", { tlsVerify: false }));
    expect(err.message).toContain("127.0.0.1:1/fetchit/x:latest");
    expect(err.message).toContain("connection refused");
    expect(err.retryable).toBe(true);
  }, 60_000);

  test("an invalid reference is reported with the image name", async () => {
    const err = await rejection(client.pullImage("UPPER/Case:bad"));
    expect(err.message).toContain("UPPER/Case:bad");
    expect(err.retryable).toBe(false);
  });
});
