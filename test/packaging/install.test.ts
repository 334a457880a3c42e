/**
 * `fetchit install` / `fetchit uninstall`: first the command functions on a
 * temp dir with a recording exec (what they write, refuse and run), then the
 * compiled binary in a real systemd (test/support/systemd.ts): as root and as
 * a user, the service runs, reloads, and uninstall takes it away again.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/cli.ts";
import { installCommand, uninstallCommand, type InstallDeps, type InstallOptions } from "../../src/cli/install.ts";
import { EXAMPLE_CONFIG, execWord, INSTALL_MARKER, PACKAGED_UNITS, unitText } from "../../src/cli/install-units.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ExitError } from "../../src/errors.ts";
import type { ExecResult } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { tempDir } from "../support/git.ts";
import { DIST_INSIDE, repoInside, startSystemdTestbed, type SystemdTestbed, TESTER, withTestbed } from "../support/systemd.ts";

describe("install and uninstall, on a temp dir", () => {
  function setup(overrides: Partial<InstallDeps> = {}) {
    const dir = tempDir("fetchit-install-");
    const binary = join(dir, "bin", "fetchit");
    mkdirSync(join(dir, "bin"));
    writeFileSync(binary, "#!/bin/sh\n", { mode: 0o755 });
    const calls: string[] = [];
    const deps: InstallDeps = {
      exec: async (cmd, args): Promise<ExecResult> => (calls.push([cmd, ...args].join(" ")), { code: 0, stdout: "", stderr: "" }),
      fs: createHostFs(),
      uid: 0,
      execPath: binary,
      compiled: true,
      ...overrides,
    };
    const opts: InstallOptions = { unitDir: join(dir, "units"), config: join(dir, "etc", "config.yaml") };
    const out: string[] = [];
    const print = (l: string) => void out.push(l);
    const unitPath = join(dir, "units", "fetchit.service");
    return { dir, binary, calls, deps, opts, out, print, unitPath, env: { HOME: join(dir, "home") } };
  }

  test("writes the packaged unit, marked, running this binary; the packaged example config; then daemon-reload and enable --now", async () => {
    const s = setup();
    expect(await installCommand(s.opts, s.env, s.print, s.deps)).toBe(0);
    const unit = readFileSync(s.unitPath, "utf8");
    expect(unit.split("\n")[0]).toBe(INSTALL_MARKER);
    const packaged = PACKAGED_UNITS.system.slice(PACKAGED_UNITS.system.indexOf("[Unit]")).trimEnd();
    const execStart = "ExecStart=/usr/bin/fetchit run --config /etc/fetchit/config.yaml\n";
    expect(packaged).toContain(execStart);
    expect(unit).toContain(packaged.replace(execStart, `ExecStart=${s.binary} run --config ${s.opts.config}\n`));
    expect(unit).toContain("ExecReload=/bin/kill -HUP $MAINPID\n");
    expect(readFileSync(s.opts.config!, "utf8")).toBe(EXAMPLE_CONFIG);
    expect(s.calls).toEqual(["systemctl daemon-reload", "systemctl enable --now fetchit.service"]);
    expect(s.out.join("\n")).toContain(`created ${s.opts.config}`);
    // Installing again: same unit, config kept.
    s.out.length = 0;
    await installCommand(s.opts, s.env, s.print, s.deps);
    expect(s.out.join("\n")).toContain(`kept ${s.opts.config} (exists, valid)`);
    expect(s.out.join("\n")).toContain(`kept ${s.unitPath} (unchanged)`);
  });

  test("the example config is valid as it is and its commented examples are valid once uncommented", () => {
    expect(parseConfig(EXAMPLE_CONFIG, "example").issues).toEqual([]);
    const uncommented = EXAMPLE_CONFIG.slice(EXAMPLE_CONFIG.indexOf("# targetConfigs:")).replace(/^# /gm, "");
    const res = parseConfig(uncommented, "uncommented");
    expect(res.issues).toEqual([]);
    expect(res.config?.targetConfigs[0]?.filetransfer?.[0]?.destinationDirectory).toBe("/etc/edge-app");
    expect(res.config?.targetConfigs[0]?.raw?.length).toBe(1);
  });

  test("--user: the packaged user unit, systemctl --user, the user's config", async () => {
    const s = setup({ uid: 1000 });
    await installCommand({ ...s.opts, user: true }, s.env, s.print, s.deps);
    const unit = readFileSync(s.unitPath, "utf8");
    expect(unit).toContain("WantedBy=default.target");
    expect(unit).toContain(`ExecStart=${s.binary} run --state-dir %S/fetchit --podman-socket %t/podman/podman.sock --config ${s.opts.config}\n`);
    expect(s.calls).toEqual(["systemctl --user daemon-reload", "systemctl --user enable --now fetchit.service"]);
    // Without --config: ~/.fetchit/config.yaml; without --unit-dir: ~/.config/systemd/user.
    const t = setup({ uid: 1000 });
    await installCommand({ user: true }, t.env, t.print, t.deps);
    expect(existsSync(join(t.env.HOME, ".fetchit", "config.yaml"))).toBe(true);
    // fetchit's own default for a user: ~/.fetchit/config.yaml, so no --config.
    expect(readFileSync(join(t.env.HOME, ".config/systemd/user/fetchit.service"), "utf8")).toContain(`ExecStart=${t.binary} run --state-dir %S/fetchit --podman-socket %t/podman/podman.sock\n`);
  });

  test("run from source it refuses and says what to do; --binary works", async () => {
    const s = setup({ compiled: false });
    const err = await installCommand(s.opts, s.env, s.print, s.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExitError);
    expect((err as ExitError).message).toContain("compiled binary");
    expect((err as ExitError).message).toContain("--binary PATH");
    expect(existsSync(s.unitPath)).toBe(false);
    await installCommand({ ...s.opts, binary: s.binary }, s.env, s.print, s.deps);
    expect(readFileSync(s.unitPath, "utf8")).toContain(`ExecStart=${s.binary} run`);
    // Through the CLI wiring too (bun runs this test from source).
    const out: string[] = [];
    await expect(runCli(["install", "--unit-dir", join(s.dir, "u2"), "--no-start"], s.env, (l) => out.push(l))).rejects.toThrow("--binary PATH");
  });

  test("never overwrites a config, nor a unit it did not write (unless --force); an invalid config changes nothing", async () => {
    const s = setup();
    mkdirSync(join(s.dir, "etc"));
    writeFileSync(s.opts.config!, "targetConfigs: []\n# mine\n");
    mkdirSync(join(s.dir, "units"));
    writeFileSync(s.unitPath, "[Service]\nExecStart=/usr/bin/true\n");
    await expect(installCommand(s.opts, s.env, s.print, s.deps)).rejects.toThrow("not written by fetchit install");
    expect(readFileSync(s.unitPath, "utf8")).toBe("[Service]\nExecStart=/usr/bin/true\n");
    await expect(uninstallCommand(s.opts, s.env, s.print, s.deps)).rejects.toThrow("--force");
    await installCommand({ ...s.opts, force: true }, s.env, s.print, s.deps);
    expect(readFileSync(s.unitPath, "utf8")).toContain(INSTALL_MARKER);
    expect(readFileSync(s.opts.config!, "utf8")).toBe("targetConfigs: []\n# mine\n");

    const t = setup();
    mkdirSync(join(t.dir, "etc"));
    writeFileSync(t.opts.config!, "targetConfigs:\n  - branch: 3\n");
    await expect(installCommand(t.opts, t.env, t.print, t.deps)).rejects.toThrow("nothing was changed");
    expect(existsSync(t.unitPath)).toBe(false);
    expect(t.calls).toEqual([]);
  });

  test("uninstall: disable --now, remove the unit, daemon-reload; config and state stay", async () => {
    const s = setup();
    await installCommand(s.opts, s.env, s.print, s.deps);
    s.calls.length = 0;
    s.out.length = 0;
    expect(await uninstallCommand(s.opts, s.env, s.print, s.deps)).toBe(0);
    expect(s.calls).toEqual(["systemctl disable --now fetchit.service", "systemctl daemon-reload"]);
    expect(existsSync(s.unitPath)).toBe(false);
    expect(existsSync(s.opts.config!)).toBe(true);
    expect(s.out.join("\n")).toContain("left the config");
    s.out.length = 0;
    expect(await uninstallCommand(s.opts, s.env, s.print, s.deps)).toBe(0);
    expect(s.out.join("\n")).toContain("nothing to uninstall");
  });

  test("a failing systemctl is an error naming the command and its output", async () => {
    const s = setup({ exec: async () => ({ code: 1, stdout: "", stderr: "Failed to connect to bus" }) });
    await expect(installCommand(s.opts, s.env, s.print, s.deps)).rejects.toThrow("systemctl daemon-reload failed (exit 1): Failed to connect to bus");
  });

  test("the system unit needs root; ExecStart words are escaped for systemd", async () => {
    const s = setup({ uid: 1000 });
    await expect(installCommand({}, s.env, s.print, s.deps)).rejects.toThrow("needs root");
    expect(execWord("/opt/my apps/fetchit")).toBe('"/opt/my apps/fetchit"');
    expect(execWord("/srv/100%/x$y")).toBe('"/srv/100%%/x$$y"');
    expect(execWord("/usr/local/bin/fetchit")).toBe("/usr/local/bin/fetchit");
    expect(unitText({ binary: "/b", config: "/c", user: false, stateDir: "/s", podmanSocket: "/p" })).toContain("ExecStart=/b run --config /c --state-dir /s --podman-socket /p\n");
    expect(unitText({ binary: "/my bin/f", config: "/c", user: true, stateDir: "/s", podmanSocket: "/p" })).toContain('ExecStart="/my bin/f" run --state-dir /s --podman-socket /p --config /c\n');
  });
});

describe("install and uninstall, compiled, in a real systemd", () => {
  let tb: SystemdTestbed;
  withTestbed(startSystemdTestbed, (t) => void (tb = t));

  const filesConfig = (url: string, dest: string) =>
    `targetConfigs:\n  - name: t\n    url: ${url}\n    branch: main\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n`;

  test("as root: /etc/systemd/system/fetchit.service runs the copied binary, applies its config; uninstall removes the unit only", async () => {
    const url = await repoInside(tb, "/srv/repo", { "files/hello.txt": "hello from git\n" });
    await tb.writeFile("/etc/fetchit/config.yaml", filesConfig(url, "/srv/out"), { mode: "600" });
    await tb.execOk(["install", "-m", "755", `${DIST_INSIDE}/fetchit-linux-x64`, "/usr/local/bin/fetchit"]);
    const out = await tb.execOk(["/usr/local/bin/fetchit", "install"]);
    expect(out).toContain("wrote /etc/systemd/system/fetchit.service");
    expect(out).toContain("kept /etc/fetchit/config.yaml (exists, valid)");
    expect(out).toContain("ran systemctl enable --now fetchit.service");
    expect((await tb.systemctl(["is-active", "fetchit"])).stdout.trim()).toBe("active");
    expect(await tb.show("fetchit", "ExecStart")).toContain("path=/usr/local/bin/fetchit ;");
    expect(await tb.show("fetchit", "UnitFileState")).toBe("enabled");
    await waitInside(tb, "/srv/out/hello.txt");
    expect(await tb.execOk(["cat", "/srv/out/hello.txt"])).toBe("hello from git\n");
    expect((await tb.exec(["test", "-d", "/var/lib/fetchit"])).code).toBe(0);
    // Again: nothing to change, the service keeps running.
    const again = await tb.execOk(["/usr/local/bin/fetchit", "install"]);
    expect(again).toContain("(unchanged)");
    expect((await tb.systemctl(["is-active", "fetchit"])).stdout.trim()).toBe("active");

    const un = await tb.execOk(["/usr/local/bin/fetchit", "uninstall"]);
    expect(un).toContain("removed /etc/systemd/system/fetchit.service");
    expect(un).toContain("left the config (/etc/fetchit/config.yaml) and the state (/var/lib/fetchit)");
    expect((await tb.exec(["test", "-e", "/etc/systemd/system/fetchit.service"])).code).not.toBe(0);
    expect((await tb.systemctl(["is-active", "fetchit"])).stdout.trim()).toBe("inactive");
    expect(await tb.show("fetchit", "LoadState")).toBe("not-found");
    expect((await tb.exec(["test", "-f", "/etc/fetchit/config.yaml"])).code).toBe(0);
    await tb.execOk(["rm", "-rf", "/etc/fetchit", "/var/lib/fetchit"]);
  });

  test("as root without a config: install creates the example, the service idles until `systemctl reload` brings targets", async () => {
    const url = await repoInside(tb, "/srv/repo2", { "files/later.txt": "arrived on reload\n" });
    const out = await tb.execOk([`${DIST_INSIDE}/fetchit-linux-x64`, "install"]);
    expect(out).toContain("created /etc/fetchit/config.yaml");
    expect(await tb.execOk(["cat", "/etc/fetchit/config.yaml"])).toBe(EXAMPLE_CONFIG);
    expect(await tb.execOk(["stat", "-c", "%a", "/etc/fetchit/config.yaml"])).toBe("600\n");
    await Bun.sleep(1000);
    expect((await tb.systemctl(["is-active", "fetchit"])).stdout.trim()).toBe("active");
    const pid = await tb.show("fetchit", "MainPID");
    await tb.writeFile("/etc/fetchit/config.yaml", filesConfig(url, "/srv/out2"), { mode: "600" });
    expect((await tb.systemctl(["reload", "fetchit"])).code).toBe(0);
    await waitInside(tb, "/srv/out2/later.txt");
    expect(await tb.show("fetchit", "MainPID")).toBe(pid);
    await tb.execOk([`${DIST_INSIDE}/fetchit-linux-x64`, "uninstall"]);
  });

  test("as a user (--user): a user unit from a binary in the home directory; it applies a filetransfer target; uninstall --user removes it", async () => {
    const url = await repoInside(tb, `${TESTER.home}/repo`, { "files/hello.txt": "hello from git\n" }, "tester");
    const asTester = { user: "tester" as const };
    await tb.execOk(["install", "-D", "-m", "755", `${DIST_INSIDE}/fetchit-linux-x64`, `${TESTER.home}/bin/fetchit`], asTester);
    await tb.writeFile(`${TESTER.home}/.fetchit/config.yaml`, filesConfig(url, `${TESTER.home}/out`), { owner: "tester:tester", mode: "600" });

    const out = await tb.execOk([`${TESTER.home}/bin/fetchit`, "install", "--user"], asTester);
    expect(out).toContain(`wrote ${TESTER.home}/.config/systemd/user/fetchit.service`);
    expect(out).toContain(`kept ${TESTER.home}/.fetchit/config.yaml (exists, valid)`);
    expect(out).toContain("ran systemctl --user enable --now fetchit.service");
    expect(out).not.toContain("enable-linger"); // the testbed's tester lingers
    expect((await tb.systemctl(["is-active", "fetchit"], { user: true })).stdout.trim()).toBe("active");
    expect(await tb.show("fetchit", "ExecStart", { user: true })).toContain(`path=${TESTER.home}/bin/fetchit ;`);
    await waitInside(tb, `${TESTER.home}/out/hello.txt`);
    expect(await tb.execOk(["cat", `${TESTER.home}/out/hello.txt`])).toBe("hello from git\n");
    expect(await tb.execOk(["stat", "-c", "%U", `${TESTER.home}/out/hello.txt`])).toBe("tester\n");

    const un = await tb.execOk([`${TESTER.home}/bin/fetchit`, "uninstall", "--user"], asTester);
    expect(un).toContain(`removed ${TESTER.home}/.config/systemd/user/fetchit.service`);
    expect((await tb.exec(["test", "-e", `${TESTER.home}/.config/systemd/user/fetchit.service`])).code).not.toBe(0);
    expect((await tb.systemctl(["is-active", "fetchit"], { user: true })).stdout.trim()).toBe("inactive");
    expect(await tb.show("fetchit", "LoadState", { user: true })).toBe("not-found");
  });
});

/** Waits until `path` exists inside the testbed. */
async function waitInside(tb: SystemdTestbed, path: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await tb.exec(["test", "-e", path])).code !== 0) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${path} in ${tb.name}`);
    await Bun.sleep(250);
  }
}
