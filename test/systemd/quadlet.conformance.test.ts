/**
 * The method conformance suite (test/methods/conformance.ts) for quadlet: the
 * engine runs in-process here and writes into a host directory that is
 * bind-mounted into a quadlet testbed (systemd 257, Podman 5.4) at
 * /etc/containers/systemd, where the generator reads it, and at its own path,
 * where the generator's dry run finds it. podman, the generator and systemctl
 * run inside the testbed (podman exec); the dry run's staging directory is
 * copied in first. Lives under test/systemd: it does not depend on the host's
 * Podman version.
 *
 * A resource's identity is the quadlet file's hash plus its generated
 * service's state (active or not); MainPID and container ids are checked by
 * quadlet.test.ts.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Exec } from "../../src/host/exec.ts";
import { sha256 } from "../../src/host/fs.ts";
import { serviceOf } from "../../src/methods/quadlet-units.ts";
import { tempDir } from "../support/git.ts";
import { QUADLET_IMAGE, QUADLET_TESTBED_SCRIPT } from "../support/quadlet.ts";
import { startSystemdTestbed, type SystemdTestbed } from "../support/systemd.ts";
import { describeConformance } from "../methods/conformance.ts";

const unitDir = tempDir("fetchit-quadlets-");
let tb: SystemdTestbed;

const files = () => readdirSync(unitDir).filter((f) => f.endsWith(".container"));
const services = () => files().map((f) => serviceOf(f, readFileSync(join(unitDir, f), "utf8"))!);

/** Everything runs inside the testbed; the generator's staging directory (first of QUADLET_UNIT_DIRS) is copied in. */
const exec: Exec = async (cmd, args, opts = {}) => {
  const staging = opts.env?.QUADLET_UNIT_DIRS?.split(":")[0];
  if (staging && staging !== unitDir) {
    await tb.execOk(["rm", "-rf", staging]);
    await tb.copyIn(staging, staging);
  }
  const env = Object.fromEntries(Object.entries(opts.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  const r = await tb.exec([cmd, ...args], { env, input: opts.input });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
};

describeConformance({
  kind: "quadlet",
  extraYaml: () => `        root: true\n        unitDirectory: ${unitDir}\n`,
  file: (id, v) => [`${id}.container`, `[Container]\nImage=${QUADLET_IMAGE}\nExec=sleep 1000\nEnvironment=VERSION=${v}\nRunInit=true\n[Service]\nSuccessExitStatus=143\n`],
  badFile: () => ["bad.container", "[Container]\nFoo=bar\n", "unsupported key 'Foo' in group 'Container'"],
  exec,
  async setup() {
    tb = await startSystemdTestbed(["-v", `${unitDir}:/etc/containers/systemd`, "-v", `${unitDir}:${unitDir}`], QUADLET_TESTBED_SCRIPT);
  },
  async teardown() {
    await tb?.stop();
  },
  async reset() {
    const names = services();
    if (names.length) await tb.exec(["systemctl", "stop", "--", ...names]);
    for (const f of readdirSync(unitDir)) rmSync(join(unitDir, f), { recursive: true, force: true });
    await tb.execOk(["systemctl", "daemon-reload"]);
    await tb.exec(["systemctl", "reset-failed"]);
    await tb.exec(["podman", "rm", "-af", "-t", "0"]);
  },
  async observe() {
    const seen: Record<string, string> = {};
    const names = files();
    if (!names.length) return seen;
    const active = (await tb.systemctl(["is-active", "--", ...services()])).stdout.split("\n");
    names.forEach((f, i) => {
      seen[f.replace(/^renamed-/, "").replace(/\.container$/, "")] = `${sha256(readFileSync(join(unitDir, f)))} ${active[i]}`;
    });
    return seen;
  },
});
