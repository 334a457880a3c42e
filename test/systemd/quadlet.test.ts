/**
 * The quadlet method for real: the compiled fetchit runs `sync` inside a
 * systemd 257 with Podman 5.4 (test/support/quadlet-testbed.sh) against a
 * file:// repository, as root (/etc/containers/systemd, the system manager)
 * and as the lingering user tester (~/.config/containers/systemd,
 * systemctl --user). Checked from outside: the generated services' states,
 * MainPIDs and container ids, the files on disk, and a busybox httpd
 * answering on its published port from the host.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDryRun, serviceOf } from "../../src/methods/quadlet-units.ts";
import { repoInside, ROOT, SETUP_TIMEOUT, TESTER, withTestbed } from "../support/systemd.ts";
import { httpGet, portClosed, QUADLET_IMAGE, startQuadletTestbed, type QuadletTestbed } from "../support/quadlet.ts";

/** A busybox httpd on `port` (RunInit: busybox as PID 1 ignores SIGTERM; 143 is its exit on stop). */
const web = (port: number, extra = "") =>
  `[Unit]\nDescription=web on ${port}\n[Container]\nImage=${QUADLET_IMAGE}\nExec=httpd -f -p ${port} -h /www\nPublishPort=${port}:${port}\nRunInit=true\n${extra}[Service]\nSuccessExitStatus=143\n`;

const config = (url: string, entry: string) =>
  `targetConfigs:\n  - name: q\n    url: ${url}\n    branch: main\n    quadlet:\n${entry}`;

/** Writes (or, for null, deletes) files in a repository inside the testbed and commits. */
async function commit(tb: QuadletTestbed, repo: string, changes: Record<string, string | null>, user: "root" | "tester" = "root"): Promise<void> {
  const owner = user === "tester" ? "tester:tester" : "root:root";
  for (const [file, text] of Object.entries(changes)) {
    if (text === null) await tb.execOk(["rm", "-f", `${repo}/${file}`]);
    else await tb.writeFile(`${repo}/${file}`, text, { owner });
  }
  await tb.execOk(["sh", "-c", 'cd "$1" && git add -A && git -c user.name=t -c user.email=t@t.invalid commit -q -m change', "sh", repo], { user });
}

const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

/** How many daemon-reloads the system manager logged so far (systemd 257: "Reloading..."). */
const reloadCount = async () =>
  (await tb.execOk(["journalctl", "_PID=1", "-o", "cat", "--no-pager"])).split("\n").filter((l) => l === "Reloading...").length;

let tb: QuadletTestbed;

withTestbed(startQuadletTestbed, (t) => void (tb = t));

