/** retryBusy: Podman 4.3's transient "device or resource busy" on removal is tried again; nothing else is. */
import { describe, expect, test } from "bun:test";
import { PodmanApiError } from "../../src/errors.ts";
import { retryBusy } from "../../src/podman/transport.ts";

const busy = () =>
  new PodmanApiError("DELETE /libpod/pods/crash: 500 Internal Server Error: unlinkat /x/userdata/shm: device or resource busy", 500, "DELETE /libpod/pods/crash");

describe("retryBusy", () => {
  test("busy twice, then done: three tries, the result returned", async () => {
    let calls = 0;
    const started = Date.now();
    const out = await retryBusy(async () => {
      if (++calls < 3) throw busy();
      return "removed";
    });
    expect(out).toBe("removed");
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400); // 0.5 s + 1 s apart
  });

  test("busy every time: the third error is thrown", async () => {
    let calls = 0;
    await expect(retryBusy(async () => { calls++; throw busy(); })).rejects.toThrow("device or resource busy");
    expect(calls).toBe(3);
  });

  test("any other error is thrown at once", async () => {
    let calls = 0;
    const other = new PodmanApiError("DELETE /libpod/pods/x: 500 Internal Server Error: no such pod", 500, "DELETE /libpod/pods/x");
    await expect(retryBusy(async () => { calls++; throw other; })).rejects.toBe(other);
    expect(calls).toBe(1);
  });
});
