/**
 * Errors that come from this host are never the commit's fault, through the
 * compiled binary: a bad path, a permission, a missing tool. Each is
 * reported with what to fix on the host, recorded as retryable (never "this
 * commit will not be retried"), and once the host is fixed the same commit
 * applies with no new commit pushed.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, fetchitBinary } from "../support/binary.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { gpgKey, signedCommit, stopAgent } from "../support/signing.ts";
import { SETUP_TIMEOUT } from "../support/systemd.ts";
import { runOk } from "../support/exec.ts";

beforeAll(async () => void (await ensureBinary()), SETUP_TIMEOUT);

const ft = (dest: string) => `    filetransfer:\n      - name: ft\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * *"\n`;
const config = (url: string, extra: string) => `targetConfigs:\n  - name: t1\n    url: ${url}\n    branch: main\n${extra}`;

/** A working directory with `cfg.yaml`, and `fetchit sync` / `status --json` run from it. */
function setup(yaml: string) {
  const cwd = tempDir("fetchit-local-");
  writeFileSync(join(cwd, "cfg.yaml"), yaml);
  const flags = ["--config", "cfg.yaml", "--state-dir", "st"];
  return {
    cwd,
    sync: async (opts: { env?: Record<string, string>; prefix?: string[] } = {}) => {
      const r = await fetchitBinary(["sync", ...flags], { cwd, ...opts });
      return { code: r.code, output: r.output };
    },
    status: async () => JSON.parse((await fetchitBinary(["status", "--json", "--state-dir", "st"], { cwd })).stdout).methods[0],
  };
}

/** What every local failure must look like: the host named as the cause, retried, never blamed on the commit. */
async function expectLocalFailure(r: { code: number; output: string }, s: ReturnType<typeof setup>, advice: string) {
  expect(r.code).toBe(1);
  expect(r.output).toContain(advice);
  expect(r.output).toContain("not applied: the cause is on this host, not in the commit; fix it there");
  expect(r.output).not.toContain("will not be retried");
  const st = await s.status();
  expect(st.lastError).toMatchObject({ retryable: true });
  expect(st.nextRetryAt).not.toBeNull();
  expect(st.appliedCommit).toBeNull();
}

describe("local errors, through the compiled binary", () => {
  test("a path: destinationDirectory under a regular file", async () => {
    const remote = await createRemote({ "files/a.txt": "a\n" });
    const s = setup(config(remote.url, ft("blocker/out")));
    writeFileSync(join(s.cwd, "blocker"), "a file where a directory should be\n");
    await expectLocalFailure(await s.sync(), s, "a part of the path is not a directory; correct the path");
    rmSync(join(s.cwd, "blocker"));
    expect(await s.sync()).toMatchObject({ code: 0 });
    expect(readFileSync(join(s.cwd, "blocker", "out", "a.txt"), "utf8")).toBe("a\n");
    expect((await s.status()).lastError).toBeNull();
  });

  test("a permission: a destination directory fetchit may not write (root without CAP_DAC_OVERRIDE)", async () => {
    const remote = await createRemote({ "files/a.txt": "a\n" });
    const s = setup(config(remote.url, ft("locked/out")));
    mkdirSync(join(s.cwd, "locked"), { mode: 0o555 });
    chmodSync(join(s.cwd, "locked"), 0o555);
    const noOverride = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"];
    await expectLocalFailure(await s.sync({ prefix: noOverride }), s, "permission denied; check the owner and mode of the path for the user fetchit runs as");
    chmodSync(join(s.cwd, "locked"), 0o755);
    expect(await s.sync({ prefix: noOverride })).toMatchObject({ code: 0 });
    expect(readFileSync(join(s.cwd, "locked", "out", "a.txt"), "utf8")).toBe("a\n");
  });

  test("a missing tool: gpg not installed for a verified target", async () => {
    const alice = await gpgKey("Alice", "alice@example.com");
    const remote = await createRemote();
    await signedCommit(remote, { "files/a.conf": "signed\n" }, "signed", alice);
    await stopAgent(alice.home);
    const s = setup(config(remote.url, `    verifyCommitsInfo:\n      gpgKeyring: ${alice.publicFile}\n${ft("out")}`));
    const bin = join(s.cwd, "bin"); // a PATH with git only
    mkdirSync(bin);
    symlinkSync((await runOk(["sh", "-c", "command -v git"])).trim(), join(bin, "git"));
    await expectLocalFailure(await s.sync({ env: { PATH: bin } }), s, "cannot run gpg");
    expect((await s.status()).lastError.message).toContain("install GnuPG");
    expect(await s.sync()).toMatchObject({ code: 0 });
    expect(readFileSync(join(s.cwd, "out", "a.conf"), "utf8")).toBe("signed\n");
  });
});
