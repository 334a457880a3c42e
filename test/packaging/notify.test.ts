/**
 * fetchit under a real systemd 252 (test/support/systemd.ts) as the shipped
 * Type=notify unit with a short WatchdogSec= (drop-in): the pings keep it
 * alive past the watchdog interval, `systemctl show` carries fetchit's
 * STATUS= line, the journal holds lines without timestamps whose priorities
 * come from the `<N>` prefixes (`journalctl -p err` shows the error lines and
 * no info ones), and a frozen process (SIGSTOP) is killed by the watchdog.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { DIST_INSIDE, repoInside, ROOT, startSystemdTestbed, type SystemdTestbed, withTestbed } from "../support/systemd.ts";

const UNIT = "/usr/lib/systemd/system/fetchit.service";

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

let tb: SystemdTestbed;
withTestbed(startSystemdTestbed, async (t) => {
  tb = t;
  await tb.execOk(["install", "-m", "755", `${DIST_INSIDE}/fetchit-linux-x64`, "/usr/bin/fetchit"]);
  await tb.copyIn(join(ROOT, "packaging/systemd/fetchit.service"), UNIT);
  await tb.writeFile("/etc/systemd/system/fetchit.service.d/50-test.conf", "[Service]\nWatchdogSec=2s\n");
  const url = await repoInside(tb, "/srv/repo", { "files/hello.txt": "hello\n" });
  const method = (name: string, dest: string) =>
    `      - name: ${name}\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n`;
  await tb.writeFile(
    "/etc/fetchit/config.yaml",
    `targetConfigs:\n  - name: t\n    url: ${url}\n    branch: main\n    filetransfer:\n${method("good", "/srv/out")}${method("broken", "/proc/fetchit-cannot-write")}`,
    { mode: "600" },
  );
  expect((await tb.systemctl(["daemon-reload"])).code).toBe(0);
  const started = await tb.systemctl(["start", "fetchit.service"]);
  expect(started.stderr).toBe("");
  expect(started.code).toBe(0);
});

test("WatchdogSec=2s: the pings keep fetchit running well past it; systemd records them", async () => {
  expect(await tb.show("fetchit", "WatchdogUSec")).toBe("2s");
  const first = Number(await tb.show("fetchit", "WatchdogTimestampMonotonic"));
  await Bun.sleep(5_000);
  expect(await tb.show("fetchit", "ActiveState")).toBe("active");
  expect(await tb.show("fetchit", "NRestarts")).toBe("0");
  expect(Number(await tb.show("fetchit", "WatchdogTimestampMonotonic"))).toBeGreaterThan(first);
});

test("STATUS=: systemctl shows one line with the ok and failing methods", async () => {
  const text = await until("StatusText", async () => {
    const t = await tb.show("fetchit", "StatusText");
    return /^2 method\(s\): 1 ok, 1 failing \(t\/filetransfer\/broken: .+\), last tick \d\d:\d\d:\d\d UTC$/.test(t) && t;
  });
  expect((await tb.systemctl(["status", "fetchit"])).stdout).toContain(`Status: "${text.slice(0, 30)}`);
});

test("journald: no timestamps in the text, priorities from the prefixes: -p err has the errors and no info lines", async () => {
  const all = await tb.journal("fetchit.service");
  expect(all).toContain("\nconfig loaded config=/etc/fetchit/config.yaml\n");
  expect(all).not.toMatch(/^\d{4}-\d\d-\d\dT/m);
  expect(all).not.toMatch(/^<\d>/m);
  const errors = await tb.execOk(["journalctl", "-u", "fetchit.service", "-p", "err", "--no-pager", "-o", "cat"]);
  expect(errors).toContain("failed target=t method=filetransfer/broken");
  expect(errors).not.toContain("config loaded");
  expect(errors).not.toContain("fetchit started");
  const warnings = await tb.execOk(["journalctl", "-u", "fetchit.service", "-p", "warning..warning", "--no-pager", "-o", "cat"]);
  expect(warnings).not.toContain("config loaded");
  const info = await tb.execOk(["journalctl", "-u", "fetchit.service", "-p", "info..info", "--no-pager", "-o", "cat"]);
  expect(info).toContain("config loaded");
});

test("a frozen fetchit (SIGSTOP) stops answering: systemd's watchdog kills it (Result=watchdog) and restarts it", async () => {
  const pid = await tb.show("fetchit", "MainPID");
  await tb.execOk(["kill", "-STOP", pid]);
  await until("Result=watchdog", async () => (await tb.show("fetchit", "Result")) === "watchdog", 15_000);
  expect(await tb.journal("fetchit.service")).toContain("Watchdog timeout");
  await until("restarted", async () => (await tb.show("fetchit", "ActiveState")) === "active" && (await tb.show("fetchit", "MainPID")) !== pid, 30_000);
  expect(await tb.show("fetchit", "NRestarts")).toBe("1");
}, 60_000);
