import { describe, expect, test } from "bun:test";
import { MethodError } from "../../src/errors.ts";
import { destinationOf } from "../../src/methods/filetransfer.ts";

function refusal(relPath: string): MethodError {
  try {
    destinationOf("/etc/app", relPath);
  } catch (err) {
    expect(err).toBeInstanceOf(MethodError);
    return err as MethodError;
  }
  throw new Error(`destinationOf accepted ${relPath}`);
}

describe("destinationOf", () => {
  test("joins the destination directory and the relative path", () => {
    expect(destinationOf("/etc/app", "motd.txt")).toBe("/etc/app/motd.txt");
    expect(destinationOf("/etc/app", "conf.d/app.conf")).toBe("/etc/app/conf.d/app.conf");
  });

  test("normalises harmless segments that stay inside", () => {
    expect(destinationOf("/etc/app", "./a//b.conf")).toBe("/etc/app/a/b.conf");
    expect(destinationOf("/etc/app", "a/../b.conf")).toBe("/etc/app/b.conf");
  });

  test("a name that merely starts with dots is fine", () => {
    expect(destinationOf("/etc/app", "..hidden")).toBe("/etc/app/..hidden");
    expect(destinationOf("/etc/app", "a/...")).toBe("/etc/app/a/...");
  });

  test("refuses ..", () => {
    const err = refusal("..");
    expect(err.message).toBe("..: path escapes the destination directory /etc/app");
    expect(err.path).toBe("..");
    expect(err.retryable).toBe(false);
  });

  test("refuses paths climbing out", () => {
    expect(refusal("../passwd").message).toBe("../passwd: path escapes the destination directory /etc/app");
    expect(refusal("a/../../b").message).toBe("a/../../b: path escapes the destination directory /etc/app");
    expect(refusal("a/b/../../../etc/shadow").path).toBe("a/b/../../../etc/shadow");
  });

  test("refuses absolute paths", () => {
    expect(refusal("/etc/passwd").message).toBe("/etc/passwd: path escapes the destination directory /etc/app");
    expect(refusal("//x").path).toBe("//x");
  });
});
