/**
 * `fetchit install [--user]` and `fetchit uninstall [--user]`: run a binary
 * copied by hand (a Raspberry Pi, a host without the RPM) as a systemd
 * service. install writes the unit pointing at the running binary, creates an
 * example config when there is none, then `daemon-reload` and
 * `enable --now`; uninstall undoes the unit and leaves config and state.
 */
import { homedir, userInfo } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { userConfigPath, SYSTEM_CONFIG_PATH } from "../config/discover.ts";
import { loadConfig } from "../config/index.ts";
import { ConfigError, ExitError } from "../errors.ts";
import { hostExec, type Exec } from "../host/exec.ts";
import { createHostFs, type HostFs } from "../host/fs.ts";
import { EXAMPLE_CONFIG, isInstalledUnit, UNIT_NAME, unitText } from "./install-units.ts";
import { defaultStateDir, type Env, type GlobalOptions } from "./options.ts";

export interface InstallOptions extends GlobalOptions {
  /** A user unit in ~/.config/systemd/user (systemctl --user) instead of a system unit. */
  user?: boolean;
  /** The binary the unit runs. Default: this executable (refused when running from source). */
  binary?: string;
  /** Where the unit goes. Default: /etc/systemd/system, or $XDG_CONFIG_HOME/systemd/user with --user. */
  unitDir?: string;
  /** Overwrite (install) or remove (uninstall) a unit that `fetchit install` did not write. */
  force?: boolean;
  /** false (`--no-start`): write or remove files only, run no systemctl. Default: true. */
  start?: boolean;
}

/** What the commands touch outside their options; tests inject fakes. */
export interface InstallDeps {
  exec: Exec;
  fs: HostFs;
  uid: number;
  /** This executable (process.execPath). */
  execPath: string;
  /** true for the compiled binary, false when bun runs src/main.ts. */
  compiled: boolean;
}

export function defaultInstallDeps(): InstallDeps {
  return {
    exec: hostExec,
    fs: createHostFs(),
    uid: process.getuid?.() ?? 1000,
    execPath: process.execPath,
    // A compiled binary's modules live in Bun's embedded file system.
    compiled: Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN"),
  };
}

interface Layout {
  unitPath: string;
  configPath: string;
  stateDir: string;
  systemctl: string[];
}

function layout(opts: InstallOptions, env: Env, deps: InstallDeps): Layout {
  const home = env.HOME || homedir();
  if (!opts.user && deps.uid !== 0 && !opts.unitDir) {
    throw new ExitError("the system unit needs root: run it with sudo, or use --user for a user unit", 2);
  }
  const unitDir = opts.unitDir ?? (opts.user ? join(env.XDG_CONFIG_HOME || join(home, ".config"), "systemd", "user") : "/etc/systemd/system");
  return {
    unitPath: join(unitDir, UNIT_NAME),
    configPath: opts.config ? resolve(opts.config) : opts.user ? userConfigPath(home) : SYSTEM_CONFIG_PATH,
    stateDir: defaultStateDir(opts, env, opts.user ? Math.max(deps.uid, 1) : 0),
    systemctl: opts.user ? ["--user"] : [],
  };
}

function binaryPath(opts: InstallOptions, deps: InstallDeps): string {
  if (opts.binary) return resolve(opts.binary);
  if (deps.compiled) return deps.execPath;
  throw new ExitError(
    "install writes the path of the running binary into the unit, but this is bun running fetchit from source. " +
      "Run the compiled binary instead (`bun build.ts`, copy dist/fetchit-linux-<arch> to e.g. /usr/local/bin/fetchit, " +
      "run `/usr/local/bin/fetchit install`), or pass --binary PATH",
    2,
  );
}

async function systemctl(deps: InstallDeps, l: Layout, args: string[], print: (line: string) => void): Promise<void> {
  const res = await deps.exec("systemctl", [...l.systemctl, ...args]);
  if (res.code !== 0) {
    throw new ExitError(`systemctl ${[...l.systemctl, ...args].join(" ")} failed (exit ${res.code}): ${(res.stderr || res.stdout).trim()}`, 1);
  }
  print(`ran systemctl ${[...l.systemctl, ...args].join(" ")}`);
}

