/**
 * The systemd method, proven in a real systemd 252 (test/support/systemd.ts):
 * the compiled binary runs `fetchit sync` inside the testbed, as root for
 * /etc/systemd/system and as `tester` for ~/.config/systemd/user with
 * `systemctl --user`, against a file:// repository inside. Each step commits,
 * syncs and checks systemd itself: active, enabled, MainPID changes on
 * restart, no stale *.wants symlink after a delete, journal lines of a unit
 * that fails, one daemon-reload per apply.
 */
import { describe, expect, test } from "bun:test";
import { startSystemdTestbed, type SystemdTestbed, withTestbed } from "../support/systemd.ts";
import { commit, exists, expectActive, linksTo, reloadCount, scenario, show, sleeper, sync, syncOk, systemctl, type Scenario, type Who } from "./kit.ts";

const T = 120_000;
let tb: SystemdTestbed;

withTestbed(startSystemdTestbed, (t) => void (tb = t));

const DROP_IN = (v: string) => `[Service]\nEnvironment=FETCHIT_TEST=${v}\n`;

function lifecycle(who: Who) {
  describe(`systemd method as ${who}`, () => {
    let s: Scenario;
    const unitPath = (u: string) => `${s.unitDir}/${u}`;

    test("placed, enabled and active; drop-in applied; a README is ignored", async () => {
      s = await scenario(tb, who, "life", {
        "units/hello.service": sleeper("hello"),
        "units/hello.service.d/10-env.conf": DROP_IN("one"),
        "units/tick.timer": "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n",
        "units/tick.service": "[Service]\nType=oneshot\nExecStart=/bin/true\n",
        "units/README.md": "not a unit\n",
      }, "enable: true\nrestart: true");
      const before = await reloadCount(s);
      const out = await syncOk(s);
      expect(out).toContain("applied");
      expect(await reloadCount(s)).toBe(before + 1); // one daemon-reload for 4 files
      await expectActive(s, "hello.service");
      expect((await systemctl(s, ["is-enabled", "hello.service"])).stdout.trim()).toBe("enabled");
      expect(await linksTo(s, "hello.service")).toEqual([`${s.unitDir}/default.target.wants/hello.service`]);
      expect(await show(s, "hello.service", "Environment")).toBe("FETCHIT_TEST=one");
      expect((await systemctl(s, ["is-active", "tick.timer"])).stdout.trim()).toBe("active");
      expect(await show(s, "tick.service", "ExecMainStartTimestamp")).toBe(""); // left to its timer, not run at deploy
      expect(await exists(s, unitPath("README.md"))).toBe(false);
      expect(await tb.execOk(["stat", "-c", "%U %a", unitPath("hello.service")])).toBe(`${who} 644\n`);
    }, T);

    test("a second sync with nothing new changes nothing (same MainPID, no reload)", async () => {
      const pid = await expectActive(s, "hello.service");
      const before = await reloadCount(s);
      await syncOk(s);
      expect(await reloadCount(s)).toBe(before);
      expect(Number(await show(s, "hello.service", "MainPID"))).toBe(pid);
    }, T);

    test("a modified unit is restarted: new MainPID, one reload", async () => {
      const pid = await expectActive(s, "hello.service");
      const before = await reloadCount(s);
      await commit(s, { "units/hello.service": sleeper("hello, modified", 2000) });
      await syncOk(s);
      expect(await reloadCount(s)).toBe(before + 1);
      const pid2 = await expectActive(s, "hello.service");
      expect(pid2).not.toBe(pid);
      expect(await show(s, "hello.service", "Description")).toBe("hello, modified");
    }, T);

    test("a changed drop-in restarts its unit with the new setting", async () => {
      const pid = await expectActive(s, "hello.service");
      await commit(s, { "units/hello.service.d/10-env.conf": DROP_IN("two") });
      await syncOk(s);
      expect(await expectActive(s, "hello.service")).not.toBe(pid);
      expect(await show(s, "hello.service", "Environment")).toBe("FETCHIT_TEST=two");
    }, T);

    test("rename: the old unit is stopped and disabled, the new one enabled and active", async () => {
      await commit(s, { "units/hello.service": null, "units/hello.service.d/10-env.conf": null, "units/hi.service": sleeper("hi") });
      await syncOk(s);
      await expectActive(s, "hi.service");
      expect((await systemctl(s, ["is-enabled", "hi.service"])).stdout.trim()).toBe("enabled");
      expect((await systemctl(s, ["is-active", "hello.service"])).stdout.trim()).not.toBe("active");
      expect(await exists(s, unitPath("hello.service"))).toBe(false);
      expect(await exists(s, unitPath("hello.service.d"))).toBe(false);
      expect(await linksTo(s, "hello.service")).toEqual([]);
    }, T);

    test("delete: disabled, stopped, file removed, no stale symlink in *.wants", async () => {
      const before = await reloadCount(s);
      await commit(s, { "units/hi.service": null, "units/tick.timer": null, "units/tick.service": null });
      await syncOk(s);
      expect(await reloadCount(s)).toBe(before + 1);
      for (const u of ["hi.service", "tick.timer"]) {
        expect((await systemctl(s, ["is-active", u])).stdout.trim()).toBe("inactive");
        expect(await exists(s, unitPath(u))).toBe(false);
        expect(await linksTo(s, u)).toEqual([]);
      }
      expect((await systemctl(s, ["list-unit-files", "hi.service", "--no-legend"])).stdout.trim()).toBe("");
    }, T);

    test("a unit that fails to start fails its file, with its journal lines; the other file still applies", async () => {
      await commit(s, {
        "units/crash.service": '[Service]\nExecStart=/bin/sh -c "echo crash-marker-42; exit 3"\n[Install]\nWantedBy=default.target\n',
        "units/fine.service": sleeper("fine"),
      });
      const r = await sync(s);
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code).toBe(1);
      expect(out).toContain("units/crash.service");
      expect(out).toContain("unit crash.service failed to start: failed (result: exit-code)");
      expect(out).toContain("crash-marker-42");
      await expectActive(s, "fine.service");
      expect((await systemctl(s, ["is-failed", "crash.service"])).stdout.trim()).toBe("failed");
      // Fixed by a new commit: restarted and fine.
      await commit(s, { "units/crash.service": sleeper("crash, fixed") });
      await syncOk(s);
      await expectActive(s, "crash.service");
    }, T);

    test("a bad unit name and a unit systemd-analyze rejects are reported and not installed; a stray .conf is skipped", async () => {
      await commit(s, {
        "units/my unit.service": sleeper("space"),
        "units/noexec.service": "[Unit]\nDescription=no ExecStart\n[Service]\nType=simple\n",
        "units/stray.conf": "[Service]\n",
        "units/ok.service": sleeper("ok"),
        "units/sub/ok.service": sleeper("ok"),
      });
      const r = await sync(s);
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code).toBe(1);
      expect(out).toContain('file="units/my unit.service"');
      expect(out).toContain("my unit.service\\\" has characters systemd does not allow in unit names");
      expect(out).toContain("units/noexec.service: systemd-analyze verify rejected unit noexec.service, so it was not installed");
      expect(out).toContain("Service has no ExecStart=");
      // neither unit nor drop-in: skipped with one warning, not a failure of the commit
      expect(out.split("\n").filter((l) => l.includes("units/stray.conf"))).toHaveLength(1);
      expect(out).toContain("skipped files that are neither unit files nor drop-ins");
      expect(out).toContain("(unit files are placed by their basename); rename one of them");
      expect(await exists(s, unitPath("my unit.service"))).toBe(false);
      expect(await exists(s, unitPath("noexec.service"))).toBe(false);
      expect(await exists(s, unitPath("stray.conf"))).toBe(false);
      await expectActive(s, "ok.service");
      await commit(s, { "units/my unit.service": null, "units/noexec.service": null, "units/stray.conf": null, "units/ok.service": null, "units/sub/ok.service": null, "units/fine.service": null, "units/crash.service": null });
      await syncOk(s);
      expect(await linksTo(s, "ok.service")).toEqual([]);
    }, T);
  });
}

