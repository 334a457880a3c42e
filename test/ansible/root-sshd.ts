/**
 * A real sshd that lets root in with one key, for FetchIt's ssh-to-host mode
 * of the ansible method: the ansible container reaches this host over SSH as
 * root with the key and ssh config of `sshDirectory`. Listens on `address`
 * (127.0.0.1 for Podman 4's host network; the host's address on the testbed
 * network for Podman 5) and on a free port; killed when the test process ends.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { createScratchDir, onExit, runOk } from "../support/exec.ts";

export interface RootSshd {
  /** A directory to use as `sshDirectory`: id_ed25519 and a config that points `localhost` at this server. */
  sshDirectory: string;
  log(): string;
  close(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  const server = Bun.listen({ hostname: host, port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

const canConnect = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, host, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

/** `sharedDir`: where the ssh directory goes; it must be visible to the Podman service (podman.dir on Podman 5). */
export async function startRootSshd(address: string, sharedDir: string): Promise<RootSshd> {
  if (!existsSync("/usr/sbin/sshd")) throw new Error("sshd is missing: run `bash test/support/prepare.sh` (openssh-server)");
  const dir = createScratchDir("fetchit-ansible-sshd-");
  const ssh = mkdtempSync(join(sharedDir, "ansible-ssh-"));
  chmodSync(ssh, 0o700);
  await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fetchit-ansible-test", "-f", join(ssh, "id_ed25519")]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(ssh, "id_ed25519.pub")), { mode: 0o600 });
  const port = await freePort(address);
  // What FetchIt users put in their ssh directory: the key, and how to reach "localhost".
  writeFileSync(
    join(ssh, "config"),
    `Host localhost\n  HostName ${address}\n  Port ${port}\n  User root\n  IdentityFile /root/.ssh/id_ed25519\n  UserKnownHostsFile /dev/null\n`,
    { mode: 0o600 },
  );
  chmodSync(join(ssh, "id_ed25519"), 0o600);
  const config = join(dir, "sshd_config");
  writeFileSync(config, [
    `Port ${port}`, `ListenAddress ${address}`, `HostKey ${join(dir, "host_key")}`, `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "AllowUsers root", "PermitRootLogin prohibit-password",
    "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
    "Subsystem sftp /usr/lib/openssh/sftp-server", "LogLevel VERBOSE", "",
  ].join("\n"));
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const proc = Bun.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", config], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  onExit(() => proc.kill("SIGKILL"));
  let out = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) out += dec.decode(chunk);
  })();
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port, address))) {
    if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}: ${out}`);
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${address}:${port} within 10 s: ${out}`);
    await Bun.sleep(50);
  }
  return {
    sshDirectory: ssh,
    log: () => out,
    close: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
