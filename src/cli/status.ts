/** `fetchit status`: what the state store says about each (target, method); works without the daemon. */
import { createHostFs } from "../host/fs.ts";
import { createStateStore, type MethodState } from "../state/store.ts";
import { defaultStateDir, type Env, type GlobalOptions } from "./options.ts";

export interface StatusOptions extends GlobalOptions {
  json?: boolean;
}

/** The stable JSON shape of `fetchit status --json` (one entry per method). */
export interface StatusEntry {
  target: string;
  kind: string;
  method: string;
  appliedCommit: string | null;
  appliedSubject: string | null;
  appliedAt: string | null;
  consecutiveFailures: number;
  lastError: { message: string; at: string; commit: string | null; retryable: boolean; files: string[] } | null;
  nextRetryAt: string | null;
  resources: { file: string; name: string; hash: string }[];
}

export function toStatusEntry(s: MethodState): StatusEntry {
  const e = s.lastError;
  return {
    target: s.target,
    kind: s.kind,
    method: s.method,
    appliedCommit: s.appliedCommit ?? null,
    appliedSubject: s.appliedSubject ?? null,
    appliedAt: s.appliedAt ?? null,
    consecutiveFailures: s.failures,
    lastError: e ? { message: e.message, at: e.at, commit: e.commit ?? null, retryable: e.retryable, files: e.files ?? [] } : null,
    nextRetryAt: s.nextRetryAt ?? null,
    resources: Object.entries(s.resources).map(([file, r]) => ({ file, name: r.name, hash: r.hash })),
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

export async function statusCommand(opts: StatusOptions, env: Env, print: (line: string) => void): Promise<number> {
  const stateDir = defaultStateDir(opts, env, process.getuid?.() ?? 1000);
  const entries = (await createStateStore(createHostFs(), stateDir).list()).map(toStatusEntry);
  if (opts.json) {
    print(JSON.stringify({ stateDir, methods: entries }, null, 2));
    return 0;
  }
  if (!entries.length) {
    print(`no state in ${stateDir} yet: no method has run (start with \`fetchit run\` or \`fetchit sync\`)`);
    return 0;
  }
  const rows = [["TARGET", "METHOD", "APPLIED", "SUBJECT", "AT", "FAILURES", "RESOURCES", "LAST ERROR"]];
  for (const e of entries) {
    rows.push([
      e.target, `${e.kind}/${e.method}`, e.appliedCommit?.slice(0, 9) ?? "-", (e.appliedSubject ?? "-").slice(0, 40),
      e.appliedAt ?? "-", String(e.consecutiveFailures), String(e.resources.length), (e.lastError?.message ?? "-").slice(0, 80),
    ]);
  }
  for (const line of table(rows)) print(line);
  return 0;
}
