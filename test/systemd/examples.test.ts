/**
 * examples/systemd-config.yaml with the units of examples/repo/systemd,
 * applied by the compiled binary in a real systemd (the examples test under
 * test/integration cannot: this machine's PID 1 is not systemd). The
 * podman-auto-update units are stand-ins (no Podman in the testbed).
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoInside, ROOT, startSystemdTestbed, type SystemdTestbed, withTestbed } from "../support/systemd.ts";
import { FETCHIT_INSIDE } from "./kit.ts";

let tb: SystemdTestbed;
withTestbed(startSystemdTestbed, (t) => void (tb = t));

function tree(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) Object.assign(out, tree(join(dir, e.name), `${prefix}${e.name}/`));
    else out[`${prefix}${e.name}`] = readFileSync(join(dir, e.name), "utf8");
  }
  return out;
}

test("the systemd example: units active, drop-in applied, timer enabled, auto-update scheduled", async () => {
  const files = Object.fromEntries(Object.entries(tree(join(ROOT, "examples/repo/systemd"))).map(([k, v]) => [`systemd/${k}`, v]));
  const url = await repoInside(tb, "/srv/example-repo", files);
  const config = readFileSync(join(ROOT, "examples/systemd-config.yaml"), "utf8").replace(/url: .*/, `url: ${url}`);
  await tb.writeFile("/etc/fetchit/config.yaml", config);
  await tb.writeFile("/usr/lib/systemd/system/podman-auto-update.timer", "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n");
  await tb.writeFile("/usr/lib/systemd/system/podman-auto-update.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
  await tb.execOk(["systemctl", "daemon-reload"]);

  const r = await tb.exec([FETCHIT_INSIDE, "sync"]);
  expect({ code: r.code, err: r.code ? r.stderr : "" }).toEqual({ code: 0, err: "" });
  expect((await tb.systemctl(["is-active", "edge-heartbeat.service", "edge-report.timer", "podman-auto-update.timer"])).stdout).toBe("active\nactive\nactive\n");
  expect((await tb.systemctl(["is-enabled", "edge-heartbeat.service", "edge-report.timer"])).stdout).toBe("enabled\nenabled\n");
  expect(await tb.show("edge-heartbeat.service", "Environment")).toBe("INTERVAL=30");
  expect(await tb.show("podman-auto-update.timer", "TimersCalendar")).toContain("OnCalendar=Sun *-*-* 03:00:00");
  expect(await tb.journal("edge-heartbeat.service")).toContain("heartbeat every 30 s");
}, 120_000);
