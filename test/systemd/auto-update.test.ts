/**
 * podmanAutoUpdate in a real systemd 252: the compiled binary's `fetchit sync`
 * enables and starts podman-auto-update.timer for root and for tester's user
 * manager, writes the OnCalendar= drop-in for `schedule`, and a second sync
 * changes nothing. The testbed has no Podman, so stand-in units named like
 * Podman's (same names, same locations /usr/lib/systemd/{system,user}, a
 * oneshot that only echoes) are installed first; without them the error must
 * say the timer is missing.
 */
import { describe, expect, test } from "bun:test";
import { startSystemdTestbed, type SystemdTestbed, TESTER, withTestbed } from "../support/systemd.ts";
import { FETCHIT_INSIDE } from "./kit.ts";

const T = 120_000;
const TIMER = "[Unit]\nDescription=stand-in for Podman's auto-update timer\n[Timer]\nOnCalendar=daily\nPersistent=true\n[Install]\nWantedBy=timers.target\n";
const SERVICE = "[Unit]\nDescription=stand-in for podman auto-update\n[Service]\nType=oneshot\nExecStart=/bin/echo podman auto-update\n";
const DROP_IN = "podman-auto-update.timer.d/fetchit-schedule.conf";

let tb: SystemdTestbed;
withTestbed(startSystemdTestbed, (t) => void (tb = t));

async function syncAs(who: "root" | "tester", config: string) {
  const home = who === "root" ? "/root" : TESTER.home;
  await tb.writeFile(`${home}/au.yaml`, config, { owner: `${who}:${who}` });
  const r = await tb.exec([FETCHIT_INSIDE, "sync", "--config", `${home}/au.yaml`, "--state-dir", `${home}/au-state`], { user: who });
  return { code: r.code, out: `${r.stdout}\n${r.stderr}` };
}

const state = async (user: boolean) => ({
  enabled: (await tb.systemctl(["is-enabled", "podman-auto-update.timer"], { user })).stdout.trim(),
  active: (await tb.systemctl(["is-active", "podman-auto-update.timer"], { user })).stdout.trim(),
  calendar: await tb.show("podman-auto-update.timer", "TimersCalendar", { user }),
});

describe("podmanAutoUpdate", () => {
  test("without the timer installed: a clear error naming the key", async () => {
    const r = await syncAs("root", "podmanAutoUpdate:\n  root: true\n");
    expect(r.code).toBe(1);
    expect(r.out).toContain("podmanAutoUpdate.root: podman-auto-update.timer is not installed for the system manager; install Podman");
  }, T);

  test("root: enabled and started with the schedule drop-in; a second sync changes nothing", async () => {
    await tb.writeFile("/usr/lib/systemd/system/podman-auto-update.timer", TIMER);
    await tb.writeFile("/usr/lib/systemd/system/podman-auto-update.service", SERVICE);
    await tb.execOk(["systemctl", "daemon-reload"]);
    const r = await syncAs("root", 'podmanAutoUpdate:\n  root: true\n  schedule: "Sun *-*-* 03:00"\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain("podman-auto-update.timer enabled and started, schedule Sun *-*-* 03:00");
    const s = await state(false);
    expect(s).toMatchObject({ enabled: "enabled", active: "active" });
    expect(s.calendar).toContain("OnCalendar=Sun *-*-* 03:00:00");
    expect(s.calendar).not.toContain("daily");
    expect(await tb.execOk(["cat", `/etc/systemd/system/${DROP_IN}`])).toContain("OnCalendar=Sun *-*-* 03:00\n");

    const again = await syncAs("root", 'podmanAutoUpdate:\n  root: true\n  schedule: "Sun *-*-* 03:00"\n');
    expect(again.code).toBe(0);
    expect(again.out).toContain("unchanged");
    expect(again.out).not.toContain("enabled and started");
  }, T);

  test("root: a new schedule rewrites the drop-in; dropping the key removes it; an invalid one is refused", async () => {
    const bad = await syncAs("root", 'podmanAutoUpdate:\n  root: true\n  schedule: "every full moon"\n');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('podmanAutoUpdate.schedule: \\"every full moon\\" is not a systemd OnCalendar= expression');
    expect((await state(false)).calendar).toContain("Sun *-*-* 03:00:00"); // the old drop-in stays

    const r = await syncAs("root", "podmanAutoUpdate:\n  root: true\n");
    expect(r.code).toBe(0);
    expect(r.out).toContain("schedule drop-in removed");
    expect((await tb.exec(["test", "-e", `/etc/systemd/system/${DROP_IN}`])).code).not.toBe(0);
    const s = await state(false);
    expect(s).toMatchObject({ enabled: "enabled", active: "active" });
    expect(s.calendar).toContain("OnCalendar=*-*-* 00:00:00"); // daily, the vendor schedule
  }, T);

  test("user: the timer of tester's user manager, enabled once", async () => {
    const missing = await syncAs("tester", "podmanAutoUpdate:\n  user: true\n");
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("podmanAutoUpdate.user: podman-auto-update.timer is not installed for this user's manager");
    await tb.writeFile("/usr/lib/systemd/user/podman-auto-update.timer", TIMER);
    await tb.writeFile("/usr/lib/systemd/user/podman-auto-update.service", SERVICE);
    await tb.execOk(["systemctl", "--user", "daemon-reload"], { user: "tester" });
    const r = await syncAs("tester", 'podmanAutoUpdate:\n  user: true\n  schedule: "*-*-* 04:30"\n');
    expect(r.code).toBe(0);
    const s = await state(true);
    expect(s).toMatchObject({ enabled: "enabled", active: "active" });
    expect(s.calendar).toContain("*-*-* 04:30:00");
    expect(await tb.execOk(["test", "-f", `${TESTER.home}/.config/systemd/user/${DROP_IN}`])).toBe("");
    const again = await syncAs("tester", 'podmanAutoUpdate:\n  user: true\n  schedule: "*-*-* 04:30"\n');
    expect(again.code).toBe(0);
    expect(again.out).not.toContain("enabled and started");
  }, T);
});
