/**
 * A templated quadlet file (fleets): `web.container.tmpl` in the repository is
 * the quadlet `web.container` on the host, rendered with this host's labels
 * and values. The compiled fetchit runs `sync` inside systemd 257 with Podman
 * 5.4 (test/support/quadlet-testbed.sh); a change of values re-renders it and
 * restarts only its service.
 */
import { beforeAll, expect, test } from "bun:test";
import { repoInside, SETUP_TIMEOUT, withTestbed } from "../support/systemd.ts";
import { httpGet, QUADLET_IMAGE, startQuadletTestbed, type QuadletTestbed } from "../support/quadlet.ts";

let tb: QuadletTestbed;
withTestbed(startQuadletTestbed, (t) => void (tb = t));

const repo = "/srv/tmpl-repo";
const configFile = "/srv/tmpl-config.yaml";
const valuesFile = "/srv/tmpl-values.yaml";
const WEB = `[Unit]\nDescription=web for {{ labels.site }}\n[Container]\nImage=${QUADLET_IMAGE}\nExec=httpd -f -p {{ values.port }} -h /www\nPublishPort={{ values.port }}:{{ values.port }}\nEnvironment=SITE={{ labels.site }} HOST={{ host.hostname }}\nRunInit=true\n[Service]\nSuccessExitStatus=143\n`;

async function sync(): Promise<string> {
  const r = await tb.sync(configFile);
  if (r.code !== 0) throw new Error(`fetchit sync exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}\n${r.stderr}`;
}

beforeAll(async () => {
  const url = await repoInside(tb, repo, { "quadlet/web.container.tmpl": WEB, "quadlet/data.volume": "[Volume]\n" });
  await tb.writeFile(valuesFile, "port: 8091\n");
  await tb.writeFile(
    configFile,
    `host:\n  labels:\n    site: shop-north\n  valuesFile: ${valuesFile}\ntargetConfigs:\n  - name: q\n    url: ${url}\n    branch: main\n    quadlet:\n      - name: apps\n        targetPath: quadlet\n        root: true\n        schedule: "*/5 * * * *"\n`,
  );
}, SETUP_TIMEOUT);

test("web.container.tmpl is placed as web.container, rendered, and its service answers on the port from the values file", async () => {
  await sync();
  const files = (await tb.execOk(["find", "/etc/containers/systemd", "-type", "f", "-printf", "%P\\n"])).split("\n").filter(Boolean).sort();
  expect(files).toEqual(["data.volume", "web.container"]);
  const placed = await tb.execOk(["cat", "/etc/containers/systemd/web.container"]);
  expect(placed).toContain("Description=web for shop-north\n");
  expect(placed).toContain("Exec=httpd -f -p 8091 -h /www\n");
  expect(placed).not.toContain("{{");
  expect((await tb.systemctl(["is-active", "web.service"])).stdout.trim()).toBe("active");
  expect(await httpGet(tb.ip, 8091)).toBe("hello from busybox\n");
  const env = await tb.execOk(["podman", "inspect", "--format", "{{json .Config.Env}}", "systemd-web"]);
  expect(env).toContain("SITE=shop-north");
}, 180_000);

test("a changed value re-renders the template: web restarts on the new port, the volume's service is left alone", async () => {
  const webPid = await tb.show("web.service", "MainPID");
  const volStart = await tb.show("data-volume.service", "ActiveEnterTimestampMonotonic");
  await tb.writeFile(valuesFile, "port: 8092\n");
  await sync();
  expect(await tb.show("web.service", "MainPID")).not.toBe(webPid);
  expect(await httpGet(tb.ip, 8092)).toBe("hello from busybox\n");
  expect(await tb.show("data-volume.service", "ActiveEnterTimestampMonotonic")).toBe(volStart);
  const pid = await tb.show("web.service", "MainPID");
  await sync(); // nothing new: nothing restarts
  expect(await tb.show("web.service", "MainPID")).toBe(pid);
}, 180_000);
