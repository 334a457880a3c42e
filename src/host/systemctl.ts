/**
 * A small typed wrapper over systemctl, journalctl and systemd-analyze, run
 * directly on the host through the Exec port (no helper container). One
 * instance talks to one manager: the system manager (`scope: "system"`) or
 * the calling user's manager (`scope: "user"`, `systemctl --user`).
 *
 * Method-agnostic: the systemd method and the quadlet method both use it.
 * Stable API:
 *   createSystemctl(exec, scope)      → Systemctl
 *   defaultUnitDirectory(scope, env)  → /etc/systemd/system or ~/.config/systemd/user
 *   unitNameProblem(name)             → why a file name is not a unit name, or undefined
 *
 * Every call that changes the manager throws a SystemctlError (what was run,
 * systemctl's message, what to do); queries never throw for a unit that does
 * not exist. Unit names are passed after `--`, so they can never be options.
 */
import { FetchitError, type ErrorOptions } from "../errors.ts";
import type { Exec, ExecResult } from "./exec.ts";
import type { SystemdScope } from "./systemd-names.ts";
import { verifyUnitFile, type VerifyResult } from "./systemd-verify.ts";

export { defaultUnitDirectory, isTemplateUnit, unitNameProblem, type SystemdScope } from "./systemd-names.ts";
export type { VerifyResult } from "./systemd-verify.ts";

/** A command of this module failed. `unit` is the unit it was about, when one. */
export class SystemctlError extends FetchitError {
  constructor(
    message: string,
    readonly unit: string | undefined,
    opts: ErrorOptions = {},
  ) {
    super(message, opts);
  }
}

/** What `systemctl show` says about a unit (the properties fetchit looks at). */
export interface UnitState {
  /** loaded, not-found, bad-setting, error, masked. */
  loadState: string;
  /** active, reloading, inactive, failed, activating, deactivating. */
  activeState: string;
  /** running, exited, dead, waiting, listening, auto-restart, ... */
  subState: string;
  /** success, exit-code, signal, core-dump, timeout, start-limit-hit, resources, ... ("" for unit types without it). */
  result: string;
  /** Main PID of a service (0 when none or not a service). */
  mainPid: number;
  /** enabled, disabled, static, generated, linked, ... ("" when unknown). */
  unitFileState: string;
  /** The file the unit was loaded from ("" when none). */
  fragmentPath: string;
  /** True when the unit file (or a drop-in) changed on disk since the last daemon-reload. */
  needDaemonReload: boolean;
  /** Units that activate this one (a timer, socket or path unit), space-separated; "" when none. */
  triggeredBy: string;
}

/** A unit's state plus what the health gate compares over its window. */
export interface UnitHealthState extends UnitState {
  unit: string;
  /** Automatic restarts (Restart=) since the unit was last started by hand; 0 for non-services. */
  nRestarts: number;
  /** Service Type= (simple, exec, forking, oneshot, notify, ...); "" for other unit types. */
  type: string;
}

/** Options of enable/disable. */
export interface ChangeOptions {
  /** Also start (enable) or stop (disable). Default false. */
  now?: boolean;
  /** false: pass --no-reload (the caller runs one daemon-reload for a batch). Default true. */
  reload?: boolean;
}

export interface Systemctl {
  scope: SystemdScope;
  /** `systemctl [--user] daemon-reload`. */
  daemonReload(): Promise<void>;
  /**
   * `enable [--now] [--no-reload] UNIT...`: the [Install] symlinks (and start with `now`).
   * `reload: false` skips systemctl's implicit daemon-reload, for callers that do one themselves.
   */
  enable(units: string[], opts?: ChangeOptions): Promise<void>;
  /** `enable --now UNIT...`: enable (symlinks from [Install]) and start. */
  enableNow(units: string[]): Promise<void>;
  /** `start UNIT...` (for units that cannot be enabled: templates, generated quadlet services). */
  start(units: string[]): Promise<void>;
  /** `restart UNIT...`. */
  restart(units: string[]): Promise<void>;
  /** `stop UNIT...`. */
  stop(units: string[]): Promise<void>;
  /** `disable [--now] [--no-reload] UNIT...`: remove the [Install] symlinks (and stop with `now`). A unit that is already gone is not an error. */
  disable(units: string[], opts?: ChangeOptions): Promise<void>;
  /** `disable --now UNIT...`: stop and remove the [Install] symlinks. A unit that is already gone is not an error. */
  disableNow(units: string[]): Promise<void>;
  /** `reset-failed UNIT` (ignores errors: a unit that is not failed or not loaded is fine). */
  resetFailed(unit: string): Promise<void>;
  /** `is-active UNIT`: the state word (active, inactive, failed, activating, ...). */
  isActive(unit: string): Promise<string>;
  /** `is-failed UNIT`. */
  isFailed(unit: string): Promise<boolean>;
  /** `is-enabled UNIT`: the state word (enabled, disabled, static, ...; "not-found" when no such unit). */
  isEnabled(unit: string): Promise<string>;
  /** `show UNIT` with the properties of {@link UnitState}. */
  state(unit: string): Promise<UnitState>;
  /** One `show` for several units, with NRestarts and Type (the health gate's sample), in the order given. */
  healthStates(units: string[]): Promise<UnitHealthState[]>;
  /**
   * Waits until the unit is no longer activating/deactivating/reloading, then
   * watches it for `settleMs` more so that a process that dies right after
   * starting is seen. Returns the last state. Default settle 1500 ms, limit 30 s.
   */
  waitSettled(unit: string, opts?: { settleMs?: number; timeoutMs?: number }): Promise<UnitState>;
  /** The last `lines` journal messages of the unit (empty when the journal cannot be read). */
  journalTail(unit: string, lines?: number): Promise<string[]>;
  /** `systemd-analyze [--user] verify FILE`, host-dependent checks aside (see systemd-verify.ts); undefined when systemd-analyze is not installed. */
  verify(path: string): Promise<VerifyResult | undefined>;
  /** Why `expr` is not a valid OnCalendar= expression (`systemd-analyze calendar`), or undefined (also when systemd-analyze is missing). */
  calendarProblem(expr: string): Promise<string | undefined>;
}

