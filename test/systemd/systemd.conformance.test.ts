/**
 * The method conformance suite (test/methods/conformance.ts) for systemd: the
 * engine runs in-process here, writing units into a host directory that is
 * bind-mounted into a systemd testbed at /usr/local/lib/systemd/system (in
 * systemd's search path), and runs systemctl, journalctl and
 * systemd-analyze inside the testbed (podman exec). Lives under test/systemd
 * (not test/methods) because it does not depend on the Podman version.
 *
 * A resource's identity is the unit file's hash plus whether it is active and
 * enabled; MainPID is left out on purpose: after a crash between a restart and
 * the state save, fetchit restarts a changed unit again (at least once), which
 * the "restart in the middle" case would see. MainPID changes are checked by
 * systemd-method.test.ts.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Exec } from "../../src/host/exec.ts";
import { sha256 } from "../../src/host/fs.ts";
import { tempDir } from "../support/git.ts";
import { startSystemdTestbed, type SystemdTestbed } from "../support/systemd.ts";
import { describeConformance } from "../methods/conformance.ts";
import { sleeper } from "./kit.ts";

const INSIDE = "/usr/local/lib/systemd/system";
const unitDir = tempDir("fetchit-sd-units-");
let tb: SystemdTestbed;

const units = () => readdirSync(unitDir).filter((f) => f.endsWith(".service"));

/** systemctl and friends inside the testbed; a file systemd-analyze verifies is copied in first. */
const exec: Exec = async (cmd, args) => {
  if (cmd === "systemd-analyze" && args.includes("verify")) {
    const path = args.at(-1)!;
    await tb.writeFile(path, readFileSync(path, "utf8"));
  }
  const r = await tb.exec([cmd, ...args]);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
};

describeConformance({
  kind: "systemd",
  extraYaml: () => `        root: true\n        enable: true\n        restart: true\n        unitDirectory: ${unitDir}\n`,
  file: (id, v) => [`${id}.service`, sleeper(`${id} version ${v}`)],
  badFile: () => ["bad name.service", sleeper("bad"), "has characters systemd does not allow in unit names"],
  exec,
  async setup() {
    tb = await startSystemdTestbed(["-v", `${unitDir}:${INSIDE}`]);
  },
  async teardown() {
    await tb?.stop();
  },
  async reset() {
    const names = units();
    if (names.length) await tb.exec(["systemctl", "disable", "--now", "--", ...names]);
    for (const f of readdirSync(unitDir)) rmSync(join(unitDir, f), { recursive: true, force: true });
    await tb.execOk(["systemctl", "daemon-reload"]);
    await tb.exec(["systemctl", "reset-failed"]);
  },
  async observe() {
    const seen: Record<string, string> = {};
    const names = units();
    if (!names.length) return seen;
    // One call each for all units: every podman exec costs a few hundred ms.
    const active = (await tb.systemctl(["is-active", "--", ...names])).stdout.split("\n");
    const enabled = (await tb.systemctl(["is-enabled", "--", ...names])).stdout.split("\n");
    names.forEach((f, i) => {
      seen[f.replace(/^renamed-/, "").replace(/\.service$/, "")] = `${sha256(readFileSync(join(unitDir, f)))} ${active[i]} ${enabled[i]}`;
    });
    return seen;
  },
});