/** Creates the config (an example with no targets) unless it exists; an existing one must be valid. */
async function ensureConfig(l: Layout, user: boolean, deps: InstallDeps, env: Env, print: (line: string) => void): Promise<void> {
  if (await deps.fs.lstat(l.configPath)) {
    try {
      loadConfig({ flag: l.configPath, env: {}, uid: deps.uid, home: env.HOME || homedir() });
    } catch (err) {
      if (err instanceof ConfigError) throw new ExitError(`${err.message}\nfix the config, then run install again (nothing was changed)`, 1);
      throw err;
    }
    print(`kept ${l.configPath} (exists, valid)`);
    return;
  }
  await deps.fs.mkdirp(dirname(l.configPath), user ? 0o700 : 0o755);
  await deps.fs.writeFileAtomic(l.configPath, EXAMPLE_CONFIG, 0o600);
  print(`created ${l.configPath}: an example with no targets; add yours, then \`systemctl${user ? " --user" : ""} reload fetchit\``);
}

/** Returns the exit code (0); failures throw ExitError. */
export async function installCommand(opts: InstallOptions, env: Env, print: (line: string) => void, deps = defaultInstallDeps()): Promise<number> {
  const l = layout(opts, env, deps);
  const binary = binaryPath(opts, deps);
  if (!isAbsolute(binary) || (await deps.fs.lstat(binary))?.kind !== "file") {
    throw new ExitError(`binary ${binary} does not exist (or is not a file)`, 2);
  }
  const existing = (await deps.fs.readFile(l.unitPath))?.toString("utf8");
  if (existing !== undefined && !isInstalledUnit(existing) && !opts.force) {
    throw new ExitError(`${l.unitPath} exists and was not written by fetchit install; not overwriting it (--force to replace it)`, 1);
  }
  await ensureConfig(l, opts.user ?? false, deps, env, print);
  const config = opts.config ? l.configPath : undefined;
  const text = unitText({ binary, user: opts.user ?? false, config, stateDir: opts.stateDir, podmanSocket: opts.podmanSocket });
  if (existing === text) print(`kept ${l.unitPath} (unchanged)`);
  else {
    await deps.fs.writeFileAtomic(l.unitPath, text, 0o644);
    print(`${existing === undefined ? "wrote" : "replaced"} ${l.unitPath} (runs ${binary}, config ${l.configPath})`);
  }
  if (binary.startsWith("/tmp/")) print(`warning: the unit runs ${binary}; move the binary somewhere lasting (e.g. /usr/local/bin) and install again`);
  if (!opts.user && !opts.unitDir && (await deps.fs.lstat(`/usr/lib/systemd/system/${UNIT_NAME}`))) {
    print(`note: it takes precedence over /usr/lib/systemd/system/${UNIT_NAME} (from a package)`);
  }
  const sc = opts.user ? "systemctl --user" : "systemctl";
  if (opts.start === false) {
    print(`not started (--no-start): run \`${sc} daemon-reload && ${sc} enable --now ${UNIT_NAME}\``);
    return 0;
  }
  await systemctl(deps, l, ["daemon-reload"], print);
  await systemctl(deps, l, ["enable", "--now", UNIT_NAME], print);
  print(`fetchit runs: \`${sc} status fetchit\`, \`journalctl ${opts.user ? "--user " : ""}-u fetchit -f\`; state in ${l.stateDir}`);
  if (opts.user) await lingerHint(deps, env, print);
  return 0;
}

/** A user unit runs only while the user is logged in, unless lingering is on. */
async function lingerHint(deps: InstallDeps, env: Env, print: (line: string) => void): Promise<void> {
  const name = env.USER || userInfo().username;
  if (await deps.fs.lstat(`/var/lib/systemd/linger/${name}`)) return;
  print(`note: to keep it running without a login session: \`loginctl enable-linger ${name}\``);
}

/** Stops and disables the unit, removes it, reloads systemd; leaves config and state. */
export async function uninstallCommand(opts: InstallOptions, env: Env, print: (line: string) => void, deps = defaultInstallDeps()): Promise<number> {
  const l = layout(opts, env, deps);
  const existing = (await deps.fs.readFile(l.unitPath))?.toString("utf8");
  if (existing === undefined) {
    print(`no ${l.unitPath}; nothing to uninstall`);
    return 0;
  }
  if (!isInstalledUnit(existing) && !opts.force) {
    throw new ExitError(`${l.unitPath} was not written by fetchit install; not removing it (--force to remove it anyway)`, 1);
  }
  if (opts.start !== false) await systemctl(deps, l, ["disable", "--now", UNIT_NAME], print);
  await deps.fs.remove(l.unitPath);
  print(`removed ${l.unitPath}`);
  if (opts.start !== false) await systemctl(deps, l, ["daemon-reload"], print);
  print(`left the config (${l.configPath}) and the state (${l.stateDir}) in place; remove them by hand if you no longer need them`);
  return 0;
}
