/**
 * The unit pre-check with this host's real systemd-analyze, on FetchIt's own
 * example units, as on a host without man pages (MANPATH pointed at an empty
 * directory: `man` finds nothing, as on most edge and container images).
 * It rejects what systemd rejects when it loads a unit, and only that.
 */
import { beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostExec } from "../../src/host/exec.ts";
import { isHostDependent, verifyUnitFile } from "../../src/host/systemd-verify.ts";
import { run } from "../support/exec.ts";
import { upstreamFile, upstreamTree } from "../support/fetchit-upstream.ts";
import { tempDir } from "../support/git.ts";

const dir = tempDir("fetchit-verify-");
const NO_MAN = { MANPATH: join(dir, "no-man-pages") };
/** Each unit is verified alone in its own directory, as the systemd method stages it. */
function stage(name: string, text: string): string {
  const d = join(dir, `${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, name), text);
  return join(d, name);
}
const verify = (path: string) => verifyUnitFile(hostExec, false, path, { env: NO_MAN });

beforeAll(() => {
  mkdirSync(NO_MAN.MANPATH, { recursive: true });
  if (!Bun.which("systemd-analyze")) throw new Error("systemd-analyze is missing (apt-get install systemd)");
});

test("FetchIt's example units pass; plain `systemd-analyze verify` fails httpd.service here for its man page", async () => {
  const units = (await upstreamTree("examples/systemd")).filter((p) => /\.(service|timer)$/.test(p));
  expect(units.map((p) => p.split("/").pop())).toEqual(["httpd.service", "podman-auto-update.service", "podman-auto-update.timer"]);
  for (const p of units) {
    const path = stage(p.split("/").pop()!, await upstreamFile(p));
    expect({ unit: p, result: await verify(path) }).toMatchObject({ unit: p, result: { ok: true } });
  }
  const httpd = stage("httpd.service", await upstreamFile("examples/systemd/httpd.service"));
  const plain = await run(["systemd-analyze", "verify", "--", httpd], { env: NO_MAN });
  expect(plain.code).not.toBe(0);
  expect(plain.stderr).toContain("Command 'man podman-generate-systemd(1)' failed");
});

test("a program not installed (yet) is not counted; it is reported as ignored", async () => {
  const path = stage("later.service", "[Unit]\nDocumentation=man:later(8)\n[Service]\nExecStart=/opt/not-installed-yet/bin/later --serve\nStandardOutput=syslog\n");
  const r = await verify(path);
  expect(r?.ok).toBe(true);
  expect(r?.ignored).toEqual(["later.service: Command /opt/not-installed-yet/bin/later is not executable: No such file or directory"]);
});

test("a socket whose service comes later is not counted", async () => {
  expect((await verify(stage("later.socket", "[Socket]\nListenStream=127.0.0.1:1\n")))?.ok).toBe(true);
});

test("what systemd refuses at load time is still rejected, also next to a missing program", async () => {
  const noExec = await verify(stage("bad.service", "[Service]\nExecStrat=/bin/true\n"));
  expect(noExec).toMatchObject({ ok: false });
  expect(noExec!.output).toContain("Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.");
  const both = await verify(stage("both.service", "[Service]\nType=oneshot\nExecStart=/opt/not-there/x\nRestart=always\n"));
  expect(both).toMatchObject({ ok: false });
  expect(both!.output).toContain("Restart=");
});

test("host-dependent lines are recognised, load errors are not (pure)", () => {
  expect(isHostDependent("x.service: Command /usr/bin/podman is not executable: No such file or directory")).toBe(true);
  expect(isHostDependent("x.service: Command 'man podman-generate-systemd(1)' failed with code 16")).toBe(true);
  expect(isHostDependent("y.socket: service y.service not loaded, socket cannot be started.")).toBe(true);
  expect(isHostDependent("Unit z.service has a bad unit file setting.")).toBe(false);
  expect(isHostDependent("z.service: Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.")).toBe(false);
});