/** True when a settled state means the unit failed to start (or keeps crashing). */
export function startFailed(s: UnitState): boolean {
  if (s.activeState === "failed" || s.subState === "auto-restart") return true;
  // A oneshot without RemainAfterExit ends inactive with Result=success; anything else inactive failed.
  return s.activeState === "inactive" && s.result !== "" && s.result !== "success";
}

/** A one-line summary of a state for messages: `failed (exit-code), MainPID 0`. */
export function describeState(s: UnitState): string {
  const sub = s.subState && s.subState !== s.activeState ? `/${s.subState}` : "";
  const result = s.result && s.result !== "success" ? ` (result: ${s.result})` : "";
  return `${s.activeState}${sub}${result}`;
}

const SHOW_PROPS = ["LoadState", "ActiveState", "SubState", "Result", "MainPID", "UnitFileState", "FragmentPath", "NeedDaemonReload", "TriggeredBy"];

function parseShow(stdout: string): UnitState {
  const p = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) p.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return {
    loadState: p.get("LoadState") ?? "",
    activeState: p.get("ActiveState") ?? "",
    subState: p.get("SubState") ?? "",
    result: p.get("Result") ?? "",
    mainPid: Number(p.get("MainPID") ?? 0) || 0,
    unitFileState: p.get("UnitFileState") ?? "",
    fragmentPath: p.get("FragmentPath") ?? "",
    needDaemonReload: p.get("NeedDaemonReload") === "yes",
    triggeredBy: p.get("TriggeredBy") ?? "",
  };
}

