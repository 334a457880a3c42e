/**
 * Every path a user gives, relative, through the compiled binary, each case
 * from its own working directory: flags (--config, --state-dir,
 * --podman-socket) and the config's host paths (destinationDirectory, a
 * local repository, a disconnected bundle, gpgKeyring, sshAllowedSigners,
 * an SSH key file, host.valuesFile) are resolved against that directory once, at start.
 * Where a relative path makes no sense (unitDirectory), validate says so.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { packRepo } from "../support/archives.ts";
import { ensureBinary, fetchitBinary } from "../support/binary.ts";
import { SLEEPER } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { withSharedPodman, type TestPodman } from "../support/podman.ts";
import { allowedSigners, gpgKey, signedCommit, sshKey, stopAgent } from "../support/signing.ts";
import { startSshd, type TestSshd } from "../support/sshd.ts";
import { SETUP_TIMEOUT } from "../support/systemd.ts";

let podman: TestPodman;
withSharedPodman((p) => (podman = p));
let sshd: TestSshd;
beforeAll(async () => {
  [sshd] = await Promise.all([startSshd(), ensureBinary()]);
}, SETUP_TIMEOUT);
afterAll(async () => {
  await sshd?.close();
});

const SCHED = 'schedule: "*/5 * * * *"';
const ft = (dest: string) => `    filetransfer:\n      - name: ft\n        targetPath: files\n        destinationDirectory: ${dest}\n        ${SCHED}\n`;
const target = (url: string, extra = "") => `targetConfigs:\n  - name: t1\n    url: ${url}\n    branch: main\n${extra}`;

/** A fresh working directory holding `cfg.yaml`; files maps relative names to content. */
function workDir(config: string, files: Record<string, string> = {}): string {
  const cwd = tempDir("fetchit-cwd-");
  writeFileSync(join(cwd, "cfg.yaml"), config);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(cwd, name)), { recursive: true });
    writeFileSync(join(cwd, name), text);
  }
  return cwd;
}

/** `fetchit sync` from `cwd` with relative flags only. */
async function sync(cwd: string, ...more: string[]) {
  const r = await fetchitBinary(["sync", "--config", "cfg.yaml", "--state-dir", "st", ...more], { cwd, env: podman.env });
  return { code: r.code, output: r.output };
}

async function status(cwd: string, stateDir = "st") {
  const r = await fetchitBinary(["status", "--json", "--state-dir", stateDir], { cwd });
  return JSON.parse(r.stdout).methods[0];
}

