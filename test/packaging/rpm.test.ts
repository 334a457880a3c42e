/**
 * The RPMs built by `bun build.ts --rpm` with a real rpmbuild, read back with
 * rpm: contents, modes, %config(noreplace), requirements, scriptlets, the
 * exact (unstripped) binaries; rpmlint; an install into a scratch root whose
 * fetchit validates the shipped config; the units checked by systemd-analyze.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { binaryPath, gitCommit, ROOT, RPM_ARCHES, rpmPath, rpmVersion, runnerFor, type RpmArch } from "../../build.ts";
import { createScratchDir, run } from "../support/exec.ts";

const ARCHES = Object.keys(RPM_ARCHES) as RpmArch[];
const VERSION = rpmVersion(pkg.version);

/** Tools these tests need; CI must have them all (prepare.sh installs them), elsewhere the tests skip. */
const TOOLS: [string, boolean][] = [
  ["rpm (rpm)", !!Bun.which("rpm")],
  ["rpmbuild (rpm)", !!Bun.which("rpmbuild")],
  ["rpmlint", !!Bun.which("rpmlint")],
  ["qemu-aarch64-static (qemu-user-static)", !!Bun.which("qemu-aarch64-static")],
  ["systemd-analyze (systemd)", !!Bun.which("systemd-analyze")],
];
const missing = TOOLS.filter(([, ok]) => !ok).map(([name]) => name);
const skip = missing.length > 0;

const scratch = createScratchDir("fetchit-rpm-test-");
let sha: string;

beforeAll(async () => {
  if (skip) return;
  sha = await gitCommit();
  // `bun run package`: builds (or reuses, when fresh) the binaries, then both RPMs.
  const r = await run([process.execPath, "run", "package"], { cwd: ROOT });
  if (r.code !== 0) throw new Error(`bun run package exited ${r.code}:\n${r.stdout}${r.stderr}`);
  for (const arch of ARCHES) if (!(await Bun.file(rpmPath(arch)).exists())) throw new Error(`bun run package did not produce ${rpmPath(arch)}`);
}, 600_000);

test("rpm, rpmbuild, rpmlint, qemu and systemd-analyze are installed (CI must have them)", () => {
  if (skip && process.env.CI) throw new Error(`missing ${missing.join(", ")}: run bash test/support/prepare.sh`);
  if (skip) console.warn(`skipping the RPM tests: missing ${missing.join(", ")} (bash test/support/prepare.sh installs them)`);
});

