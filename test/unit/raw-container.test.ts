import { describe, expect, test } from "bun:test";
import type { RawMethod } from "../../src/config/types.ts";
import { LABEL_FILE, LABEL_HASH, LABEL_METHOD, LABEL_OWNER, LABEL_TARGET, specHash, toContainerSpec } from "../../src/methods/raw.ts";
import { parseRawSpec } from "../../src/methods/raw-spec.ts";
import type { MethodContext } from "../../src/methods/types.ts";

const ctx = {
  target: "prod-repo",
  config: { name: "apps", schedule: "* * * * *", targetPath: "raw" },
} as unknown as MethodContext<RawMethod>;

const gen = (yaml: string, file = "raw/web.yaml") => toContainerSpec(parseRawSpec(`Image: nginx\nName: web\n${yaml}`, file), ctx, file);

describe("toContainerSpec", () => {
  test("a minimal spec maps to a full SpecGenerator with fetchit's labels", () => {
    expect(gen("")).toEqual({
      name: "web",
      image: "nginx",
      env: {},
      labels: { [LABEL_OWNER]: "fetchit", [LABEL_TARGET]: "prod-repo", [LABEL_METHOD]: "raw/apps", [LABEL_FILE]: "raw/web.yaml", "io.fetchit.keep-running": "true" },
      portmappings: [],
      mounts: [],
      volumes: [],
      cap_add: [],
      cap_drop: [],
      devices: [],
      restart_policy: "always",
    });
  });

  test("label names are the documented ones", () => {
    expect([LABEL_OWNER, LABEL_TARGET, LABEL_METHOD, LABEL_FILE, LABEL_HASH]).toEqual([
      "owned-by", "io.fetchit.target", "io.fetchit.method", "io.fetchit.file", "io.fetchit.spec-hash",
    ]);
  });

  test("user labels are kept but cannot override fetchit's own", () => {
    const spec = gen("Labels:\n  app: web\n  owned-by: someone\n  io.fetchit.target: other\n");
    expect(spec.labels).toEqual({
      app: "web", "owned-by": "fetchit", "io.fetchit.target": "prod-repo", "io.fetchit.method": "raw/apps", "io.fetchit.file": "raw/web.yaml", "io.fetchit.keep-running": "true",
    });
  });

  test("ports default to tcp; mounts and volumes get empty options", () => {
    const spec = gen(
      "Ports:\n  - container_port: 80\n    host_port: 8080\n  - container_port: 53\n    protocol: udp\n" +
        "Mounts:\n  - destination: /d\n    type: bind\n    source: /s\nVolumes:\n  - name: data\n    dest: /data\n",
    );
    expect(spec.portmappings).toEqual([
      { container_port: 80, host_port: 8080, protocol: "tcp" },
      { container_port: 53, protocol: "udp" },
    ]);
    expect(spec.mounts).toEqual([{ destination: "/d", type: "bind", source: "/s", options: [] }]);
    expect(spec.volumes).toEqual([{ Name: "data", Dest: "/data", Options: [] }]);
  });

  test("Network host → netns host, no Networks map", () => {
    const spec = gen("Network: host\n");
    expect(spec.netns).toEqual({ nsmode: "host" });
    expect(spec.Networks).toBeUndefined();
    expect(gen("Network: none\n").netns).toEqual({ nsmode: "none" });
  });

  test("a comma-separated network list → bridge plus a Networks map", () => {
    const spec = gen("Network: net1, net2\n");
    expect(spec.netns).toEqual({ nsmode: "bridge" });
    expect(spec.Networks).toEqual({ net1: {}, net2: {} });
  });

  test("restart on-failure:3 splits into policy and tries; command, user, pod, devices pass through", () => {
    const spec = gen("Restart: on-failure:3\nCommand: sleep 1\nUser: 0\nPod: p1\nDevices: [/dev/fuse]\n");
    expect(spec.restart_policy).toBe("on-failure");
    expect(spec.restart_tries).toBe(3);
    expect(spec.command).toEqual(["/bin/sh", "-c", "sleep 1"]);
    expect(spec.user).toBe("0");
    expect(spec.pod).toBe("p1");
    expect(spec.devices).toEqual([{ path: "/dev/fuse" }]);
  });
});

describe("specHash", () => {
  test("is a 32-hex-digit hash, stable across key order", () => {
    const a = gen("Env:\n  A: '1'\n  B: '2'\nLabels:\n  x: y\n  z: w\n");
    const b = gen("Labels:\n  z: w\n  x: y\nEnv:\n  B: '2'\n  A: '1'\n");
    expect(specHash(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(specHash(b)).toBe(specHash(a));
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    expect(specHash(reordered)).toBe(specHash(a));
  });

  test("changes when Env, the image or a list order changes", () => {
    const base = specHash(gen("Env:\n  A: '1'\nCapAdd: [A, B]\n"));
    expect(specHash(gen("Env:\n  A: '2'\nCapAdd: [A, B]\n"))).not.toBe(base);
    expect(specHash(gen("Env:\n  A: '1'\n  C: '1'\nCapAdd: [A, B]\n"))).not.toBe(base);
    expect(specHash(gen("Env:\n  A: '1'\nCapAdd: [B, A]\n"))).not.toBe(base);
    expect(specHash(toContainerSpec(parseRawSpec("Image: nginx:2\nName: web\nEnv:\n  A: '1'\nCapAdd: [A, B]\n", "raw/web.yaml"), ctx, "raw/web.yaml"))).not.toBe(base);
  });

  test("depends on the file label (a renamed file recreates the container)", () => {
    expect(specHash(gen("", "raw/a.yaml"))).not.toBe(specHash(gen("", "raw/b.yaml")));
  });
});