lifecycle("root");
lifecycle("tester");

describe("systemd method settings", () => {
  test("enable: false only places the files (and reloads); nothing starts", async () => {
    const s = await scenario(tb, "root", "place-only", { "units/idle.service": sleeper("idle") }, "enable: false");
    await syncOk(s);
    expect(await exists(s, `${s.unitDir}/idle.service`)).toBe(true);
    expect((await systemctl(s, ["is-active", "idle.service"])).stdout.trim()).toBe("inactive");
    expect((await systemctl(s, ["is-enabled", "idle.service"])).stdout.trim()).toBe("disabled");
    expect(await show(s, "idle.service", "NeedDaemonReload")).toBe("no");
  }, T);

  test("unitDirectory puts the units elsewhere in the search path (/run/systemd/system); changing it moves them", async () => {
    const s = await scenario(tb, "root", "unitdir", { "units/rt.service": sleeper("runtime dir") }, "enable: true");
    await syncOk(s);
    expect(await show(s, "rt.service", "FragmentPath")).toBe("/etc/systemd/system/rt.service");
    const config = await tb.execOk(["cat", s.configPath]);
    await tb.writeFile(s.configPath, config.replace("enable: true", "enable: true\n    unitDirectory: /run/systemd/system"));
    await syncOk(s);
    expect(await linksTo(s, "rt.service")).toEqual(["/etc/systemd/system/default.target.wants/rt.service"]);
    expect(await tb.execOk(["readlink", "/etc/systemd/system/default.target.wants/rt.service"])).toBe("/run/systemd/system/rt.service\n");
    expect(await exists(s, "/run/systemd/system/rt.service")).toBe(true);
    expect(await exists(s, "/etc/systemd/system/rt.service")).toBe(false);
    await expectActive(s, "rt.service");
    expect(await show(s, "rt.service", "FragmentPath")).toBe("/run/systemd/system/rt.service");
  }, T);

  test("a crash after writing a changed unit, before reload and restart: the next sync reloads and restarts it", async () => {
    const s = await scenario(tb, "root", "crash", { "units/cr.service": sleeper("cr v1") }, "restart: true");
    await syncOk(s);
    const pid = await expectActive(s, "cr.service");
    await commit(s, { "units/cr.service": sleeper("cr v2") });
    await tb.writeFile(`${s.unitDir}/cr.service`, sleeper("cr v2")); // what fetchit wrote before "crashing"
    expect(await show(s, "cr.service", "NeedDaemonReload")).toBe("yes");
    await syncOk(s);
    expect(await show(s, "cr.service", "Description")).toBe("cr v2");
    expect(await expectActive(s, "cr.service")).not.toBe(pid);
  }, T);

  test("a unitDirectory systemd does not read is reported, not silently ignored", async () => {
    const s = await scenario(tb, "root", "baddir", { "units/lost.service": sleeper("lost") }, "enable: true\nunitDirectory: /srv/not-a-unit-dir");
    const r = await sync(s);
    expect(r.code).toBe(1);
    expect(`${r.stdout}\n${r.stderr}`).toContain("systemd does not see it after daemon-reload");
  }, T);
});
