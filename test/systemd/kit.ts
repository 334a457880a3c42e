/**
 * Helpers for the systemd-method tests: the compiled fetchit binary run inside
 * the systemd testbed (test/support/systemd.ts) as root or as `tester`,
 * against a git repository inside the testbed that the tests commit to.
 */
import { expect } from "bun:test";
import type { RunResult } from "../support/exec.ts";
import { DIST_INSIDE, repoInside, TESTER, type SystemdTestbed } from "../support/systemd.ts";

export type Who = "root" | "tester";

export const FETCHIT_INSIDE = `${DIST_INSIDE}/fetchit-linux-x64`;

export interface Scenario {
  tb: SystemdTestbed;
  who: Who;
  user: boolean;
  /** Repository directory inside the testbed. */
  repo: string;
  /** Where the units go: /etc/systemd/system or ~tester/.config/systemd/user. */
  unitDir: string;
  configPath: string;
  stateDir: string;
}

/** A repository (with `files`) and a config whose one systemd entry reads `units/` of it. */
export async function scenario(tb: SystemdTestbed, who: Who, name: string, files: Record<string, string>, entry: string): Promise<Scenario> {
  const user = who === "tester";
  const base = user ? `${TESTER.home}/${name}` : `/srv/${name}`;
  const repo = `${base}/repo`;
  await tb.execOk(["install", "-d", "-o", who, base]);
  const url = await repoInside(tb, repo, files, who);
  const configPath = `${base}/config.yaml`;
  const config = `targetConfigs:\n- name: t\n  url: ${url}\n  branch: main\n  systemd:\n  - name: units\n    targetPath: units\n    schedule: "@hourly"\n    root: ${!user}\n${entry
    .split("\n")
    .filter(Boolean)
    .map((l) => `    ${l}\n`)
    .join("")}`;
  await tb.writeFile(configPath, config, { owner: `${who}:${who}` });
  const unitDir = user ? `${TESTER.home}/.config/systemd/user` : "/etc/systemd/system";
  return { tb, who, user, repo, unitDir, configPath, stateDir: `${base}/state` };
}

/** Writes (string) or deletes (null) files in the repository and commits. */
export async function commit(s: Scenario, files: Record<string, string | null>, message = "change"): Promise<void> {
  const owner = `${s.who}:${s.who}`;
  for (const [file, text] of Object.entries(files)) {
    if (text === null) await s.tb.execOk(["rm", "-f", `${s.repo}/${file}`]);
    else await s.tb.writeFile(`${s.repo}/${file}`, text, { owner });
  }
  const git = `git add -A && git -c user.name=t -c user.email=t@t.invalid commit -q -m "${message}"`;
  await s.tb.execOk(["sh", "-c", `cd "$1" && ${git}`, "sh", s.repo], { user: s.who });
}

/** `fetchit sync` of the scenario's config, run by its user inside the testbed. */
export async function sync(s: Scenario): Promise<RunResult> {
  return await s.tb.exec([FETCHIT_INSIDE, "sync", "--config", s.configPath, "--state-dir", s.stateDir], { user: s.who });
}

/** sync that must succeed; returns its combined output. */
export async function syncOk(s: Scenario): Promise<string> {
  const r = await sync(s);
  if (r.code !== 0) throw new Error(`fetchit sync exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}\n${r.stderr}`;
}

export const systemctl = (s: Scenario, args: string[]) => s.tb.systemctl(args, { user: s.user });
export const show = (s: Scenario, unit: string, prop: string) => s.tb.show(unit, prop, { user: s.user });

export async function expectActive(s: Scenario, unit: string): Promise<number> {
  expect((await systemctl(s, ["is-active", unit])).stdout.trim()).toBe("active");
  const pid = Number(await show(s, unit, "MainPID"));
  return pid;
}

/** Symlinks under the unit directory (e.g. in *.wants/) that point at `unit` or at nothing. */
export async function linksTo(s: Scenario, unit: string): Promise<string[]> {
  const out = await s.tb.execOk(["sh", "-c", 'find "$1" \\( -lname "*/$2" -o -xtype l \\) -print', "sh", s.unitDir, unit]);
  return out.split("\n").filter(Boolean);
}

export const exists = async (s: Scenario, path: string) => (await s.tb.exec(["test", "-e", path])).code === 0;

/** How many daemon-reloads the scenario's manager logged so far ("Reloading." from PID 1 or tester's user manager). */
export async function reloadCount(s: Scenario): Promise<number> {
  const pid = s.user ? await s.tb.show("user@1000.service", "MainPID") : "1";
  const out = await s.tb.execOk(["journalctl", `_PID=${pid}`, "-o", "cat", "--no-pager"]);
  return out.split("\n").filter((l) => l === "Reloading.").length;
}

/** A long-running service unit that is enabled into default.target. */
export const sleeper = (desc: string, seconds = 1000) =>
  `[Unit]\nDescription=${desc}\n[Service]\nExecStart=/bin/sleep ${seconds}\n[Install]\nWantedBy=default.target\n`;
