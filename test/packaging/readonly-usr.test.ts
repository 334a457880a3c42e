/**
 * The compiled daemon on a read-only /usr, as on an OSTree/bootc host or an
 * image-based system: in a private mount namespace (`unshare -m`) the whole
 * root file system is remounted read-only — /usr, /etc, /var, this checkout,
 * the binary — except one directory holding an /etc-like config dir, a
 * /var-like state dir, the destination and TMPDIR. `fetchit sync` and
 * `fetchit run` apply a filetransfer target from a file:// repository there
 * and exit 0: fetchit writes nothing outside its state dir and the
 * destinations at run time.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/exec.ts";
import { waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { ensureBinary, SETUP_TIMEOUT } from "../support/systemd.ts";

/** sh script run in the namespace: `rw` stays writable, everything else on / turns read-only, then "$@" runs. */
const READ_ONLY_ROOT = [
  'rw=$1; shift',
  'mount --bind "$rw" "$rw"',
  "mount -o remount,bind,ro /",
  // The mounts the harness relies on are really there.
  'if touch /usr/.fetchit-probe 2>/dev/null || touch /etc/.fetchit-probe 2>/dev/null || touch /var/.fetchit-probe 2>/dev/null; then echo "/ is writable" >&2; exit 90; fi',
  'touch "$rw/.probe" || exit 91',
  'exec "$@"',
].join("\n");

function readOnlyRoot(rw: string, cmd: string[]): string[] {
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_ROOT, "sh", rw, ...cmd];
}

describe("the compiled daemon with / (and so /usr) read-only", () => {
  let binary: string;
  let remote: TestRemote;
  beforeAll(async () => {
    if (process.getuid?.() !== 0 || !Bun.which("unshare")) {
      throw new Error("the read-only /usr test needs root and unshare (util-linux) for a mount namespace");
    }
    binary = await ensureBinary();
    remote = await createRemote({ "files/app.conf": "setting = 1\n", "files/sub/more.txt": "more\n" });
  }, SETUP_TIMEOUT);

  function layout() {
    const rw = tempDir("fetchit-ro-");
    const etc = join(rw, "etc", "fetchit");
    const dest = join(rw, "srv", "app");
    mkdirSync(etc, { recursive: true });
    mkdirSync(join(rw, "tmp"));
    const config = join(etc, "config.yaml");
    writeFileSync(
      config,
      `targetConfigs:\n  - name: t\n    url: ${remote.url}\n    branch: main\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/2 * * * * *"\n`,
    );
    const flags = ["--config", config, "--state-dir", join(rw, "var", "lib", "fetchit"), "--log-format", "json"];
    return { rw, dest, flags, env: { TMPDIR: join(rw, "tmp"), FETCHIT_CONFIG: undefined } };
  }

  test("fetchit sync applies a filetransfer target and exits 0", async () => {
    const l = layout();
    const res = await run(readOnlyRoot(l.rw, [binary, "sync", ...l.flags]), { env: l.env });
    expect(res.stderr).not.toContain("Read-only file system");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("applied");
    expect(readFileSync(join(l.dest, "app.conf"), "utf8")).toBe("setting = 1\n");
    expect(readFileSync(join(l.dest, "sub", "more.txt"), "utf8")).toBe("more\n");
    // The state it recorded is read back by status (outside the namespace).
    const status = await run([binary, "status", "--json", ...l.flags]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(await remote.head());
  });

  test("fetchit run applies, follows a new commit, and stops cleanly on SIGTERM", async () => {
    const l = layout();
    const proc = Bun.spawn(readOnlyRoot(l.rw, [binary, "run", ...l.flags]), {
      env: { ...process.env, ...l.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    try {
      await waitFor("the first apply", () => existsSync(join(l.dest, "app.conf")), 20_000);
      await remote.commit({ "files/app.conf": "setting = 2\n" });
      await waitFor("the second commit", () => readFileSync(join(l.dest, "app.conf"), "utf8") === "setting = 2\n", 20_000);
    } finally {
      proc.kill("SIGTERM");
    }
    const code = await proc.exited;
    const [stdout, stderr] = await output;
    expect(stdout + stderr).not.toContain("Read-only file system");
    expect(stdout + stderr).not.toContain('"level":"error"');
    expect(code).toBe(0);
  });
});
