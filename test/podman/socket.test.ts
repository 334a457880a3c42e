import { describe, expect, test } from "bun:test";
import { FetchitError } from "../../src/errors.ts";
import { resolveSocketPath, socketHint } from "../../src/podman/index.ts";

describe("resolveSocketPath", () => {
  test("flag wins, as a bare path or unix:// URL", () => {
    const env = { CONTAINER_HOST: "unix:///env.sock", XDG_RUNTIME_DIR: "/run/user/1000" };
    expect(resolveSocketPath({ flag: "/srv/p.sock", env, uid: 1000 })).toBe("/srv/p.sock");
    expect(resolveSocketPath({ flag: "unix:///srv/p.sock", env, uid: 0 })).toBe("/srv/p.sock");
  });

  test("an empty flag is ignored", () => {
    expect(resolveSocketPath({ flag: "  ", env: {}, uid: 0 })).toBe("/run/podman/podman.sock");
  });

  test("CONTAINER_HOST with unix:// comes next", () => {
    expect(resolveSocketPath({ env: { CONTAINER_HOST: "unix:///tmp/x/podman.sock" }, uid: 0 })).toBe("/tmp/x/podman.sock");
  });

  test("non-unix CONTAINER_HOST schemes are rejected with a clear error", () => {
    for (const host of ["ssh://core@host/run/podman/podman.sock", "tcp://127.0.0.1:8080"]) {
      expect(() => resolveSocketPath({ env: { CONTAINER_HOST: host }, uid: 0 })).toThrow(/CONTAINER_HOST: unsupported scheme/);
    }
    expect(() => resolveSocketPath({ env: { CONTAINER_HOST: "/no/scheme.sock" }, uid: 0 })).toThrow(/must start with unix:\/\//);
    expect(() => resolveSocketPath({ flag: "tcp://h:1", env: {}, uid: 0 })).toThrow(FetchitError);
  });

  test("relative paths are rejected", () => {
    expect(() => resolveSocketPath({ flag: "podman.sock", env: {}, uid: 0 })).toThrow(/absolute/);
    expect(() => resolveSocketPath({ flag: "unix://podman.sock", env: {}, uid: 0 })).toThrow(/absolute/);
  });

  test("root defaults to /run/podman/podman.sock", () => {
    expect(resolveSocketPath({ env: { XDG_RUNTIME_DIR: "/run/user/0" }, uid: 0 })).toBe("/run/podman/podman.sock");
  });

  test("rootless uses XDG_RUNTIME_DIR, else /run/user/<uid>", () => {
    expect(resolveSocketPath({ env: { XDG_RUNTIME_DIR: "/run/user/1000/" }, uid: 1000 })).toBe(
      "/run/user/1000/podman/podman.sock",
    );
    expect(resolveSocketPath({ env: {}, uid: 1001 })).toBe("/run/user/1001/podman/podman.sock");
    expect(resolveSocketPath({ env: { XDG_RUNTIME_DIR: "" }, uid: 1002 })).toBe("/run/user/1002/podman/podman.sock");
  });
});

describe("socketHint", () => {
  test("names the systemctl command for root and rootless", () => {
    expect(socketHint(0)).toContain("`systemctl enable --now podman.socket`");
    expect(socketHint(1000)).toMatch(/^start it with `systemctl --user enable --now podman.socket`/);
  });
});
