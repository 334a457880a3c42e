/**
 * Schedules: FetchIt accepted robfig/cron's standard 5-field patterns and
 * descriptors (`@hourly`, `@every 1m`). croner handles 5- and 6-field
 * patterns and the fixed descriptors; `@every <duration>` is translated into a
 * clock-aligned cron pattern when the interval divides a minute, an hour or a
 * day, and rejected with an explanation otherwise.
 */
import { Cron, type CronMode } from "croner";

/** The croner `mode` every fetchit schedule is parsed with: 5 fields, or 6 with seconds first. */
export const CRON_MODE: CronMode = "5-or-6-parts";

const DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/**
 * Translates a config `schedule` into a pattern for `new Cron(pattern, { mode: CRON_MODE })`.
 * Throws an Error whose message says what is wrong (without the schedule itself).
 */
export function toCronPattern(schedule: string): string {
  const s = schedule.trim();
  if (/^@every(\s|$)/i.test(s)) return everyToCron(s.slice("@every".length).trim());
  if (s.startsWith("@")) {
    const lower = s.toLowerCase();
    if (DESCRIPTORS.includes(lower)) return lower;
    throw new Error(`unknown descriptor; use one of ${DESCRIPTORS.join(", ")} or "@every <n>s|m|h"`);
  }
  const fields = s.split(/\s+/).filter(Boolean).length;
  if (fields !== 5 && fields !== 6) {
    throw new Error(`expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${fields}`);
  }
  return s;
}

/** Why `schedule` cannot be used, or undefined when it is a valid schedule. */
export function scheduleProblem(schedule: string): string | undefined {
  if (schedule.trim() === "") return 'schedule is empty; give a cron pattern such as "*/5 * * * *"';
  const label = `invalid cron ${JSON.stringify(schedule)}`;
  try {
    const job = new Cron(toCronPattern(schedule), { paused: true, mode: CRON_MODE });
    const next = job.nextRun();
    job.stop();
    return next ? undefined : `${label}: it never fires`;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return `${label}: ${message.replace(/^CronPattern:\s*/, "")}`;
  }
}

/** `@every 1h30m` etc. (Go duration syntax, h/m/s units) → a cron pattern. */
function everyToCron(duration: string): string {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!duration || !m) {
    throw new Error(`"@every" needs a duration made of whole h, m and s units such as 30s, 5m, 2h or 1h30m, got ${JSON.stringify(duration)}`);
  }
  const total = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (total <= 0) throw new Error('"@every" needs a positive interval');
  if (total === 86400) return "0 0 * * *";
  if (total % 3600 === 0 && 24 % (total / 3600) === 0) return total === 3600 ? "0 * * * *" : `0 */${total / 3600} * * *`;
  if (total % 60 === 0 && total < 3600 && 60 % (total / 60) === 0) return total === 60 ? "* * * * *" : `*/${total / 60} * * * *`;
  if (total < 60 && 60 % total === 0) return `*/${total} * * * * *`;
  throw new Error(
    `${duration} does not divide a minute, an hour or a day, so it cannot run at even clock-aligned intervals; ` +
      "use e.g. 15s, 10m or 6h, or write a cron pattern",
  );
}
