/**
 * `systemd-analyze verify` as a pre-check that rejects only what systemd
 * itself would reject when it loads the unit.
 *
 * verify also checks things that depend on this host and that systemd does
 * not enforce at load time: `Documentation=man:` pages (most edge and
 * container images ship none; FetchIt's own example has one), the programs
 * of `Exec*=` lines (a unit may install them, and a missing one fails the
 * start, which fetchit reports with the journal), and a socket's service
 * (it may come in the same commit). Man pages are skipped with `--man=no`;
 * when verify still fails, it is run again at error level and passes when
 * every remaining error is one of those host checks.
 */
import type { Exec, ExecResult } from "./exec.ts";

/** Result of a verify: ok, with systemd-analyze's messages (trimmed); `ignored`: the host-dependent errors let through. */
export interface VerifyResult {
  ok: boolean;
  output: string;
  ignored?: string[];
}

/** Errors of `systemd-analyze verify` about this host, not about the unit as systemd loads it. */
const HOST_DEPENDENT = [
  /: Command .+ is not executable: /, // Exec*= program not installed (yet): the start fails, the load does not
  /: Command 'man .+' failed with code \d+/, // man page missing (systemd-analyze without --man=)
  /: service .+ not loaded, socket cannot be started\./, // the socket's service is not installed (yet)
];

/** True for an error line systemd does not enforce when it loads the unit (pure). */
export const isHostDependent = (line: string) => HOST_DEPENDENT.some((re) => re.test(line));

const lines = (r: ExecResult) => `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);

/**
 * `systemd-analyze [--user] verify --man=no --recursive-errors=no -- PATH`
 * (options dropped one by one on an older systemd-analyze that lacks them);
 * undefined when systemd-analyze is not installed.
 */
export async function verifyUnitFile(exec: Exec, user: boolean, path: string, opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<VerifyResult | undefined> {
  const run = (extra: string[], env: Record<string, string> = {}) =>
    exec("systemd-analyze", [...(user ? ["--user"] : []), "verify", ...extra, "--", path], { env: { ...opts.env, ...env }, timeoutMs: opts.timeoutMs }).catch(() => undefined);
  // --man=no (systemd 235+): a missing man page is not the unit's fault.
  // --recursive-errors=no (systemd 250+): nor is a dependency not installed yet (it may come in the same commit).
  let extra = ["--man=no", "--recursive-errors=no"];
  let r = await run(extra);
  while (r && r.code !== 0 && extra.length && /unrecognized option|unknown option/i.test(r.stderr)) {
    extra = extra.slice(0, -1);
    r = await run(extra);
  }
  if (!r || r.code === 127) return undefined;
  const output = lines(r).join("\n");
  if (r.code === 0) return { ok: true, output };
  if (!lines(r).some(isHostDependent)) return { ok: false, output };
  // Warnings (unknown keys, obsolete settings) do not fail verify: look at the errors alone.
  const errs = await run(extra, { SYSTEMD_LOG_LEVEL: "err" });
  const errors = errs ? lines(errs) : [];
  if (!errs || errs.code === 0 || !errors.length || !errors.every(isHostDependent)) return { ok: false, output };
  return { ok: true, output, ignored: [...new Set(errors)] };
}
