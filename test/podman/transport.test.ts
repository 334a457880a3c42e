import { describe, expect, test } from "bun:test";
import { isRetryableFailure, podmanMessage } from "../../src/podman/index.ts";

describe("podmanMessage", () => {
  test("prefers libpod's message, then cause, then the raw text", () => {
    expect(podmanMessage('{"cause":"image not known","message":"x:latest: image not known","response":500}')).toBe(
      "x:latest: image not known",
    );
    expect(podmanMessage('{"cause":"no such pod","response":404}')).toBe("no such pod");
    expect(podmanMessage("  plain failure\n")).toBe("plain failure");
    expect(podmanMessage("x".repeat(600))).toHaveLength(501);
  });
});

describe("isRetryableFailure", () => {
  test("connection failures and gateway statuses are retryable", () => {
    expect(isRetryableFailure(undefined, "ECONNREFUSED")).toBe(true);
    for (const status of [408, 429, 502, 503, 504]) expect(isRetryableFailure(status, "")).toBe(true);
  });

  test("other 4xx never are", () => {
    expect(isRetryableFailure(400, "connection refused")).toBe(false);
    expect(isRetryableFailure(404, "no such container")).toBe(false);
    expect(isRetryableFailure(409, "name is already in use")).toBe(false);
  });

  test("500 depends on Podman's message", () => {
    expect(isRetryableFailure(500, "x:latest: image not known")).toBe(false);
    expect(isRetryableFailure(500, "reading manifest latest in r/x: manifest unknown")).toBe(false);
    expect(isRetryableFailure(500, 'invalid reference format')).toBe(false);
    expect(isRetryableFailure(500, "pinging container registry r: dial tcp: connect: connection refused")).toBe(true);
    expect(isRetryableFailure(500, "playing YAML file: yaml: line 1: did not find expected node content")).toBe(false);
    expect(isRetryableFailure(500, "database is locked")).toBe(true);
    expect(isRetryableFailure(500, "something odd happened")).toBe(true);
  });
});
