/**
 * Compiles fetchit into single-file executables with `bun build --compile`.
 * `bun build.ts` builds every target in TARGETS (or those named as arguments,
 * e.g. `bun build.ts linux-x64`) into dist/fetchit-<target>, embedding the
 * version and git commit.
 */
import { $ } from "bun";
import pkg from "./package.json" with { type: "json" };

/** Targets we ship. The packaging work adds linux-x64-baseline and linux-arm64. */
export const TARGETS = { "linux-x64": "bun-linux-x64" } as const;
type Target = keyof typeof TARGETS;

async function commit(): Promise<string> {
  const r = await $`git rev-parse --short=12 HEAD`.nothrow().quiet();
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

async function build(target: Target, sha: string): Promise<string> {
  const outfile = `dist/fetchit-${target}`;
  const res = await Bun.build({
    entrypoints: ["src/main.ts"],
    compile: { target: TARGETS[target], outfile },
    minify: true,
    sourcemap: "none",
    define: { FETCHIT_COMMIT: JSON.stringify(sha) },
  });
  if (!res.success) {
    for (const log of res.logs) console.error(log);
    throw new Error(`build of ${target} failed`);
  }
  return outfile;
}

const wanted = (Bun.argv.slice(2).length ? Bun.argv.slice(2) : Object.keys(TARGETS)) as Target[];
for (const t of wanted) if (!(t in TARGETS)) throw new Error(`unknown target ${t}; known: ${Object.keys(TARGETS).join(", ")}`);
const sha = await commit();
for (const t of wanted) {
  const out = await build(t, sha);
  console.log(`built ${out} (${(Bun.file(out).size / 1e6).toFixed(1)} MB, fetchit ${pkg.version}, commit ${sha})`);
}
