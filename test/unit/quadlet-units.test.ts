/**
 * Pure quadlet logic: file types, service names, versions, the destination
 * directory, and reading `quadlet -dryrun` (output captured from Podman 5.4.2's
 * generator; test/systemd/quadlet.test.ts checks names against the real one).
 */
import { describe, expect, test } from "bun:test";
import { quadletDirectory } from "../../src/methods/quadlet-batch.ts";
import { onlyMissingReferences, parseDryRun, parseVersion, quadletSuffix, serviceOf, unitKey, versionAtLeast } from "../../src/methods/quadlet-units.ts";
import type { QuadletMethod } from "../../src/config/types.ts";

describe("service names", () => {
  test.each([
    ["web.container", "web.service"],
    ["sub/dir/web.container", "web.service"],
    ["app.kube", "app.service"],
    ["db.pod", "db-pod.service"],
    ["net.network", "net-network.service"],
    ["data.volume", "data-volume.service"],
    ["base.image", "base-image.service"],
    ["app.build", "app-build.service"],
  ])("%s → %s", (file, service) => {
    expect(serviceOf(file, "")).toBe(service);
  });

  test("ServiceName= of the type's section wins; other sections do not count", () => {
    expect(serviceOf("a.container", "[Container]\nImage=x\nServiceName=custom\n")).toBe("custom.service");
    expect(serviceOf("a.pod", "[Pod]\nServiceName=pods.service\n")).toBe("pods.service");
    expect(serviceOf("a.container", "[Service]\nServiceName=nope\n")).toBe("a.service");
  });

  test("other files are not quadlet files", () => {
    for (const f of ["app.yaml", "web.env", "README.md", ".container", "Containerfile"]) {
      expect(quadletSuffix(f)).toBeUndefined();
      expect(serviceOf(f, "")).toBeUndefined();
    }
  });

  test("unitKey: last value wins, comments and other sections ignored", () => {
    const text = "# c\n[Container]\nImage=a\n; x\nImage = b\n[Service]\nImage=c\n";
    expect(unitKey(text, "Container", "Image")).toBe("b");
    expect(unitKey(text, "Container", "Exec")).toBeUndefined();
  });
});

describe("versions", () => {
  test("parse podman --version output", () => {
    expect(parseVersion("podman version 4.3.1\n")).toEqual([4, 3, 1]);
    expect(parseVersion("podman version 5.4.2-dev")).toEqual([5, 4, 2]);
    expect(parseVersion("podman version 4.4")).toEqual([4, 4, 0]);
    expect(parseVersion("podman")).toBeUndefined();
  });
  test("4.4.0 is the first with quadlet", () => {
    expect(versionAtLeast([4, 3, 1], "4.4.0")).toBe(false);
    expect(versionAtLeast([4, 4, 0], "4.4.0")).toBe(true);
    expect(versionAtLeast([4, 10, 0], "4.4.0")).toBe(true);
    expect(versionAtLeast([5, 0, 0], "4.4.0")).toBe(true);
    expect(versionAtLeast([3, 9, 9], "4.4.0")).toBe(false);
  });
});

describe("parseDryRun (Podman 5.4.2's generator)", () => {
  const stdout = "---web-network.service---\n[X-Network]\n\n[Unit]\nSourcePath=/tmp/q1/web.network\n\n---custom.service---\n[Unit]\nSourcePath=/tmp/q2/sub/a.container\n";
  const stderr = [
    "quadlet-generator[788]: Loading source unit file /tmp/q1/bad.container",
    "quadlet-generator[788]: converting \"bad.container\": unsupported key 'Foo' in group 'Container' in /tmp/q1/bad.container",
    'converting "noimg.container": no Image or Rootfs key specified',
    'converting "web.container": requested Quadlet unit web.network was not found',
  ].join("\n");

  test("services with their source files, errors per file", () => {
    const r = parseDryRun(stdout, stderr);
    expect([...r.services]).toEqual([
      ["web-network.service", "/tmp/q1/web.network"],
      ["custom.service", "/tmp/q2/sub/a.container"],
    ]);
    expect(r.errors.get("bad.container")).toEqual(["unsupported key 'Foo' in group 'Container' in /tmp/q1/bad.container"]);
    expect(r.errors.get("noimg.container")).toEqual(["no Image or Rootfs key specified"]);
    expect(r.unreadable).toBeUndefined();
    expect(onlyMissingReferences(r.errors.get("web.container")!)).toBe(true);
    expect(onlyMissingReferences(r.errors.get("bad.container")!)).toBe(false);
    expect(onlyMissingReferences([])).toBe(false);
  });

  test("a file it cannot read at all", () => {
    const r = parseDryRun("", 'quadlet-generator[777]: No files parsed from [/tmp/q1]\nquadlet-generator[777]: error loading "/tmp/q1/syntax.volume", file contains line 1: “[Volume” which is not a key-value pair, group, or comment');
    expect(r.unreadable).toEqual({ path: "/tmp/q1/syntax.volume", message: "file contains line 1: “[Volume” which is not a key-value pair, group, or comment" });
  });
});

describe("quadletDirectory", () => {
  const m = (c: Partial<QuadletMethod>): QuadletMethod => ({ name: "q", schedule: "* * * * *", targetPath: "q", ...c });
  test("root, user ($XDG_CONFIG_HOME, then $HOME), unitDirectory", () => {
    expect(quadletDirectory(m({ root: true }), {})).toBe("/etc/containers/systemd");
    expect(quadletDirectory(m({ root: false }), { HOME: "/home/u" })).toBe("/home/u/.config/containers/systemd");
    expect(quadletDirectory(m({ root: false }), { HOME: "/home/u", XDG_CONFIG_HOME: "/cfg" })).toBe("/cfg/containers/systemd");
    expect(quadletDirectory(m({ root: false, unitDirectory: "/run/containers/systemd/" }), {})).toBe("/run/containers/systemd");
    expect(() => quadletDirectory(m({ root: false }), {})).toThrow(/HOME/);
  });
});