async function rpmq(args: string[]): Promise<string> {
  const r = await run(["rpm", ...args], { env: { LC_ALL: "C" } });
  if (r.code !== 0) throw new Error(`rpm ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe.each(ARCHES)("%s", (arch) => {
  const file = () => rpmPath(arch);

  test.skipIf(skip)("rpm -qip: name, version, release, arch, license, summary", async () => {
    const info = await rpmq(["-qip", file()]);
    const field = (k: string) => info.match(new RegExp(`^${k}\\s*: (.*)$`, "m"))?.[1];
    expect(field("Name")).toBe("fetchit");
    expect(field("Version")).toBe(VERSION);
    expect(field("Release")).toBe("1");
    expect(field("Architecture")).toBe(arch);
    expect(field("License")).toBe("Apache-2.0");
    expect(field("Summary")).toBe("GitOps agent for Podman hosts");
    expect(info).toContain(`This package ships the binary (commit ${sha})`);
    console.log(`${file().slice(ROOT.length + 1)}: ${(statSync(file()).size / 1e6).toFixed(1)} MB`);
  });

  test.skipIf(skip)("rpm -qlp / --dump: the files, their modes, owners and flags", async () => {
    expect((await rpmq(["-qlp", file()])).trim().split("\n")).toEqual([
      "/etc/fetchit",
      "/etc/fetchit/config.yaml",
      "/usr/bin/fetchit",
      "/usr/lib/systemd/system/fetchit.service",
      "/usr/lib/systemd/user/fetchit.service",
      "/usr/share/doc/fetchit",
      "/usr/share/doc/fetchit/README.md",
      "/usr/share/licenses/fetchit",
      "/usr/share/licenses/fetchit/LICENSE",
    ]);
    // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink
    const dump = new Map(
      (await rpmq(["-qp", "--dump", file()]))
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map((f) => [f[0]!, { size: Number(f[1]), digest: f[3], mode: f[4], owner: `${f[5]}:${f[6]}`, config: f[7] === "1", doc: f[8] === "1" }]),
    );
    const binary = binaryPath(RPM_ARCHES[arch]);
    // The very binary build.ts made and checked: not stripped, not touched.
    expect(dump.get("/usr/bin/fetchit")).toEqual({
      size: statSync(binary).size,
      digest: new Bun.CryptoHasher("sha256").update(readFileSync(binary)).digest("hex"),
      mode: "0100755",
      owner: "root:root",
      config: false,
      doc: false,
    });
    expect(dump.get("/etc/fetchit")).toMatchObject({ mode: "040755", owner: "root:root" });
    expect(dump.get("/etc/fetchit/config.yaml")).toMatchObject({ mode: "0100600", owner: "root:root", config: true });
    expect(dump.get("/usr/lib/systemd/system/fetchit.service")).toMatchObject({ mode: "0100644", owner: "root:root", config: false });
    expect(dump.get("/usr/lib/systemd/user/fetchit.service")).toMatchObject({ mode: "0100644", owner: "root:root", config: false });
    expect(dump.get("/usr/share/doc/fetchit/README.md")).toMatchObject({ doc: true });
    // %config(noreplace): "c" config, "n" noreplace; %license: "l".
    const flags = await rpmq(["-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]", file()]);
    expect(flags).toContain("/etc/fetchit/config.yaml cn\n");
    expect(flags).toContain("/usr/share/licenses/fetchit/LICENSE l\n");
    // The packaged files are the repository's.
    const contents = await rpmq(["-qp", "--qf", "[%{FILENAMES} %{FILEDIGESTS}\\n]", file()]);
    const sha256 = (p: string) => new Bun.CryptoHasher("sha256").update(readFileSync(join(ROOT, p))).digest("hex");
    expect(contents).toContain(`/etc/fetchit/config.yaml ${sha256("packaging/config.yaml")}\n`);
    expect(contents).toContain(`/usr/lib/systemd/system/fetchit.service ${sha256("packaging/systemd/fetchit.service")}\n`);
    expect(contents).toContain(`/usr/lib/systemd/user/fetchit.service ${sha256("packaging/systemd/fetchit-user.service")}\n`);
  });

  test.skipIf(skip)("rpm -qp --requires: git-core and podman, glibc for the binary, nothing else", async () => {
    const requires = (await rpmq(["-qp", "--requires", file()])).trim().split("\n");
    expect(requires).toContain("git-core");
    expect(requires).toContain("podman");
    const other = requires.filter((r) => !/^(git-core|podman|\/bin\/sh|config\(fetchit\) = .*|rpmlib\(.*|(ld-linux[-\w.]*|lib(c|dl|m|pthread))\.so\.\d+\(.*)$/.test(r));
    expect(other).toEqual([]);
    // Ordered after systemd when both are installed in one transaction.
    const order = await rpmq(["-qp", "--qf", "[%{ORDERNAME}\\n]", file()]);
    expect(order).toContain("systemd");
  });

  test.skipIf(skip)("rpm -qp --scripts: systemd presets on install, disable on removal, restart on upgrade, for both units", async () => {
    const scripts = await rpmq(["-qp", "--scripts", file()]);
    const section = (name: string) => scripts.split(/^(?=\w+ scriptlet)/m).find((s) => s.startsWith(`${name} scriptlet`)) ?? "";
    const helper = "/usr/lib/systemd/systemd-update-helper";
    expect(section("postinstall")).toContain(`if [ $1 -eq 1 ] && [ -x "${helper}" ]`);
    expect(section("postinstall")).toContain(`${helper} install-system-units fetchit.service || :`);
    expect(section("postinstall")).toContain(`${helper} install-user-units fetchit.service || :`);
    expect(section("preuninstall")).toContain(`if [ $1 -eq 0 ] && [ -x "${helper}" ]`);
    expect(section("preuninstall")).toContain(`${helper} remove-system-units fetchit.service || :`);
    expect(section("preuninstall")).toContain(`${helper} remove-user-units fetchit.service || :`);
    expect(section("postuninstall")).toContain(`if [ $1 -ge 1 ] && [ -x "${helper}" ]`);
    expect(section("postuninstall")).toContain(`${helper} mark-restart-system-units fetchit.service || :`);
    expect(section("postuninstall")).toContain(`${helper} mark-restart-user-units fetchit.service || :`);
    // Each scriptlet is valid sh.
    for (const name of ["postinstall", "preuninstall", "postuninstall"]) {
      const body = section(name).split("\n").slice(1).join("\n");
      const r = await run(["sh", "-n"], { input: body });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
  });

  test.skipIf(skip)("installs into a scratch root: files as packaged (rpm -V), and the installed fetchit validates the shipped config", async () => {
    const root = join(scratch, `root-${arch}`);
    const i = await run(["rpm", "-i", "--root", root, "--nodeps", "--noscripts", "--ignorearch", file()], { env: { LC_ALL: "C" } });
    expect(i.code).toBe(0);
    expect((await rpmq(["--root", root, "-q", "fetchit"])).trim()).toBe(`fetchit-${VERSION}-1.${arch}`);
    // Every file with its packaged digest, size, mode, owner (dependencies are not installed here).
    const v = await run(["rpm", "--root", root, "-V", "--nodeps", "fetchit"], { env: { LC_ALL: "C" } });
    expect(v.stdout + v.stderr).toBe("");
    expect(v.code).toBe(0);
    expect(statSync(join(root, "usr/bin/fetchit")).mode & 0o7777).toBe(0o755);
    expect(statSync(join(root, "etc/fetchit/config.yaml")).mode & 0o7777).toBe(0o600);

    const runner = runnerFor(RPM_ARCHES[arch]);
    const fetchit = (args: string[]) => run([...runner, join(root, "usr/bin/fetchit"), ...args], { env: { HOME: join(scratch, "home"), FETCHIT_CONFIG: undefined } });
    const ver = await fetchit(["version"]);
    expect(ver.stdout.trim()).toBe(`fetchit ${pkg.version} (commit ${sha}, bun ${Bun.version})`);
    const config = join(root, "etc/fetchit/config.yaml");
    const val = await fetchit(["validate", "--config", config]);
    expect(val.stdout.trim()).toBe(`${config}: valid (0 target(s), 0 method(s))`);
    expect(val.code).toBe(0);

    // The commented example in it validates too, once uncommented as it says.
    const text = readFileSync(config, "utf8");
    const start = text.indexOf("\n# targetConfigs:\n");
    expect(start).toBeGreaterThan(0);
    const example = text
      .slice(start + 1)
      .split("\n")
      .map((l) => l.replace(/^# ?/, ""))
      .join("\n");
    const exampleFile = join(scratch, `example-${arch}.yaml`);
    writeFileSync(exampleFile, example);
    const ex = await fetchit(["validate", "--config", exampleFile]);
    expect(ex.stdout.trim()).toBe(`${exampleFile}: valid (1 target(s), 3 method(s))`);
    expect(ex.code).toBe(0);
  }, 60_000);
});

test.skipIf(skip)("rpmlint: no errors (filters in packaging/rpm/fetchit.rpmlintrc, each justified there)", async () => {
  const r = await run(["rpmlint", "-r", join(ROOT, "packaging/rpm/fetchit.rpmlintrc"), ...ARCHES.map((a) => rpmPath(a))], { env: { LC_ALL: "C.UTF-8" } });
  const out = r.stdout + r.stderr;
  console.log(out.split("\n").filter((l) => /: [EW]: |errors,/.test(l)).join("\n"));
  expect(out).toMatch(/\b2 packages and 0 specfiles checked; 0 errors\b/);
  expect(out.split("\n").filter((l) => /: E: /.test(l))).toEqual([]);
  expect(r.code).toBe(0);
}, 60_000);

describe("the units", () => {
  const systemdVersion = (() => {
    const r = Bun.spawnSync(["systemctl", "--version"], { stdout: "pipe" });
    return Number(r.stdout.toString().match(/^systemd (\d+)/)?.[1] ?? 0);
  })();
  // systemd < 254 does not know these and ignores them (documented in the units).
  const tolerated = systemdVersion < 254 ? /Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\.$/ : /^$/;

  /** systemd-analyze verify of a unit file, ExecStart pointing at a real fetchit; returns what it complained about. */
  async function verifyUnit(source: string, user: boolean): Promise<string[]> {
    const dir = join(scratch, user ? "unit-user" : "unit-system");
    const runtime = join(dir, "run");
    await Bun.$`mkdir -p ${runtime} && chmod 700 ${runtime}`.quiet();
    const unit = join(dir, "fetchit.service");
    writeFileSync(unit, readFileSync(join(ROOT, source), "utf8").replaceAll("/usr/bin/fetchit ", `${binaryPath(RPM_ARCHES.x86_64)} `));
    const r = await run(["systemd-analyze", ...(user ? ["--user"] : []), "verify", unit], { env: { XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: "0" } });
    expect(r.code).toBe(0);
    return (r.stdout + r.stderr)
      .split("\n")
      .filter((l) => l.trim() && !tolerated.test(l));
  }

  test.skipIf(skip)("systemd-analyze verify: the system unit", async () => {
    expect(await verifyUnit("packaging/systemd/fetchit.service", false)).toEqual([]);
  });

  test.skipIf(skip)("systemd-analyze verify: the user unit", async () => {
    expect(await verifyUnit("packaging/systemd/fetchit-user.service", true)).toEqual([]);
  });

  const keys = (source: string) => {
    const m = new Map<string, string[]>();
    for (const line of readFileSync(join(ROOT, source), "utf8").split("\n")) {
      const kv = line.match(/^([A-Za-z]+)=(.*)$/);
      if (kv) m.set(kv[1]!, [...(m.get(kv[1]!) ?? []), kv[2]!]);
    }
    return (k: string) => m.get(k) ?? [];
  };

  test("system unit: root config, reload, restart with back-off, state dir, hardening", () => {
    const k = keys("packaging/systemd/fetchit.service");
    expect(k("ExecStart")).toEqual(["/usr/bin/fetchit run --config /etc/fetchit/config.yaml"]);
    expect(k("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    expect(k("Type")).toEqual(["notify"]);
    expect(k("Restart")).toEqual(["on-failure"]);
    expect(k("RestartSec")).toEqual(["10s"]);
    expect(k("StateDirectory")).toEqual(["fetchit"]);
    expect(k("Wants")[0]).toContain("podman.socket");
    expect(k("After")[0]).toContain("podman.socket");
    expect(k("WantedBy")).toEqual(["multi-user.target"]);
    for (const opt of ["NoNewPrivileges", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "RestrictRealtime", "LockPersonality"]) {
      expect(k(opt)).toEqual(["yes"]);
    }
    // fetchit writes /etc (filetransfer) and anywhere a config says.
    for (const opt of ["ProtectSystem", "ProtectHome", "PrivateTmp", "MemoryDenyWriteExecute"]) expect(k(opt)).toEqual([]);
  });

  test("user unit: the user's state dir and Podman socket, default config, default.target", () => {
    const k = keys("packaging/systemd/fetchit-user.service");
    expect(k("ExecStart")).toEqual(["/usr/bin/fetchit run --state-dir %S/fetchit --podman-socket %t/podman/podman.sock"]);
    expect(k("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    expect(k("StateDirectory")).toEqual(["fetchit"]);
    expect(k("Wants")).toEqual(["podman.socket"]);
    expect(k("After")).toEqual(["podman.socket"]);
    expect(k("Restart")).toEqual(["on-failure"]);
    expect(k("WantedBy")).toEqual(["default.target"]);
    expect(k("NoNewPrivileges")).toEqual(["yes"]);
  });
});