describe("relative paths, through the compiled binary", () => {
  test("--config, --state-dir, a local repository and destinationDirectory: resolved against the working directory", async () => {
    const remote = await createRemote({ "files/a.txt": "hello\n" });
    const cwd = workDir("");
    writeFileSync(join(cwd, "cfg.yaml"), target(relative(cwd, remote.dir), ft("out"))); // url: ../fetchit-remote-…
    expect(await sync(cwd)).toMatchObject({ code: 0 });
    expect(readFileSync(join(cwd, "out", "a.txt"), "utf8")).toBe("hello\n");
    const st = await status(cwd);
    expect(st.appliedCommit).toBe(await remote.head());
    expect(st.resources.map((r: { name: string }) => r.name)).toEqual([join(cwd, "out", "a.txt")]);
    // ./st is the same state dir: nothing to do.
    const again = await fetchitBinary(["sync", "--config", "./cfg.yaml", "--state-dir", "./st"], { cwd });
    expect({ code: again.code, output: again.output }).toMatchObject({ code: 0 });
    expect(again.output).not.toContain("applying commit");
  });

  test("--podman-socket: a relative socket path reaches Podman", async () => {
    const remote = await createRemote({ "raw/app.json": JSON.stringify({ Image: podman.image, Name: "relsock-app", Command: SLEEPER }) });
    const raw = `    raw:\n      - name: r\n        targetPath: raw\n        ${SCHED}\n`;
    const cwd = workDir(target(remote.url, raw));
    expect(await sync(cwd, "--podman-socket", relative(cwd, podman.socketPath))).toMatchObject({ code: 0 });
    expect(await podman.cli(["container", "inspect", "--format", "{{.State.Running}}", "relsock-app"])).toContain("true");
  });

  test("a disconnected bundle and destinationDirectory: relative to the working directory", async () => {
    const repo = await createRemote({ "files/b.txt": "from the bundle\n" });
    const cwd = workDir(`targetConfigs:\n  - name: usb\n    disconnected: true\n    url: media/repo.bundle\n${ft("out")}`);
    mkdirSync(join(cwd, "media"));
    await packRepo(repo.dir, "bundle", join(cwd, "media", "repo.bundle"));
    expect(await sync(cwd)).toMatchObject({ code: 0 });
    expect(readFileSync(join(cwd, "out", "b.txt"), "utf8")).toBe("from the bundle\n");
  });

  test("gpgKeyring: relative to the working directory; from another directory it is missing, a host problem retried", async () => {
    const alice = await gpgKey("Alice", "alice@example.com");
    const remote = await createRemote();
    await signedCommit(remote, { "files/a.conf": "signed\n" }, "signed", alice);
    await stopAgent(alice.home);
    const config = target(remote.url, `    verifyCommitsInfo:\n      gpgKeyring: trust/keys.asc\n${ft("out")}`);
    const cwd = workDir(config, { "trust/keys.asc": readFileSync(alice.publicFile, "utf8") });
    expect(await sync(cwd)).toMatchObject({ code: 0 });
    expect(readFileSync(join(cwd, "out", "a.conf"), "utf8")).toBe("signed\n");

    const other = workDir(config);
    const r = await sync(other);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`verifyCommitsInfo.gpgKeyring: ${join(other, "trust/keys.asc")} does not exist`);
    expect(r.output).toContain("the cause is on this host, not in the commit");
    expect(r.output).not.toContain("will not be retried");
    expect((await status(other)).lastError).toMatchObject({ retryable: true });
  });

  test("sshAllowedSigners: relative to the working directory", async () => {
    const bob = await sshKey("bob");
    const remote = await createRemote();
    await signedCommit(remote, { "files/b.conf": "by bob\n" }, "signed by bob", bob);
    const cwd = workDir(target(remote.url, `    verifyCommitsInfo:\n      sshAllowedSigners: ./trust/allowed\n${ft("out")}`), {
      "trust/allowed": readFileSync(allowedSigners({ "bob@example.com": bob }), "utf8"),
    });
    expect(await sync(cwd)).toMatchObject({ code: 0 });
    expect(readFileSync(join(cwd, "out", "b.conf"), "utf8")).toBe("by bob\n");
  });

  test("sshKeyFile given as a relative path: the key and its known_hosts next to it are found", async () => {
    const remote = await createRemote({ "files/c.txt": "over ssh\n" });
    const auth = `    gitAuth:\n      ssh: true\n      sshKeyFile: keys/deploy\n`;
    const cwd = workDir(target(sshd.url(remote.dir), `${auth}${ft("out")}`));
    mkdirSync(join(cwd, "keys"));
    copyFileSync(sshd.clientKey, join(cwd, "keys", "deploy"));
    chmodSync(join(cwd, "keys", "deploy"), 0o600);
    copyFileSync(sshd.knownHosts, join(cwd, "keys", "known_hosts"));
    expect(await sync(cwd)).toMatchObject({ code: 0 });
    expect(readFileSync(join(cwd, "out", "c.txt"), "utf8")).toBe("over ssh\n");
  });

  test("host.valuesFile: relative to the working directory, read by the config's templates", async () => {
    const remote = await createRemote({ "files/v.txt": "values\n" });
    const cwd = workDir(`host:\n  valuesFile: conf/values.yaml\n${target(remote.url, ft("'{{ values.out }}'"))}`, { "conf/values.yaml": "out: rendered\n" });
    expect(await sync(cwd)).toMatchObject({ code: 0 });
    expect(readFileSync(join(cwd, "rendered", "v.txt"), "utf8")).toBe("values\n");
  });

  test("validate: a relative unitDirectory is an error naming the key; relative host paths are valid", async () => {
    const bad = workDir(target("https://example.com/r.git", `    systemd:\n      - name: u\n        targetPath: units\n        unitDirectory: units\n        ${SCHED}\n`));
    const r = await fetchitBinary(["validate", "--config", "cfg.yaml"], { cwd: bad });
    expect(r.code).toBe(1);
    expect(r.output).toContain('targetConfigs[0].systemd[0].unitDirectory: must be an absolute host path, got "units": systemd reads units only from fixed directories');
    const good = workDir(target("https://example.com/r.git", ft("out")));
    const ok = await fetchitBinary(["validate", "--config", "cfg.yaml"], { cwd: good });
    expect({ code: ok.code, output: ok.output }).toMatchObject({ code: 0 });
    expect(existsSync(join(good, "st"))).toBe(false);
  });
});