describe("quadlet as root", () => {
  const dir = "/etc/containers/systemd";
  const repo = "/srv/quadlet-repo";
  const configFile = "/srv/quadlet-config.yaml";
  const sync = async (expectCode = 0) => {
    const r = await tb.sync(configFile);
    if (r.code !== expectCode) throw new Error(`fetchit sync exited ${r.code}, expected ${expectCode}:\n${out(r)}`);
    return out(r);
  };

  beforeAll(async () => {
    // web.container uses web.network, placed in the same commit (checked again once the network is in place).
    const url = await repoInside(tb, repo, {
      "quadlet/web.container": web(8080, "Network=web.network\n"),
      "quadlet/web.network": "[Network]\nSubnet=10.91.0.0/24\n",
      "quadlet/data.volume": "[Volume]\n",
      "quadlet/README.md": "not a quadlet file: placed, nothing started\n",
    });
    await tb.writeFile(configFile, config(url, "      - name: apps\n        targetPath: quadlet\n        root: true\n        schedule: \"*/5 * * * *\"\n"));
  }, SETUP_TIMEOUT);

  test("places the files, starts the generated services; the httpd answers on its published port", async () => {
    const reloads = await reloadCount();
    await sync();
    expect(await reloadCount()).toBe(reloads + 1); // one daemon-reload for the four files
    const files = await tb.execOk(["find", dir, "-type", "f", "-printf", "%P\\n"]);
    expect(files.split("\n").filter(Boolean).sort()).toEqual(["README.md", "data.volume", "web.container", "web.network"]);
    for (const unit of ["web.service", "web-network.service", "data-volume.service"]) {
      expect(`${unit}: ${(await tb.systemctl(["is-active", unit])).stdout.trim()}`).toBe(`${unit}: active`);
    }
    expect(await httpGet(tb.ip, 8080)).toBe("hello from busybox\n");
    expect(await tb.execOk(["podman", "volume", "exists", "systemd-data"])).toBe("");
    expect((await tb.execOk(["podman", "network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}", "systemd-web"])).trim()).toBe("10.91.0.0/24");
  }, 120_000);

  test("a second sync with no new commit changes nothing (same MainPID and container)", async () => {
    const pid = await tb.show("web.service", "MainPID");
    const id = await tb.containerId("systemd-web");
    await sync();
    expect(await tb.show("web.service", "MainPID")).toBe(pid);
    expect(await tb.containerId("systemd-web")).toBe(id);
  }, 60_000);

  test("a changed file restarts its service: new MainPID, new container with the new setting", async () => {
    const pid = await tb.show("web.service", "MainPID");
    const id = await tb.containerId("systemd-web");
    await commit(tb, repo, { "quadlet/web.container": web(8080, "Network=web.network\nEnvironment=VERSION=2\n") });
    await sync();
    expect((await tb.systemctl(["is-active", "web.service"])).stdout.trim()).toBe("active");
    expect(await tb.show("web.service", "MainPID")).not.toBe(pid);
    const newId = await tb.containerId("systemd-web");
    expect(newId).not.toBe("");
    expect(newId).not.toBe(id);
    expect(await tb.execOk(["podman", "exec", "systemd-web", "sh", "-c", "echo $VERSION"])).toBe("2\n");
    expect(await httpGet(tb.ip, 8080)).toBe("hello from busybox\n");
  }, 120_000);

  test("a file the generator rejects is reported with its message and not placed; the others are unaffected", async () => {
    const pid = await tb.show("web.service", "MainPID");
    await commit(tb, repo, {
      "quadlet/bad.container": `[Container]\nImage=${QUADLET_IMAGE}\nFoo=bar\n`,
      "quadlet/noimage.container": "[Container]\nExec=true\n",
      "quadlet/orphan.container": `[Container]\nImage=${QUADLET_IMAGE}\nNetwork=missing.network\n`,
    });
    const text = await sync(1);
    expect(text).toContain("quadlet/bad.container");
    expect(text).toContain("unsupported key 'Foo' in group 'Container'");
    expect(text).toContain("quadlet/noimage.container");
    expect(text).toContain("no Image or Rootfs key specified");
    expect(text).toContain("quadlet/orphan.container: rejected by the quadlet generator (Podman 5.4.2): requested Quadlet unit missing.network was not found");
    expect(text).toContain("will not be retried");
    expect((await tb.exec(["test", "-e", `${dir}/orphan.container`])).code).not.toBe(0);
    expect((await tb.exec(["test", "-e", `${dir}/bad.container`])).code).not.toBe(0);
    expect((await tb.exec(["test", "-e", `${dir}/noimage.container`])).code).not.toBe(0);
    expect((await tb.systemctl(["cat", "bad.service"])).code).not.toBe(0);
    expect(await tb.show("web.service", "MainPID")).toBe(pid);
    // Fixed in the next commit: it is placed and started.
    await commit(tb, repo, { "quadlet/bad.container": `[Container]\nImage=${QUADLET_IMAGE}\nExec=sleep 600\nRunInit=true\n[Service]\nSuccessExitStatus=143\n`, "quadlet/noimage.container": null, "quadlet/orphan.container": null });
    await sync();
    expect((await tb.systemctl(["is-active", "bad.service"])).stdout.trim()).toBe("active");
  }, 120_000);

  test("a file the generator cannot read at all is reported and not placed", async () => {
    await commit(tb, repo, { "quadlet/broken.volume": "[Volume\n" });
    const text = await sync(1);
    expect(text).toContain("quadlet/broken.volume");
    expect(text).toContain("the quadlet generator cannot read this file");
    expect((await tb.exec(["test", "-e", `${dir}/broken.volume`])).code).not.toBe(0);
    await commit(tb, repo, { "quadlet/broken.volume": null });
    await sync();
  }, 60_000);

  test("a service that does not stay up is reported with its state and journal; the file stays placed", async () => {
    await commit(tb, repo, { "quadlet/crash.container": `[Container]\nImage=${QUADLET_IMAGE}\nExec=sh -c 'echo crashing now; exit 3'\n` });
    const text = await sync(1);
    expect(text).toContain("quadlet/crash.container");
    expect(text).toContain("crash.service");
    expect(text).toMatch(/failed|exit-code/);
    expect((await tb.exec(["test", "-e", `${dir}/crash.container`])).code).toBe(0);
    await commit(tb, repo, { "quadlet/crash.container": null });
    await sync();
    expect(await tb.show("crash.service", "LoadState")).toBe("not-found");
  }, 60_000);

  test(".kube with its YAML: the pod runs and answers; a changed YAML restarts the kube service", async () => {
    const pod = (v: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: kweb\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: httpd\n      image: ${QUADLET_IMAGE}\n      command: ["httpd", "-f", "-p", "8082", "-h", "/www"]\n      env:\n        - name: V\n          value: "${v}"\n      ports:\n        - containerPort: 8082\n          hostPort: 8082\n`;
    await commit(tb, repo, { "quadlet/kweb.kube": "[Kube]\nYaml=kweb.yaml\n[Service]\nSuccessExitStatus=143\n", "quadlet/kweb.yaml": pod("1") });
    await sync();
    expect((await tb.systemctl(["is-active", "kweb.service"])).stdout.trim()).toBe("active");
    expect(await httpGet(tb.ip, 8082)).toBe("hello from busybox\n");
    const pid = await tb.show("kweb.service", "MainPID");
    await commit(tb, repo, { "quadlet/kweb.yaml": pod("2") });
    await sync();
    expect((await tb.systemctl(["is-active", "kweb.service"])).stdout.trim()).toBe("active");
    expect(await tb.show("kweb.service", "MainPID")).not.toBe(pid);
    expect(await tb.execOk(["podman", "exec", "kweb-httpd", "sh", "-c", "echo $V"])).toBe("2\n");
    await commit(tb, repo, { "quadlet/kweb.kube": null, "quadlet/kweb.yaml": null });
    await sync();
    expect(await tb.show("kweb.service", "LoadState")).toBe("not-found");
    expect(await portClosed(tb.ip, 8082)).toBe(true);
  }, 120_000);

  test("the service names fetchit derives are the generator's, for every quadlet type", async () => {
    const files: Record<string, string> = {
      "n/a.container": `[Container]\nImage=${QUADLET_IMAGE}\n`,
      "n/b.kube": "[Kube]\nYaml=b.yaml\n",
      "n/c.pod": "[Pod]\n",
      "n/d.network": "[Network]\n",
      "n/e.volume": "[Volume]\n",
      "n/f.image": `[Image]\nImage=${QUADLET_IMAGE}\n`,
      "n/g.build": "[Build]\nImageTag=localhost/g\nFile=Containerfile\nSetWorkingDirectory=unit\n",
      "n/h.container": `[Container]\nImage=${QUADLET_IMAGE}\nServiceName=custom-h\n`,
    };
    for (const [f, text] of Object.entries(files)) await tb.writeFile(`/srv/names/${f}`, text);
    const r = await tb.exec(["/usr/libexec/podman/quadlet", "-dryrun", "-no-kmsg-log"], { env: { QUADLET_UNIT_DIRS: "/srv/names/n" } });
    expect(r.code, r.stderr).toBe(0);
    const generated = parseDryRun(r.stdout, r.stderr).services;
    const expected = Object.entries(files).map(([f, text]) => [serviceOf(f, text), `/srv/names/${f}`]);
    expect([...generated].sort()).toEqual(expected.sort() as [string, string][]);
  }, 60_000);

  test("a deleted file: its service is stopped, the file removed, the unit gone, the port closed", async () => {
    await commit(tb, repo, { "quadlet/web.container": null, "quadlet/bad.container": null });
    await sync();
    expect((await tb.exec(["test", "-e", `${dir}/web.container`])).code).not.toBe(0);
    expect((await tb.systemctl(["is-active", "web.service"])).stdout.trim()).toBe("inactive");
    expect(await tb.show("web.service", "LoadState")).toBe("not-found");
    expect(await tb.containerId("systemd-web")).toBe("");
    expect(await portClosed(tb.ip, 8080)).toBe(true);
    // The network and volume files stay, and their services.
    expect((await tb.systemctl(["is-active", "web-network.service"])).stdout.trim()).toBe("active");
  }, 120_000);
});

describe("quadlet as a user (systemctl --user)", () => {
  const home = TESTER.home;
  const repo = `${home}/quadlet-repo`;
  const configFile = `${home}/quadlet-config.yaml`;
  // On this cgroup v1 host rootless quadlet needs --cgroups=enabled (its --cgroups=split fails).
  const userWeb = web(8081, "PodmanArgs=--cgroups=enabled\n");

  test("places into ~/.config/containers/systemd, starts the user service, answers; deleted → stopped", async () => {
    const url = await repoInside(tb, repo, { "q/uweb.container": userWeb }, "tester");
    await tb.writeFile(configFile, config(url, "      - targetPath: q\n        schedule: \"*/5 * * * *\"\n"), { owner: "tester:tester" });
    const first = await tb.sync(configFile, { user: true });
    expect(first.code, out(first)).toBe(0);
    expect((await tb.execOk(["ls", `${home}/.config/containers/systemd`])).trim()).toBe("uweb.container");
    expect((await tb.systemctl(["is-active", "uweb.service"], { user: true })).stdout.trim()).toBe("active");
    expect(await httpGet(tb.ip, 8081)).toBe("hello from busybox\n");

    await commit(tb, repo, { "q/uweb.container": null }, "tester");
    const second = await tb.sync(configFile, { user: true });
    expect(second.code, out(second)).toBe(0);
    expect((await tb.exec(["test", "-e", `${home}/.config/containers/systemd/uweb.container`])).code).not.toBe(0);
    expect(await tb.show("uweb.service", "LoadState", { user: true })).toBe("not-found");
    expect(await portClosed(tb.ip, 8081)).toBe(true);
  }, 180_000);
});

describe("quadlet with restart: false", () => {
  test("a changed file is placed and reloaded but the running service keeps its process until its next start", async () => {
    const lazy = (v: number) => `[Container]\nImage=${QUADLET_IMAGE}\nExec=sleep 1000\nEnvironment=V=${v}\nRunInit=true\n[Service]\nSuccessExitStatus=143\n`;
    const url = await repoInside(tb, "/srv/lazy-repo", { "q/lazy.container": lazy(1) });
    await tb.writeFile("/srv/lazy-config.yaml", config(url, "      - targetPath: q\n        restart: false\n        schedule: \"*/5 * * * *\"\n"));
    const first = await tb.sync("/srv/lazy-config.yaml", { stateDir: "/srv/lazy-state" });
    expect(first.code, out(first)).toBe(0);
    const pid = await tb.show("lazy.service", "MainPID");
    expect(Number(pid)).toBeGreaterThan(0);
    await commit(tb, "/srv/lazy-repo", { "q/lazy.container": lazy(2) });
    const second = await tb.sync("/srv/lazy-config.yaml", { stateDir: "/srv/lazy-state" });
    expect(second.code, out(second)).toBe(0);
    expect(out(second)).toContain("restart is false");
    expect(await tb.execOk(["grep", "-c", "V=2", "/etc/containers/systemd/lazy.container"])).toBe("1\n");
    expect(await tb.show("lazy.service", "MainPID")).toBe(pid);
    expect(await tb.show("lazy.service", "NeedDaemonReload")).toBe("no");
    expect(await tb.execOk(["podman", "exec", "systemd-lazy", "sh", "-c", "echo $V"])).toBe("1\n");
    expect((await tb.systemctl(["restart", "lazy.service"])).code).toBe(0);
    expect(await tb.execOk(["podman", "exec", "systemd-lazy", "sh", "-c", "echo $V"])).toBe("2\n");
    await tb.systemctl(["stop", "lazy.service"]);
  }, 120_000);
});

describe("the quadlet example (examples/quadlet-config.yaml, examples/repo/quadlet)", () => {
  test("runs as shipped: hello.service answers on port 8080 with the page it wrote into its volume", async () => {
    const repoDir = join(ROOT, "examples", "repo", "quadlet");
    const files = Object.fromEntries(readdirSync(repoDir).map((f) => [`quadlet/${f}`, readFileSync(join(repoDir, f), "utf8")]));
    const url = await repoInside(tb, "/srv/example-repo", files);
    const text = readFileSync(join(ROOT, "examples", "quadlet-config.yaml"), "utf8").replace(/url: .*/, `url: ${url}`);
    await tb.writeFile("/srv/example-config.yaml", text);
    // The example names Docker Hub's busybox; the testbed has no registry, so the test image stands in (pull policy "missing").
    await tb.execOk(["podman", "tag", QUADLET_IMAGE, "docker.io/library/busybox:latest"]);
    const r = await tb.sync("/srv/example-config.yaml", { stateDir: "/srv/example-state" });
    expect(r.code, out(r)).toBe(0);
    for (const unit of ["hello.service", "hello-network.service", "hello-content-volume.service"]) {
      expect(`${unit}: ${(await tb.systemctl(["is-active", unit])).stdout.trim()}`).toBe(`${unit}: active`);
    }
    expect(await httpGet(tb.ip, 8080)).toBe("hello from quadlet\n");
  }, 120_000);
});
