/**
 * What `fetchit install` writes: the packaged units (packaging/systemd/,
 * embedded) with ExecStart pointing at the given binary, and the packaged
 * example config (packaging/config.yaml) when there is no config. Pure text.
 */
import EXAMPLE from "../../packaging/config.yaml" with { type: "text" };
import SYSTEM_UNIT from "../../packaging/systemd/fetchit.service" with { type: "text" };
import USER_UNIT from "../../packaging/systemd/fetchit-user.service" with { type: "text" };

/**
 * First line of every unit `fetchit install` writes. `install` overwrites and
 * `uninstall` removes only units that carry it (or with --force).
 */
export const INSTALL_MARKER = "# fetchit-install: written by `fetchit install`; `fetchit uninstall` removes it.";

export const UNIT_NAME = "fetchit.service";

/** The config created when there is none: no targets (valid as it is), commented examples. */
export const EXAMPLE_CONFIG: string = EXAMPLE;

/** The packaged units, as embedded. */
export const PACKAGED_UNITS = { system: SYSTEM_UNIT, user: USER_UNIT } as const;

const PACKAGED_BINARY = "/usr/bin/fetchit";

/** True when `text` is a unit written by `fetchit install`. */
export function isInstalledUnit(text: string): boolean {
  return text.split("\n", 5).some((line) => line.startsWith("# fetchit-install:"));
}

/** Inputs of {@link unitText}. */
export interface UnitInputs {
  /** Absolute path of the fetchit binary. */
  binary: string;
  /** true: the user unit (systemctl --user); false: the system unit. */
  user: boolean;
  /** --config for the unit; default: the packaged unit's (system: /etc/fetchit/config.yaml; user: fetchit's default, ~/.fetchit/config.yaml). */
  config?: string;
  /** --state-dir for the unit; default: the packaged unit's. */
  stateDir?: string;
  /** --podman-socket for the unit; default: the packaged unit's. */
  podmanSocket?: string;
}

/**
 * One ExecStart word: bare when it has only safe characters, else double
 * quoted. `%` (specifiers) and `$` (variable expansion) are escaped either way.
 */
export function execWord(word: string): string {
  const escaped = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Sets `--flag value` in an ExecStart word list: replaces the value, or appends both. */
function setFlag(words: string[], flag: string, value: string | undefined): void {
  if (value === undefined) return;
  const i = words.indexOf(flag);
  if (i >= 0 && i + 1 < words.length) words[i + 1] = execWord(value);
  else words.push(flag, execWord(value));
}

/**
 * The packaged unit for `inputs.user`, with its header comment replaced by
 * the install marker and ExecStart running `inputs.binary` (and the given
 * --config, --state-dir, --podman-socket). Throws when the packaged unit has
 * no `ExecStart=/usr/bin/fetchit ...` line (a build that embedded another file).
 */
export function unitText(inputs: UnitInputs): string {
  const packaged = inputs.user ? USER_UNIT : SYSTEM_UNIT;
  const lines = packaged.split("\n");
  const body = lines.slice(lines.findIndex((l) => l.startsWith("[")));
  const exec = body.findIndex((l) => l.startsWith(`ExecStart=${PACKAGED_BINARY} `));
  if (exec < 0) throw new Error(`the embedded ${inputs.user ? "user" : "system"} unit has no ExecStart=${PACKAGED_BINARY} line`);
  const words = body[exec]!.slice("ExecStart=".length).trim().split(/\s+/);
  words[0] = execWord(inputs.binary);
  setFlag(words, "--config", inputs.config);
  setFlag(words, "--state-dir", inputs.stateDir);
  setFlag(words, "--podman-socket", inputs.podmanSocket);
  body[exec] = `ExecStart=${words.join(" ")}`;
  const sc = inputs.user ? "systemctl --user" : "systemctl";
  const header = [
    INSTALL_MARKER,
    `# fetchit's packaged ${inputs.user ? "fetchit-user.service" : "fetchit.service"}, running ${inputs.binary}.`,
    `# After a config change: \`${sc} reload fetchit\`.`,
  ];
  return [...header, ...body].join("\n").replace(/\n*$/, "\n");
}
