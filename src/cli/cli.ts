/**
 * The cac wiring, and nothing else: each command is a function in its own file
 * taking typed options, so tests call them directly. Returns the exit code;
 * only src/main.ts exits the process.
 */
import { cac } from "cac";
import { COMMIT, VERSION } from "../version.ts";
import { factsCommand } from "./facts.ts";
import { installCommand, uninstallCommand } from "./install.ts";
import { checkGlobalOptions, resolvePathFlags, type Env, type GlobalOptions } from "./options.ts";
import { planCommand } from "./plan.ts";
import { pushCommand } from "./push.ts";
import { retryCommand } from "./retry.ts";
import { runCommand } from "./run.ts";
import { schemaCommand } from "./schema.ts";
import { statusCommand } from "./status.ts";
import { syncCommand } from "./sync.ts";
import { validateCommand } from "./validate.ts";

export async function runCli(argv: string[], env: Env, print: (line: string) => void = console.log): Promise<number> {
  const cli = cac("fetchit");
  let code = 0;
  cli
    .option("--config <path>", "Config file (default: $FETCHIT_CONFIG text, /etc/fetchit/config.yaml as root, ~/.fetchit/config.yaml)")
    .option("--state-dir <dir>", "State and clones (default: /var/lib/fetchit as root, ~/.local/state/fetchit)")
    .option("--podman-socket <path>", "Podman API socket (default: $CONTAINER_HOST, /run/podman/podman.sock as root, $XDG_RUNTIME_DIR/podman/podman.sock)")
    .option("--log-level <level>", "error, warn, info or debug (FETCHIT_DEBUG=1 also turns on debug)")
    .option("--log-format <format>", "pretty, json or journal (default: journal when stderr is the systemd journal, else pretty)");

  cli
    .command("run", "Run the agent: apply every method now and then on its schedule")
    .alias("start")
    .option("--demo", "Run against a demo repository made from the embedded examples (offline)")
    .option("--listen <address>", "Serve /healthz, /status, /metrics and POST /sync on HOST:PORT or a unix socket path (overrides listen.address)")
    .action(async (opts) => runCommand(opts, env));
  cli
    .command("sync", "Run every method once now, wait, exit 1 if anything failed")
    .option("--target <name>", "Only this target")
    .option("--method <name>", "Only this method (name, kind or kind/name)")
    .option("--now", "Apply a new commit now even when this host's rollout wave is not due yet")
    .action(async (opts) => void (code = await syncCommand(opts, env, print)));
  cli
    .command("retry", "Clear the quarantine of a rolled-back commit so the next run tries it again")
    .option("--target <name>", "Only this target")
    .option("--method <name>", "Only this method (name, kind or kind/name)")
    .action(async (opts) => void (code = await retryCommand(opts, env, print)));
  cli.command("validate", "Check the config and print every problem").action((opts) => void (code = validateCommand(opts, env, print)));
  cli
    .command("plan", "Fetch and show what a run would create, replace or remove (changes nothing); exit 0 no change, 2 changes, 1 error")
    .option("--target <name>", "Only this target")
    .option("--method <name>", "Only this method (name, kind or kind/name)")
    .option("--json", "Machine-readable output")
    .action(async (opts) => void (code = await planCommand(opts, env, print)));
  cli
    .command("status", "Show what each method has applied (reads the state store)")
    .option("--json", "Machine-readable output")
    .action(async (opts) => void (code = await statusCommand(opts, env, print)));
  cli
    .command("facts", "Print this host's template context: facts (host.*), labels and values")
    .option("--json", "Machine-readable output")
    .action((opts) => void (code = factsCommand(opts, env, print)));
  cli
    .command("push <dir> <reference>", "Pack DIR as one reproducible layer and push it to oci://REGISTRY/REPO:TAG; prints the manifest digest")
    .option("--annotation <key=value>", "Manifest annotation (repeatable)")
    .option("--sign <key>", "Sign the digest with this PEM private key (ECDSA P-256 or Ed25519), cosign-style, under the sha256-<hex>.sig tag")
    .option("--tls-verify <bool>", "false: accept any certificate and plain HTTP (a lab registry)")
    .option("--authfile <file>", "Registry credentials file (default: Podman's lookup, e.g. $REGISTRY_AUTH_FILE)")
    .action(async (dir: string, reference: string, opts) => void (code = await pushCommand(dir, reference, opts, env, print)));
  cli
    .command("schema", "Print the config's JSON Schema")
    .option("--markdown", "The config reference as a Markdown table instead")
    .action((opts) => schemaCommand(opts, print));
  for (const [name, what, fn] of [
    ["install", "Install and start a systemd unit running this binary (--config, --state-dir, --podman-socket go into the unit)", installCommand],
    ["uninstall", "Stop, disable and remove the unit that install wrote (config and state stay)", uninstallCommand],
  ] as const) {
    cli
      .command(name, what)
      .option("--user", "A user unit (systemctl --user, ~/.fetchit/config.yaml) instead of a system unit (root)")
      .option("--binary <path>", "The binary the unit runs (default: this one)")
      .option("--unit-dir <dir>", "Where the unit goes (default: /etc/systemd/system, ~/.config/systemd/user)")
      .option("--force", "Replace or remove a unit that fetchit install did not write")
      .option("--no-start", "Only write or remove files; run no systemctl")
      .action(async (opts) => void (code = await fn(opts, env, print)));
  }
  cli.command("version", "Print version, commit and Bun version").action(() => print(`fetchit ${VERSION} (commit ${COMMIT}, bun ${Bun.version})`));
  cli.help();

  cli.parse(["fetchit", "fetchit", ...argv], { run: false });
  if (!cli.matchedCommand) {
    if (argv.length && !argv.some((a) => a === "--help" || a === "-h")) {
      print(`unknown command: ${argv[0]}; run \`fetchit --help\``);
      return 2;
    }
    if (!argv.length) cli.outputHelp();
    return argv.length ? 0 : 2;
  }
  checkGlobalOptions(cli.options as GlobalOptions);
  resolvePathFlags(cli.options, process.cwd());
  await cli.runMatchedCommand();
  return code;
}
