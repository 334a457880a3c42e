/** Container calls against the real test Podman service. */
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodmanApiError } from "../../src/errors.ts";
import { createPodmanClient, type ContainerSpec, type PodmanClient } from "../../src/podman/index.ts";
import { vanished } from "../../src/podman/transport.ts";
import { containerWithIdPrefix, podWithIdPrefix } from "../support/id-prefix.ts";
import { freePort, rejection, sharedPodman, type TestPodman } from "../support/podman.ts";

let pm: TestPodman;
let client: PodmanClient;
let hostDir: string;

beforeAll(async () => {
  pm = await sharedPodman();
  client = createPodmanClient(pm.socketPath);
  hostDir = join(pm.dir, "bind-src");
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(join(hostDir, "index.html"), "served from the host\n");
}, 60_000);

beforeEach(async () => {
  await pm.reset();
});

function fullSpec(name: string, hostPort: number): ContainerSpec {
  return {
    image: pm.image,
    name,
    env: { GREETING: "hello world" },
    labels: { "owned-by": "fetchit", "fetchit.test": name },
    command: ["sleep", "300"],
    portmappings: [{ host_ip: "127.0.0.1", container_port: 80, host_port: hostPort, protocol: "tcp" }],
    volumes: [{ Name: `${name}-data`, Dest: "/data", Options: ["rw"] }],
    mounts: [{ destination: "/host", type: "bind", source: hostDir, options: ["ro"] }],
    devices: [{ path: "/dev/null:/dev/fetchit-null" }],
    cap_add: ["NET_ADMIN"],
    cap_drop: ["MKNOD"],
    restart_policy: "on-failure",
    restart_tries: 2,
    hostname: "fetchit-host",
    work_dir: "/tmp",
    stop_timeout: 1,
  };
}

