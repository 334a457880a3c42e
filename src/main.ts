#!/usr/bin/env bun
/** Entry point: the only place that exits the process. */
import { runCli } from "./cli/cli.ts";
import { ConfigError, ExitError, errorMessage } from "./errors.ts";

function report(err: unknown): number {
  if (err instanceof ConfigError || err instanceof ExitError) {
    process.stderr.write(`fetchit: ${err.message}\n`);
    return err instanceof ExitError ? err.exitCode : 1;
  }
  process.stderr.write(`fetchit: ${errorMessage(err)}\n`);
  if (process.env.FETCHIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return 1;
}

// No top-level await, so the entry also works where bytecode compilation is used.
runCli(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err) => process.exit(report(err)),
);