const flags = (o: ChangeOptions) => [...(o.now ? ["--now"] : []), ...(o.reload === false ? ["--no-reload"] : [])];
const firstLine = (r: ExecResult) => (r.stderr.trim() || r.stdout.trim()).split("\n").slice(0, 6).join("; ");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The wrapper for one manager. The user scope fills in XDG_RUNTIME_DIR when it is missing (needed to find the user bus). */
export function createSystemctl(exec: Exec, scope: SystemdScope, opts: { timeoutMs?: number } = {}): Systemctl {
  const user = scope === "user";
  const env: Record<string, string> = {};
  const uid = process.getuid?.();
  if (user && !process.env.XDG_RUNTIME_DIR && uid !== undefined) env.XDG_RUNTIME_DIR = `/run/user/${uid}`;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const tool = (cmd: string, args: string[]) => exec(cmd, args, { env, timeoutMs });
  const sc = (args: string[]) => tool("systemctl", [...(user ? ["--user"] : []), "--no-ask-password", "--no-pager", ...args]);
  const manager = user ? "the user's systemd manager (systemctl --user)" : "the system manager (systemctl)";

  const change = async (verb: string[], units: string[]) => {
    if (!units.length) return;
    const r = await sc([...verb, "--", ...units]).catch((cause) => {
      throw new SystemctlError(`could not run systemctl ${verb.join(" ")}: ${String(cause)}; is systemd installed on this host?`, units[0], { cause });
    });
    if (r.code !== 0) {
      const hint = noBusHint(r);
      throw new SystemctlError(`systemctl${user ? " --user" : ""} ${verb.join(" ")} ${units.join(" ")} failed (exit ${r.code}): ${firstLine(r)}${hint}`, units[0], { local: hint !== "" }); // no manager to talk to: the host's problem
    }
  };
  const noBusHint = (r: ExecResult) =>
    /Failed to connect to bus|No medium found|\$DBUS_SESSION_BUS_ADDRESS and \$XDG_RUNTIME_DIR/i.test(r.stderr)
      ? user
        ? ` (${manager} is not reachable: run fetchit as that user with XDG_RUNTIME_DIR set, and keep the user manager running with \`loginctl enable-linger\`)`
        : ` (${manager} is not reachable: is systemd PID 1 on this host?)`
      : "";

  const self: Systemctl = {
    scope,
    async daemonReload() {
      const r = await sc(["daemon-reload"]).catch((cause) => {
        throw new SystemctlError(`could not run systemctl daemon-reload: ${String(cause)}; is systemd installed on this host?`, undefined, { cause });
      });
      if (r.code !== 0) throw new SystemctlError(`systemctl${user ? " --user" : ""} daemon-reload failed (exit ${r.code}): ${firstLine(r)}${noBusHint(r)}`, undefined, { retryable: true, local: noBusHint(r) !== "" });
    },
    enable: (units, o = {}) => change(["enable", ...flags(o)], units),
    enableNow: (units) => change(["enable", "--now"], units),
    start: (units) => change(["start"], units),
    restart: (units) => change(["restart"], units),
    stop: (units) => change(["stop"], units),
    async disable(units, o = {}) {
      if (!units.length) return;
      const verb = ["disable", ...flags(o)];
      const r = await sc([...verb, "--", ...units]);
      if (r.code !== 0 && !/not loaded|does not exist|No such file/i.test(r.stderr)) {
        throw new SystemctlError(`systemctl${user ? " --user" : ""} ${verb.join(" ")} ${units.join(" ")} failed (exit ${r.code}): ${firstLine(r)}${noBusHint(r)}`, units[0]);
      }
    },
    disableNow: (units) => self.disable(units, { now: true }),
    async resetFailed(unit) {
      await sc(["reset-failed", "--", unit]);
    },
    async isActive(unit) {
      return (await sc(["is-active", "--", unit])).stdout.trim() || "unknown";
    },
    async isFailed(unit) {
      return (await sc(["is-failed", "--quiet", "--", unit])).code === 0;
    },
    async isEnabled(unit) {
      const r = await sc(["is-enabled", "--", unit]);
      return r.stdout.trim() || (/not found|No such file/i.test(r.stderr) ? "not-found" : "unknown");
    },
    async state(unit) {
      const r = await sc(["show", `--property=${SHOW_PROPS.join(",")}`, "--", unit]);
      if (r.code !== 0) throw new SystemctlError(`systemctl${user ? " --user" : ""} show ${unit} failed (exit ${r.code}): ${firstLine(r)}${noBusHint(r)}`, unit, { retryable: true });
      return parseShow(r.stdout);
    },
    async healthStates(units) {
      if (!units.length) return [];
      const r = await sc(["show", `--property=${[...SHOW_PROPS, "NRestarts", "Type"].join(",")}`, "--", ...units]);
      if (r.code !== 0) throw new SystemctlError(`systemctl${user ? " --user" : ""} show ${units.join(" ")} failed (exit ${r.code}): ${firstLine(r)}${noBusHint(r)}`, units[0], { retryable: true });
      const blocks = r.stdout.split(/\n\s*\n/).filter((b) => b.trim());
      return units.map((unit, i) => {
        const block = blocks[i] ?? "";
        const prop = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(block)?.[1] ?? "";
        return { ...parseShow(block), unit, nRestarts: Number(prop("NRestarts")) || 0, type: prop("Type") };
      });
    },
    async waitSettled(unit, o = {}) {
      const settleMs = o.settleMs ?? 1500;
      const deadline = Date.now() + (o.timeoutMs ?? 30_000);
      let settledAt: number | undefined;
      for (;;) {
        const s = await self.state(unit);
        const moving = ["activating", "deactivating", "reloading"].includes(s.activeState) && s.subState !== "auto-restart";
        if (startFailed(s) || Date.now() > deadline) return s;
        if (!moving) settledAt ??= Date.now();
        else settledAt = undefined;
        if (settledAt !== undefined && Date.now() - settledAt >= settleMs) return s;
        await sleep(200);
      }
    },
    async journalTail(unit, lines = 15) {
      const match = user ? ["--user-unit", unit] : ["--unit", unit];
      // journald may not have written a unit's last lines yet when systemd reports the failure:
      // ask it to (root only; harmless otherwise) and look again for a moment while nothing shows.
      await tool("journalctl", ["--sync"]).catch(() => undefined);
      for (let attempt = 0; ; attempt++) {
        const r = await tool("journalctl", [...match, "--lines", String(lines), "--no-pager", "--output", "short-iso", "--quiet"]).catch(() => undefined);
        const out = r && r.code === 0 ? r.stdout.split("\n").filter((l) => l.trim() && !l.startsWith("-- ")) : [];
        if (out.length || attempt >= 4 || !r) return out;
        await sleep(250);
      }
    },
    verify: (path) => verifyUnitFile(exec, user, path, { env, timeoutMs }),
    async calendarProblem(expr) {
      const r = await tool("systemd-analyze", ["calendar", "--", expr]).catch(() => undefined);
      if (!r || r.code === 127 || r.code === 0) return undefined;
      return (r.stderr.trim() || r.stdout.trim() || `systemd-analyze calendar exited with ${r.code}`).split("\n")[0];
    },
  };
  return self;
}
