#!/usr/bin/env bun
/**
 * Entry point: the only place that exits the process. The signal handlers go
 * in first; the CLI (and everything that does work) is loaded after them, so
 * a SIGTERM at any instant of start-up is a clean stop (src/signals.ts).
 */
import { installSignalHandlers } from "./signals.ts";

// run/start and sync stop cleanly (src/cli/run.ts, sync.ts); every other command exits at the first signal.
const graceful = process.argv.slice(2).some((a) => a === "run" || a === "start" || a === "sync");
installSignalHandlers(graceful, (code, signal) => {
  if (graceful) process.stderr.write(`fetchit: ${signal} again: stopping at once (state already saved stays; every write is atomic)\n`);
  process.exit(code);
});

function report(err: unknown, errors: typeof import("./errors.ts")): number {
  if (err instanceof errors.ConfigError || err instanceof errors.ExitError) {
    process.stderr.write(`fetchit: ${err.message}\n`);
    return err instanceof errors.ExitError ? err.exitCode : 1;
  }
  process.stderr.write(`fetchit: ${errors.errorMessage(err)}\n`);
  if (process.env.FETCHIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return 1;
}

// No top-level await, so the entry also works where bytecode compilation is used.
Promise.all([import("./cli/cli.ts"), import("./errors.ts")]).then(([{ runCli }, errors]) =>
  runCli(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err) => process.exit(report(err, errors)),
  ),
);
