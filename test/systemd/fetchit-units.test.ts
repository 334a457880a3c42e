/**
 * Units as people ship them: FetchIt's examples/systemd, unchanged, applied
 * by the compiled binary with FetchIt's own example configs (only the git
 * url pointed at a copy inside the testbed).
 *
 * - systemd 252 testbed (no man pages, no Podman): httpd.service
 *   (`Documentation=man:podman-generate-systemd(1)`, `ExecStart=/usr/bin/podman`)
 *   passes the pre-check and is placed; podman-auto-update.timer.d-override.conf,
 *   neither unit nor drop-in, is skipped with one warning; a unit with a
 *   `Documentation=man:` line that runs something real starts.
 * - systemd 257 + Podman 5.4 testbed: systemd-enable.yaml runs httpd.service,
 *   its podman container answers on 8080 (the image keeps its name, made
 *   from busybox inside: nothing can be pulled here).
 */
import { describe, expect, test } from "bun:test";
import { localConfig, upstreamFile, upstreamTree } from "../support/fetchit-upstream.ts";
import { httpGet, QUADLET_IMAGE, startQuadletTestbed, type QuadletTestbed } from "../support/quadlet.ts";
import { repoInside, startSystemdTestbed, type SystemdTestbed, withTestbed } from "../support/systemd.ts";
import { FETCHIT_INSIDE } from "./kit.ts";

/** FetchIt's examples/systemd as files of a repository (same paths). */
async function upstreamUnits(): Promise<Record<string, string>> {
  const paths = await upstreamTree("examples/systemd");
  return Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await upstreamFile(p)] as const)));
}

/** An upstream example config pointed at `url`, written inside; returns its path. */
async function configInside(tb: SystemdTestbed, name: string, url: string): Promise<string> {
  const path = `/srv/${name}`;
  await tb.writeFile(path, localConfig(await upstreamFile(`examples/${name}`), { repoUrl: url }));
  return path;
}

const syncInside = (tb: SystemdTestbed, config: string, stateDir: string) => tb.exec([FETCHIT_INSIDE, "sync", "--config", config, "--state-dir", stateDir, "--log-level", "info"]);
const OVERRIDE = "podman-auto-update.timer.d-override.conf";

describe("systemd 252, no man pages, no Podman", () => {
  let tb: SystemdTestbed;
  withTestbed(() => startSystemdTestbed(), (t) => void (tb = t));

  test("systemd-config.yaml: FetchIt's units placed (man: and a program not installed are not load errors), the override .conf skipped with one warning", async () => {
    expect((await tb.exec(["sh", "-c", "command -v man || ls /usr/share/man/man1/podman-generate-systemd.1.gz"])).code).not.toBe(0);
    const url = await repoInside(tb, "/srv/fetchit", await upstreamUnits());
    // What the pre-check did before: plain verify fails FetchIt's httpd.service in this testbed.
    const plain = await tb.exec(["systemd-analyze", "verify", "/srv/fetchit/examples/systemd/httpd.service"]);
    expect(plain.code).not.toBe(0);

    const r = await syncInside(tb, await configInside(tb, "systemd-config.yaml", url), "/var/lib/fetchit-a");
    const out = `${r.stdout}\n${r.stderr}`;
    expect({ code: r.code, out }).toEqual({ code: 0, out: expect.stringContaining("applied") });
    const placed = (await tb.execOk(["ls", "/etc/systemd/system"])).split("\n");
    expect(placed).toEqual(expect.arrayContaining(["httpd.service", "podman-auto-update.service", "podman-auto-update.timer"]));
    expect(placed).not.toContain(OVERRIDE);
    expect(out.split("\n").filter((l) => l.includes(OVERRIDE))).toHaveLength(1);
    expect(out).toContain("skipped files that are neither unit files nor drop-ins");
    expect(await tb.show("httpd.service", "LoadState")).toBe("loaded");
    expect(await tb.show("httpd.service", "Documentation")).toBe('"man:podman-generate-systemd(1)"');

    const again = await syncInside(tb, "/srv/systemd-config.yaml", "/var/lib/fetchit-a");
    expect({ code: again.code, warned: `${again.stdout}${again.stderr}`.includes(OVERRIDE) }).toEqual({ code: 0, warned: false });
  }, 120_000);

  test("a unit with Documentation=man: that runs something real is enabled and runs", async () => {
    const unit = "[Unit]\nDescription=docs demo\nDocumentation=man:fetchit-demo(8) https://example.invalid/docs\n[Service]\nExecStart=/bin/sh -c 'echo demo up; exec sleep infinity'\n[Install]\nWantedBy=multi-user.target\n";
    const url = await repoInside(tb, "/srv/docs-demo", { "units/docs-demo.service": unit, "units/README.md": "not a unit\n", "units/notes.conf": "[x]\n" });
    await tb.writeFile("/srv/docs-demo.yaml", `targetConfigs:\n- url: ${url}\n  branch: main\n  systemd:\n  - name: docs\n    targetPath: units\n    root: true\n    enable: true\n    schedule: "@hourly"\n`);
    const r = await syncInside(tb, "/srv/docs-demo.yaml", "/var/lib/fetchit-b");
    expect({ code: r.code, err: r.code ? r.stderr : "" }).toEqual({ code: 0, err: "" });
    expect((await tb.systemctl(["is-active", "docs-demo.service"])).stdout.trim()).toBe("active");
    expect(await tb.journal("docs-demo.service")).toContain("demo up");
    expect(`${r.stdout}${r.stderr}`).toContain("units/notes.conf"); // the .conf skipped (README.md is not read at all)
  }, 120_000);
});

describe("systemd 257 with Podman 5.4", () => {
  let tb: QuadletTestbed;
  withTestbed(startQuadletTestbed, (t) => void (tb = t));

  test("systemd-enable.yaml: FetchIt's httpd.service runs its podman container, answering on 8080", async () => {
    const httpd = /registry\.access\.redhat\.com\/\S+/.exec(await upstreamFile("examples/systemd/httpd.service"))![0];
    await tb.execOk(["sh", "-c", `podman create --name img-src ${QUADLET_IMAGE} true && podman commit -q --change 'CMD ["httpd","-f","-p","8080","-h","/www"]' img-src ${httpd} && podman rm img-src`]);
    const url = await repoInside(tb, "/srv/fetchit", await upstreamUnits());
    const r = await syncInside(tb, await configInside(tb, "systemd-enable.yaml", url), "/var/lib/fetchit-c");
    expect({ code: r.code, err: r.code ? `${r.stdout}\n${r.stderr}` : "" }).toEqual({ code: 0, err: "" });
    expect((await tb.systemctl(["is-active", "httpd.service", "podman-auto-update.timer"])).stdout).toBe("active\nactive\n");
    expect(await httpGet(tb.ip, 8080)).toContain("hello from busybox");
    expect((await tb.execOk(["podman", "ps", "--format", "{{.Names}} {{.Image}}"])).trim()).toBe(`httpd ${httpd}`);
  }, 180_000);
});
