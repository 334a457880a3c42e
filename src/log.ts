/**
 * Logging through consola (core build, with our own reporter so lines stay
 * small and greppable). Every line carries structured fields such as target,
 * method and file so an operator can act on it; credentials in URLs are masked.
 */
import { fstatSync } from "node:fs";
import { createConsola, type ConsolaInstance, type LogObject } from "consola/core";

export type LogLevel = "error" | "warn" | "info" | "debug";
/** pretty: timestamped lines; json: one object a line (shippers); journal: `<N>` priority prefixes, no timestamps (journald). */
export type LogFormat = "pretty" | "json" | "journal";
export type Fields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger;
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4 };
const NAMES: Record<number, string> = { 0: "ERROR", 1: "WARN", 2: "INFO", 3: "INFO", 4: "DEBUG", 5: "TRACE" };
/** sd-daemon(3) priority prefixes: journald stores them as PRIORITY, so `journalctl -p err` works. */
const PRIORITIES: Record<string, number> = { ERROR: 3, WARN: 4, INFO: 6, DEBUG: 7, TRACE: 7 };

/**
 * True when `fd` (stderr, where logs go) is the journal stream systemd
 * connected: $JOURNAL_STREAM holds its "device:inode" (systemd.exec(5)).
 * Output redirected elsewhere by the user keeps the pretty format.
 */
export function isJournalStream(env: Record<string, string | undefined>, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? "");
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** Replaces `user:password@` in URLs by `***@` so secrets never reach a log line. */
export function maskUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

function renderValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
  return maskUrl(/[\s"=]/.test(s) ? JSON.stringify(s) : s);
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; defaults to stderr. Tests pass a collector. */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? "pretty";
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const consola = createConsola({
    level: LEVELS[opts.level ?? "info"],
    reporters: [
      {
        log(obj: LogObject) {
          const [msg, fields] = obj.args as [string, Fields | undefined];
          const level = NAMES[obj.level] ?? "INFO";
          if (format === "json") {
            const rec: Fields = { time: obj.date.toISOString(), level: level.toLowerCase(), msg: maskUrl(msg) };
            for (const [k, v] of Object.entries(fields ?? {})) rec[k] = v instanceof Error ? maskUrl(v.message) : v;
            write(maskUrl(JSON.stringify(rec)));
            return;
          }
          const extra = Object.entries(fields ?? {})
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${renderValue(v)}`)
            .join(" ");
          const text = `${maskUrl(msg)}${extra ? " " + extra : ""}`;
          if (format === "journal") {
            // every line of a multi-line message carries the prefix, or journald files it as info
            write(text.split("\n").map((l) => `<${PRIORITIES[level] ?? 6}>${l}`).join("\n"));
            return;
          }
          write(`${obj.date.toISOString()} ${level.padEnd(5)} ${text}`);
        },
      },
    ],
  });
  return wrap(consola, {});
}

function wrap(consola: ConsolaInstance, base: Fields): Logger {
  const emit = (fn: (...a: unknown[]) => void) => (msg: string, fields?: Fields) => fn(msg, { ...base, ...fields });
  return {
    error: emit(consola.error),
    warn: emit(consola.warn),
    info: emit(consola.info),
    debug: emit(consola.debug),
    child: (fields) => wrap(consola, { ...base, ...fields }),
  };
}

/** A logger that drops everything; for commands that print their own output. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => silentLogger,
};
