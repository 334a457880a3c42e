#!/usr/bin/env bun
/** Entry point: the only place that exits the process. */
import { runCli } from "./cli/cli.ts";
import { ConfigError, ExitError, errorMessage } from "./errors.ts";

try {
  process.exitCode = await runCli(process.argv.slice(2), process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`fetchit: ${err.message}\n`);
    process.exitCode = 1;
  } else if (err instanceof ExitError) {
    process.stderr.write(`fetchit: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`fetchit: ${errorMessage(err)}\n`);
    if (process.env.FETCHIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
process.exit();