describe("containers", () => {
  test("create and start with env, labels, command, ports, volume, bind mount, device", async () => {
    const port = await freePort();
    const { id } = await client.createContainer(fullSpec("fx-full", port));
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await client.startContainer(id);
    await client.startContainer(id); // already running: fine

    const c = await client.inspectContainer(id);
    expect(await client.findContainer("fx-full")).toEqual(c);
    expect(c?.Id).toBe(id);
    expect(c?.Name).toBe("fx-full");
    expect(c?.State.Running).toBe(true);
    expect(c?.State.Status).toBe("running");
    expect(c?.Config.Labels).toMatchObject({ "owned-by": "fetchit", "fetchit.test": "fx-full" });
    expect(c?.ImageName).toBe(pm.image);
    expect(c?.HostConfig?.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 2 });

    // Podman 4.3's `exec` sometimes loses the output of a short command on a
    // loaded machine (its attach races the process's exit): asked again.
    const script = 'echo "$GREETING"; cat /host/index.html; echo x > /data/f && cat /data/f; hostname; pwd; test -c /dev/fetchit-null && echo dev';
    let inside = "";
    for (let i = 0; i < 3 && inside === ""; i++) inside = await pm.cli(["exec", "fx-full", "sh", "-c", script]);
    expect(inside.split("\n")).toEqual(["hello world", "served from the host", "x", "fetchit-host", "/tmp", "dev"]);
    let ro = "";
    for (let i = 0; i < 3 && ro === ""; i++) ro = await pm.cli(["exec", "fx-full", "sh", "-c", "touch /host/x 2>/dev/null || echo ro"]);
    expect(ro).toBe("ro");
    expect(await pm.cli(["volume", "ls", "--format", "{{.Name}}"])).toContain("fx-full-data");
    const caps = await pm.cli(["inspect", "fx-full", "--format", "{{.EffectiveCaps}}"]);
    expect(caps).toContain("CAP_NET_ADMIN");
    expect(caps).not.toContain("CAP_MKNOD");
    expect(await pm.cli(["port", "fx-full"])).toBe(`80/tcp -> 127.0.0.1:${port}`);
  }, 30_000);

  test("a port mapping and a bind mount serve real traffic", async () => {
    const port = await freePort();
    const { id } = await client.createContainer({
      image: pm.image,
      name: "fx-httpd",
      command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
      portmappings: [{ host_ip: "127.0.0.1", container_port: 8080, host_port: port }],
      mounts: [{ destination: "/www", type: "bind", source: hostDir, options: ["ro"] }],
      Networks: { [pm.network]: {} },
    });
    await client.startContainer(id);
    let body = "";
    for (let i = 0; i < 100 && !body; i++) {
      body = await fetch(`http://${pm.publishedHost}:${port}/index.html`).then(
        (r) => r.text(),
        () => Bun.sleep(50).then(() => ""),
      );
    }
    expect(body).toBe("served from the host\n");
  }, 30_000);

  test("list filters by label and exact name", async () => {
    const { id } = await client.createContainer({ image: pm.image, name: "fx-a", command: ["sleep", "300"], labels: { run: "one" } });
    await client.createContainer({ image: pm.image, name: "fx-a2", command: ["sleep", "300"], labels: { run: "two" } });
    await client.startContainer(id);

    const byLabel = await client.listContainers({ labels: ["run=one"] });
    expect(byLabel.map((c) => c.Names[0])).toEqual(["fx-a"]);
    expect(byLabel[0]?.State).toBe("running");
    expect(byLabel[0]?.Labels).toEqual({ run: "one" });
    expect(byLabel[0]?.Image).toBe(pm.image);

    expect(await client.listContainers({ labels: ["run=two"] })).toEqual([]); // created, not running
    expect((await client.listContainers({ all: true, labels: ["run=two"] })).map((c) => c.Names[0])).toEqual(["fx-a2"]);
    expect((await client.listContainers({ all: true, labels: ["run"] })).length).toBe(2);
    expect((await client.listContainers({ all: true, names: ["fx-a"] })).map((c) => c.Names[0])).toEqual(["fx-a"]);
    expect((await client.listContainers({ all: true, names: ["fx-a", "fx-a2"] })).length).toBe(2);
    expect(await client.listContainers({ all: true, names: ["fx-"] })).toEqual([]);
  }, 30_000);

  test("stop, remove, and the missing cases", async () => {
    const { id } = await client.createContainer({ image: pm.image, name: "fx-stop", command: ["sleep", "300"] });
    await client.startContainer(id);
    await client.stopContainer(id, 0);
    const stopped = await client.inspectContainer(id);
    expect(stopped?.State.Running).toBe(false);
    expect(stopped?.State.Status).toMatch(/^(exited|stopped)$/);
    await client.stopContainer(id, 0); // already stopped: fine
    expect(await client.removeContainer(id, { force: true, volumes: true })).toBe(true);
    expect(await client.inspectContainer(id)).toBeNull();
    expect(await client.findContainer("fx-stop")).toBeNull();
    expect(await client.removeContainer(id, { force: true })).toBe(false);
    await client.stopContainer(id); // missing: fine
  }, 30_000);

  test("removing a running container needs force", async () => {
    const { id } = await client.createContainer({ image: pm.image, name: "fx-run", command: ["sleep", "300"] });
    await client.startContainer(id);
    const err = await rejection(client.removeContainer(id));
    expect(err.message).toContain(`DELETE /libpod/containers/${id.slice(0, 12)}`);
    expect(err.retryable).toBe(false);
    expect(await client.removeContainer(id, { force: true, timeoutSeconds: 0 })).toBe(true);
  }, 30_000);

  test("a bad image names the endpoint and Podman's message", async () => {
    const err = await rejection(client.createContainer({ image: "localhost/fetchit-test/absent:1", name: "fx-bad" }));
    expect(err.message).toMatch(/^POST \/libpod\/containers\/create: (500 Internal Server Error|404 Not Found): /); // 404 on Podman 5
    expect(err.message).toContain("localhost/fetchit-test/absent:1: image not known");
    expect([500, 404]).toContain(err.status!);
    expect(err.endpoint).toBe("POST /libpod/containers/create");
    expect(err.retryable).toBe(false);
  });

  test("a name in use and a missing container are not retryable", async () => {
    await client.createContainer({ image: pm.image, name: "fx-dup" });
    const dup = await rejection(client.createContainer({ image: pm.image, name: "fx-dup" }));
    expect(dup.message).toContain("already in use");
    expect(dup.retryable).toBe(false);
    const none = "0".repeat(64);
    const missing = await rejection(client.startContainer(none));
    expect(missing.message).toMatch(new RegExp(`^POST /libpod/containers/${none}/start: 404 Not Found: .*no such container`));
    expect(missing.retryable).toBe(false);
  });

  test("identity: names are found exactly, never as an id prefix; acting calls take full ids only", async () => {
    const b = await containerWithIdPrefix(pm);
    expect(await client.findContainer(b.prefix)).toBeNull(); // Podman's own lookup would return the bystander
    const byName = await client.findContainer((await client.inspectContainer(b.id))!.Name);
    expect(byName?.Id).toBe(b.id);
    const refused = [
      client.stopContainer(b.prefix), client.removeContainer(b.prefix, { force: true }), client.startContainer(b.prefix), client.inspectContainer(b.prefix), client.removePod(b.prefix),
    ];
    for (const call of refused) expect(String(await call.catch((e: unknown) => e))).toContain(`"${b.prefix}" is not a full id; fetchit acts on Podman objects by id only`);
    const pod = await podWithIdPrefix(pm);
    expect(await client.findPod(pod.prefix)).toBeNull();
    await pm.cli(["volume", "create", "dbdata"]);
    expect(await client.volumeExists("db")).toBe(false);
    expect(await client.removeVolume("db")).toBe(false);
    expect(await client.volumeExists("dbdata")).toBe(true);
    expect((await pm.cli(["inspect", "--format", "{{.State.Running}}", b.id]))).toBe("true");
  }, 60_000);

  test("a container or pod removed by someone else during fetchit's stop or removal: no error, it is gone as wanted", async () => {
    // What Podman answers when the object vanishes between lookup and call (500, not 404).
    const raced = new PodmanApiError("DELETE /libpod/pods/2e3cbc8cdf7d: 500 Internal Server Error: no pod with ID 2e3cbc8cdf7dabcf found in database: no such pod", 500, "DELETE /libpod/pods");
    expect(vanished(raced)).toBe(true);
    expect(vanished(new PodmanApiError("POST /libpod/containers/create: 500 Internal Server Error: no such image", 500, "x"))).toBe(false);
    // The real race, many times: fetchit's call and `podman rm -f` of the same object at once.
    const ids = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => pm.cli(["run", "-d", "--name", `race-c${i}`, pm.image, "sleep", "300"])));
    const pods: string[] = [];
    for (const i of [0, 1, 2]) {
      pods.push(await pm.cli(["pod", "create", "--name", `race-p${i}`]));
      await pm.cli(["run", "-d", "--pod", `race-p${i}`, "--name", `race-p${i}-app`, pm.image, "sleep", "300"]);
    }
    const other = (args: string[]) => pm.cli(args).catch(() => "");
    const results = await Promise.allSettled([
      ...ids.flatMap((id, i) => [i % 2 ? client.stopContainer(id, 0) : client.removeContainer(id, { force: true, timeoutSeconds: 0 }), other(["rm", "-f", "-t", "0", id])]),
      ...pods.flatMap((id) => [client.removePod(id, 0), other(["pod", "rm", "-f", "-t", "0", id])]),
    ]);
    expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(await pm.cli(["ps", "-a", "--filter", "name=race-", "--format", "{{.Names}}"])).toBe("");
  }, 60_000);
});
