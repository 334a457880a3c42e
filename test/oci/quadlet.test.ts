/**
 * Quadlet from an OCI artifact: the compiled fetchit runs `sync` inside the
 * quadlet testbed (systemd 257, Podman 5.4) against an artifact pushed with
 * `fetchit push` to Debian's docker-registry, which listens on the host's
 * address on the testbed's network. The generated service starts and its
 * httpd answers; an updated artifact restarts it; a file deleted from the
 * artifact stops and removes it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pushDirectory } from "../../src/oci/index.ts";
import { runOk } from "../support/exec.ts";
import { freePort } from "../support/podman.ts";
import { httpGet, QUADLET_IMAGE, startQuadletTestbed, type QuadletTestbed } from "../support/quadlet.ts";
import { SETUP_TIMEOUT, withTestbed } from "../support/systemd.ts";
import { startRegistry, type OwnRegistry } from "../support/registry.ts";
import { tree } from "./support.ts";

const web = (port: number, extra = "") =>
  `[Unit]\nDescription=web on ${port}\n[Container]\nImage=${QUADLET_IMAGE}\nExec=httpd -f -p ${port} -h /www\nPublishPort=${port}:${port}\nRunInit=true\n${extra}[Service]\nSuccessExitStatus=143\n`;

let tb: QuadletTestbed;
let reg: OwnRegistry;
withTestbed(startQuadletTestbed, (t) => void (tb = t));

describe("quadlet from an OCI artifact", () => {
  const configFile = "/srv/oci-quadlet.yaml";
  let url: string;
  let dir: string;
  const sync = async () => {
    const r = await tb.sync(configFile);
    if (r.code !== 0) throw new Error(`fetchit sync exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  };

  beforeAll(async () => {
    const network = process.env.QTB_NETWORK || "podman";
    const gateway = (await runOk(["podman", "network", "inspect", network, "--format", "{{range .Subnets}}{{.Gateway}}{{end}}"])).trim();
    reg = await startRegistry({ host: `${gateway}:${await freePort()}` });
    url = `oci://${reg.host}/edge/quadlet:prod`;
    dir = tree({ "quadlet/web.container": web(8091) });
    await pushDirectory(dir, url, { tlsVerify: false });
    await tb.writeFile(configFile, `targetConfigs:\n  - name: q\n    url: ${url}\n    tlsVerify: false\n    quadlet:\n      - name: apps\n        targetPath: quadlet\n        root: true\n        schedule: "*/5 * * * *"\n`);
  }, SETUP_TIMEOUT);
  afterAll(async () => reg?.stop());

  test("placed and started; an update restarts it; deleted from the artifact, it stops and goes", async () => {
    await sync();
    expect((await tb.systemctl(["is-active", "web.service"])).stdout.trim()).toBe("active");
    expect(await httpGet(tb.ip, 8091)).toBe("hello from busybox\n");
    const pid = await tb.show("web.service", "MainPID");

    writeFileSync(join(dir, "quadlet/web.container"), web(8091, "Environment=VERSION=2\n"));
    await pushDirectory(dir, url, { tlsVerify: false });
    await sync();
    expect(await tb.show("web.service", "MainPID")).not.toBe(pid);
    expect(await tb.execOk(["podman", "exec", "systemd-web", "sh", "-c", "echo $VERSION"])).toBe("2\n");

    rmSync(join(dir, "quadlet/web.container"));
    writeFileSync(join(dir, "quadlet/README.md"), "nothing to run\n");
    await pushDirectory(dir, url, { tlsVerify: false });
    await sync();
    expect((await tb.systemctl(["is-active", "web.service"])).stdout.trim()).not.toBe("active");
    expect((await tb.exec(["test", "-e", "/etc/containers/systemd/web.container"])).code).not.toBe(0);
  }, 240_000);
});
