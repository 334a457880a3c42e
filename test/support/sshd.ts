/**
 * A real OpenSSH server for tests (Debian's openssh-server): `sshd -D` on a
 * free loopback port with its own config, host key and authorized_keys in a
 * scratch directory (killed and deleted when the test process ends). The
 * client key may only run git-shell, so it can fetch any repository on this
 * machine by absolute path: `ssh://<user>@127.0.0.1:<port>/abs/path`.
 */
import { connect } from "node:net";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createScratchDir, runOk } from "./exec.ts";

const SSHD = "/usr/sbin/sshd";
const HINT = "install it with: apt-get install -y openssh-server openssh-client (test/support/prepare.sh does)";

export interface TestSshd {
  port: number;
  dir: string;
  /** Private client key (mode 600) accepted by the server; passphrase-protected when one was given. */
  clientKey: string;
  /** A known_hosts file holding the server's real host key. */
  knownHosts: string;
  /** A known_hosts file holding a DIFFERENT key for this host and port (a "changed host key"). */
  wrongKnownHosts: string;
  /** `ssh://<user>@127.0.0.1:<port><absPath>`. */
  url(absPath: string): string;
  /** sshd's own log (-e), for diagnosing failures. */
  log(): string;
  close(): Promise<void>;
}

export interface SshdOptions {
  /** Protect the client key with this passphrase (written through stdin-free ssh-keygen -N; test setup only). */
  passphrase?: string;
}

/** Starts sshd; throws with the install hint when openssh-server is missing. */
export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`test prerequisite missing: ${SSHD}; ${HINT}`);
  const dir = createScratchDir("fetchit-sshd-");
  const keygen = (file: string, pass = "") => runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", pass, "-C", "fetchit-test", "-f", join(dir, file)]);
  await Promise.all([keygen("host_key"), keygen("other_host_key"), keygen("client_key", opts.passphrase)]);
  const pub = (f: string) => readFileSync(join(dir, `${f}.pub`), "utf8").trim();
  const user = (await runOk(["id", "-un"])).trim(); // os.userInfo().username is "unknown" under Bun
  writeFileSync(join(dir, "authorized_keys"), `restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" ${pub("client_key")}\n`, { mode: 0o600 });
  chmodSync(join(dir, "client_key"), 0o600);
  const port = await freePort();
  const entry = (key: string) => `[127.0.0.1]:${port} ${pub(key).split(" ").slice(0, 2).join(" ")}\n`;
  writeFileSync(join(dir, "known_hosts"), entry("host_key"));
  writeFileSync(join(dir, "wrong_known_hosts"), entry("other_host_key"));
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `AllowUsers ${user}`,
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  const proc = Bun.spawn([SSHD, "-D", "-e", "-f", config], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  void pump(proc, (s) => (out += s));
  await waitListening(port, proc, () => out);
  return {
    port,
    dir,
    clientKey: join(dir, "client_key"),
    knownHosts: join(dir, "known_hosts"),
    wrongKnownHosts: join(dir, "wrong_known_hosts"),
    url: (absPath) => `ssh://${user}@127.0.0.1:${port}${absPath}`,
    log: () => out,
    close: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

async function pump(proc: Subprocess<"ignore", "pipe", "pipe">, add: (s: string) => void): Promise<void> {
  const read = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) add(dec.decode(chunk));
  };
  await Promise.all([read(proc.stdout), read(proc.stderr)]);
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function waitListening(port: number, proc: Subprocess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within 10 s: ${log()}`);
}
