/**
 * Reading ansible-playbook's default (human) output: which tasks failed and
 * why, and the PLAY RECAP counts. The default callback is the one every
 * ansible-core has (the json callback lives in a collection that an image or
 * host may lack), and its failure lines are stable across versions:
 *
 *   TASK [name] ****
 *   fatal: [host]: FAILED! => {"msg": "...", ...}
 *   failed: [host] (item=x) => {"rc": 3, "stderr": "...", ...}
 *   fatal: [host]: UNREACHABLE! => {"msg": "..."}
 *   ...ignoring                      (ignore_errors: true; not a failure)
 *
 * Pure: no I/O.
 */

export interface TaskFailure {
  task: string;
  host: string;
  item?: string;
  unreachable: boolean;
  /** The reason, from msg / stderr / module_stderr / rc of the result. */
  message: string;
}

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

const TASK_LINE = /^(?:TASK|RUNNING HANDLER) \[(.*)\] \**\s*$/;
const FAIL_LINE = /^(?:fatal|failed): \[([^\]]+)\](?: \(item=(.*?)\))?:? (?:(FAILED|UNREACHABLE)! )?=> (.*)$/;
const RECAP_LINE = /^(\S+)\s+: ((?:\w+=\d+\s*)+)$/;
/** Longest piece of one result's text kept in a message. */
const MAX_TEXT = 400;

/** Keeps the end of long text (stderr: the last lines say most). */
const clip = (s: string) => (s.length > MAX_TEXT ? `…${s.slice(-MAX_TEXT)}` : s);
/** Keeps the start of long text (messages: the first words say most). */
const clipHead = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/** The last non-empty lines of `text`, joined with " | ". */
function tail(text: string, lines = 3): string {
  return clip(text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-lines).join(" | "));
}

/** The reason in one failed result (a parsed JSON object, or the raw text when not JSON). */
export function resultMessage(json: string): string {
  let r: Record<string, unknown>;
  try {
    const v = JSON.parse(json) as unknown;
    if (!v || typeof v !== "object") return clip(json.trim());
    r = v as Record<string, unknown>;
  } catch {
    return clip(json.trim());
  }
  const str = (k: string) => (typeof r[k] === "string" ? (r[k] as string).trim() : "");
  const parts: string[] = [];
  if (str("msg")) parts.push(clipHead(str("msg")));
  if (typeof r.rc === "number" && r.rc !== 0) parts.push(`rc=${r.rc}`);
  const detail = str("stderr") || str("module_stderr") || (str("msg") ? "" : str("stdout") || str("module_stdout"));
  if (detail && detail !== str("msg")) parts.push(tail(detail));
  return parts.join(": ") || clip(json.trim());
}

/** Every failed task in `output` that was not ignored, in order. */
export function parseFailures(output: string): TaskFailure[] {
  const lines = output.replace(/\r\n?/g, "\n").split("\n");
  const out: TaskFailure[] = [];
  let task = "";
  for (const [i, line] of lines.entries()) {
    const t = TASK_LINE.exec(line);
    if (t) {
      task = t[1] ?? "";
      continue;
    }
    const f = FAIL_LINE.exec(line);
    if (!f) continue;
    const next = lines.slice(i + 1).find((l) => l.trim() !== "" && !FAIL_LINE.test(l));
    if (next?.trim() === "...ignoring") continue;
    out.push({
      task,
      host: f[1] ?? "",
      ...(f[2] !== undefined ? { item: f[2] } : {}),
      unreachable: f[3] === "UNREACHABLE",
      message: resultMessage(f[4] ?? ""),
    });
  }
  return out;
}

/** The PLAY RECAP counts summed over hosts; undefined when the output has no recap (the play never ran). */
export function parseRecap(output: string): Recap | undefined {
  const lines = output.replace(/\r\n?/g, "\n").split("\n");
  const start = lines.findIndex((l) => l.startsWith("PLAY RECAP"));
  if (start < 0) return undefined;
  const sum: Recap = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
  for (const line of lines.slice(start + 1)) {
    const m = RECAP_LINE.exec(line.trim());
    if (!m) continue;
    for (const kv of (m[2] ?? "").trim().split(/\s+/)) {
      const [k, v] = kv.split("=");
      if (k && k in sum) sum[k as keyof Recap] += Number(v);
    }
  }
  return sum;
}

/** The `ERROR! ...` paragraph (and where) ansible prints for a bad playbook (syntax, unknown module, missing file). */
export function parseFatalError(output: string): string | undefined {
  const lines = output.replace(/\r\n?/g, "\n").split("\n");
  const i = lines.findIndex((l) => l.startsWith("ERROR! "));
  if (i < 0) return undefined;
  // The message paragraph, and the next one when it says where ("The error appears to be in 'x.yml': line 3, ...").
  const paras = lines.slice(i).join("\n").split(/\n\s*\n/).map((p) => p.split("\n").map((l) => l.trim()).join(" ").trim());
  const where = paras[1]?.startsWith("The error appears to be in") ? ` ${paras[1]}` : "";
  return clipHead(`${paras[0] ?? ""}${where}`);
}

/**
 * One line saying why a run failed, for the error and the state record:
 * the failed tasks (at most three, then a count), else the ERROR! paragraph,
 * else the last lines of the output.
 */
export function describeFailure(output: string, exitCode: number): string {
  const failures = parseFailures(output);
  if (failures.length) {
    const shown = failures.slice(0, 3).map((f) => {
      const item = f.item !== undefined ? ` (item=${f.item})` : "";
      return `task "${f.task}"${item} ${f.unreachable ? "could not reach" : "failed on"} ${f.host}: ${f.message}`;
    });
    const more = failures.length > 3 ? `; and ${failures.length - 3} more failed task result(s)` : "";
    return shown.join("; ") + more;
  }
  const fatal = parseFatalError(output);
  if (fatal) return fatal;
  const last = tail(output, 5);
  return `ansible-playbook exited with code ${exitCode}${last ? `: ${last}` : " and printed nothing"}`;
}
