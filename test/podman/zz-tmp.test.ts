import { test, expect } from "bun:test";
import { sharedPodman } from "../support/podman.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
test("t", async () => {
  const p = await sharedPodman();
  const c = createPodmanClient(p.socketPath);
  const { id } = await c.createContainer({ image: p.image, command: ["sleep", "30"] });
  await c.startContainer(id);
  const t0 = performance.now();
  try {
    const r = await fetch(`http://d/v4.0.0/libpod/containers/${id}/wait`, { method: "POST", unix: p.socketPath, signal: AbortSignal.timeout(300) });
    console.log("status", r.status, performance.now() - t0);
  } catch (e: any) { console.log("ERR", e.name, performance.now() - t0); }
  try { await c.request("POST", `/containers/${id}/wait`, { timeoutMs: 300 }); } catch (e: any) { console.log("ERR2", e.message, performance.now() - t0); }
}, 20000);
