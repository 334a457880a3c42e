/**
 * Which errors are the host's (local: retried, "fix it on this host") and
 * which are not, on real error objects and git's real messages; a damaged
 * clone told apart from a host problem and from the remote's refusals.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { FetchitError, GitError, isLocal, isRetryable, localAdvice, LocalError, MethodError, PodmanApiError } from "../../src/errors.ts";
import { remoteError } from "../../src/git/fetch.ts";
import { hostProblemAdvice, isDamagedClone, isDamagedMessage } from "../../src/git/local-failure.ts";
import { tempDir } from "../support/git.ts";

const caught = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: unknown) => e)) as Error;

describe("local errors", () => {
  test("errno errors of file operations are local, with the fix; through any cause chain", async () => {
    const file = join(tempDir("fetchit-errno-"), "f");
    writeFileSync(file, "x");
    const notDir = await caught(open(join(file, "child"), "w"));
    expect(localAdvice(notDir)).toBe("a part of the path is not a directory; correct the path");
    const wrapped = new MethodError("cannot place it", "files/a.txt", { cause: notDir });
    expect(isLocal(wrapped)).toBe(true);
    expect(isRetryable(wrapped)).toBe(true);
    expect(localAdvice(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" }))).toBe(
      "the file system is full; free space on it (df -h)",
    );
  });

  test("a program that is not installed is local", () => {
    let err: unknown;
    try {
      Bun.spawn(["fetchit-no-such-program"]);
    } catch (e) {
      err = e;
    }
    expect(localAdvice(err)).toBe("program fetchit-no-such-program is not installed or not in PATH; install it");
  });

  test("marked errors are local and retryable; others keep their own classification", () => {
    expect(new LocalError("x")).toMatchObject({ local: true, retryable: true });
    expect(new GitError("x", { local: true })).toMatchObject({ local: true, retryable: true });
    expect(isLocal(new FetchitError("bad spec"))).toBe(false);
    expect(isLocal(new PodmanApiError("permission denied", 500, "/containers/create"))).toBe(false); // Podman's words, no errno
    expect(isLocal(new Error("EACCES in a message only"))).toBe(false);
    expect(isRetryable(new MethodError("bad field", "raw/a.json"))).toBe(false);
  });
});

describe("git's messages", () => {
  test("a damaged clone", () => {
    for (const m of [
      "fatal: Unable to create '/s/repos/x/shallow.lock': File exists.",
      "error: cannot lock ref 'refs/fetchit/head': Unable to create '/s/refs/fetchit/head.lock': File exists.",
      "fatal: loose object 1234567890123456789012345678901234567890 (stored in /s/objects/12/34) is corrupt",
      "fatal: bad object 1234567890123456789012345678901234567890",
      "fatal: Not a valid object name 1234567890123456789012345678901234567890^{blob}",
      "error: inflate: data stream error (incorrect header check)",
    ]) {
      expect({ m, damaged: isDamagedMessage(m) }).toEqual({ m, damaged: true });
    }
    expect(isDamagedClone(new GitError("git fetch failed", { cause: new Error("fatal: bad object 1234567890123456789012345678901234567890") }))).toBe(true);
  });

  test("host problems, with the fix", () => {
    expect(hostProblemAdvice("fatal: unable to write loose object file: No space left on device")).toBe("the file system is full; free space on it (df -h)");
    expect(hostProblemAdvice("error: insufficient permission for adding an object to repository database ./objects")).toContain("permission denied");
    expect(hostProblemAdvice("fatal: Invalid path '/cwd/st/repos/k/st': No such file or directory")).toContain("check --state-dir");
  });

  test("the remote's refusals are neither: not local, and permanent ones stay permanent", () => {
    const remote = { fetchUrl: "ssh://git@host/r.git", displayUrl: "ssh://git@host/r.git", branch: "main" };
    for (const m of ["git@host: Permission denied (publickey).", "fatal: repository 'https://h/r.git/' not found", "fatal: Authentication failed for 'https://h/r.git/'"]) {
      expect({ m, damaged: isDamagedMessage(m), host: hostProblemAdvice(m) }).toEqual({ m, damaged: false, host: undefined });
      expect(remoteError("fetch", remote, new Error(m))).toMatchObject({ local: false, retryable: false });
    }
    expect(remoteError("fetch", remote, new Error("fatal: write error: No space left on device"))).toMatchObject({ local: true, retryable: true });
  });
});
