/**
 * `fetchit plan [--target] [--method] [--json]`: fetch, diff and print what a
 * run of each git method would create, replace, remove and leave alone, with
 * the reason, touching nothing on the host. Exit code like
 * `terraform plan -detailed-exitcode`: 0 nothing would change, 2 something
 * would, 1 a method could not be planned. Takes no lock: it may run next to
 * the daemon.
 */
import { matches, type JobFilter } from "../daemon.ts";
import { planMethod, summarize, type MethodPlan, type PlanItem } from "../engine/dry-run.ts";
import { buildJobs } from "../engine/jobs.ts";
import { ExitError } from "../errors.ts";
import { silentLogger } from "../log.ts";
import { loadRuntime, makeLogger, type Env, type GlobalOptions } from "./options.ts";

export interface PlanOptions extends GlobalOptions, JobFilter {
  json?: boolean;
}

/** The stable JSON shape of `fetchit plan --json`. */
export interface PlanReport {
  version: 1;
  /** True when a run would change something (exit code 2). */
  changes: boolean;
  summary: ReturnType<typeof summarize>;
  methods: MethodPlan[];
}

const SIGN: Record<PlanItem["action"], string> = { create: "+", replace: "~", "take-over": "~", remove: "-", unchanged: "=", error: "!" };

function printPlan(p: MethodPlan, print: (line: string) => void): void {
  const range = `${p.appliedCommit?.slice(0, 9) ?? "(nothing applied)"} -> ${p.head?.slice(0, 9) ?? "?"}`;
  print(`${p.target} ${p.kind}/${p.method}: ${range}`);
  if (p.error) print(`  ! cannot plan: ${p.error}`);
  for (const i of p.items) {
    print(`  ${SIGN[i.action]} ${i.action.replace("-", " ").padEnd(9)} ${i.file}${i.resource ? ` (${i.resource})` : ""}: ${i.reason}`);
    if (i.rendered !== undefined) for (const line of i.rendered.trimEnd().split("\n")) print(`      | ${line}`); // a template: what it renders to here
  }
  if (!p.items.length && !p.error) print("  nothing managed yet and nothing to apply");
  for (const n of p.notes) print(`  note: ${n}`);
}

export async function planCommand(opts: PlanOptions, env: Env, print: (line: string) => void): Promise<number> {
  const log = makeLogger({ ...opts, logLevel: opts.logLevel ?? "warn" }, env);
  const rt = loadRuntime({ opts, env, log });
  const filter = { target: opts.target, method: opts.method };
  const jobs = buildJobs(rt.config, rt.stateDir, silentLogger).jobs.filter((j) => matches(j, filter));
  if (!jobs.length) {
    throw new ExitError(`no git method matches${opts.target ? ` --target ${opts.target}` : ""}${opts.method ? ` --method ${opts.method}` : ""}`, 1);
  }
  const plans = await Promise.all(jobs.map((j) => planMethod(j, rt.deps, log)));
  const summary = summarize(plans);
  const changes = summary.create + summary.replace + summary["take-over"] + summary.remove + summary.error > 0;
  const failed = plans.some((p) => p.error);
  if (opts.json) {
    const report: PlanReport = { version: 1, changes, summary, methods: plans };
    print(JSON.stringify(report, null, 2));
  } else {
    for (const p of plans) printPlan(p, print);
    print(`plan: ${summary.create} to create, ${summary.replace} to replace, ${summary["take-over"] ? `${summary["take-over"]} to take over, ` : ""}${summary.remove} to remove, ${summary.unchanged} unchanged${summary.error ? `, ${summary.error} invalid` : ""}${failed ? "; some methods could not be planned" : ""}`);
  }
  return failed ? 1 : changes ? 2 : 0;
}
