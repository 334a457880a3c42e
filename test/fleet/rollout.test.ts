/** Wave arithmetic (pure): label first, else a stable hash of the machine id; due once the commit is old enough. */
import { expect, test } from "bun:test";
import { hostWave, waveDecision } from "../../src/engine/rollout.ts";

const host = (machineId: string, hostname = "h") => ({ hostname, machineId, arch: "amd64", os: { id: "debian", versionId: "12" }, user: "root" });

test("the wave label wins, capped to the last wave; waves: 1 is everyone at once", () => {
  expect(hostWave({ labels: { wave: 2 }, host: host("a") }, 4)).toEqual({ wave: 2, source: "label wave=2" });
  expect(hostWave({ labels: { wave: "3" }, host: host("a") }, 4).wave).toBe(3);
  expect(hostWave({ labels: { wave: 9 }, host: host("a") }, 4).wave).toBe(3);
  expect(hostWave({ labels: { wave: 9 }, host: host("a") }, 1).wave).toBe(0);
});

test("without a label, machine ids spread over every wave, stably", () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 400; i++) counts[hostWave({ labels: {}, host: host(`machine-${i}`) }, 4).wave]!++;
  for (const c of counts) expect(c).toBeGreaterThan(60); // 100 expected each
  const id = "3d1219c7c4c5404aaa1f6d2a48adfda4";
  expect(hostWave({ labels: {}, host: host(id) }, 4)).toEqual(hostWave({ labels: { site: "x" }, host: host(id, "other") }, 4));
  expect(hostWave({ labels: { wave: "canary" }, host: host(id) }, 4).source).toBe("hash of machine-id");
});

test("wave w is due w × interval after the commit time", () => {
  const r = { waves: 4, intervalMs: 30_000, report: false };
  const t0 = Date.parse("2026-12-01T10:00:00Z");
  const d = waveDecision({ labels: { wave: 2 }, host: host("a") }, r, t0, t0 + 59_999);
  expect(d).toEqual({ wave: 2, dueAt: t0 + 60_000, due: false, source: "label wave=2" });
  expect(waveDecision({ labels: { wave: 2 }, host: host("a") }, r, t0, t0 + 60_000).due).toBe(true);
  expect(waveDecision({ labels: { wave: 0 }, host: host("a") }, r, t0, t0 - 5_000).due).toBe(true); // clock skew: wave 0 never waits
});

test("config: rollout at the top level and per target (the target wins key by key); bad or missing intervals are errors at their path", async () => {
  const { parseConfig } = await import("../../src/config/index.ts");
  const { resolveRollout } = await import("../../src/config/rollout.ts");
  const ft = (d: string) => `    filetransfer:\n      - targetPath: t\n        destinationDirectory: ${d}\n        schedule: "*/1 * * * *"\n`;
  const ok = parseConfig(`rollout:\n  waves: 4\n  interval: 30m\ntargetConfigs:\n  - url: file:///x\n    branch: main\n    rollout:\n      interval: 45\n      report: true\n${ft("/a")}`, "c.yaml", { env: {}, uid: 1000, home: "" });
  expect(ok.issues).toEqual([]);
  expect(resolveRollout(ok.config!.rollout, ok.config!.targetConfigs[0]!.rollout)).toEqual({ waves: 4, intervalMs: 45_000, report: true });
  expect(resolveRollout(ok.config!.rollout, undefined)).toEqual({ waves: 4, intervalMs: 1_800_000, report: false });
  expect(resolveRollout(undefined, undefined)).toBeUndefined();
  const bad = parseConfig(`rollout:\n  waves: 4\ntargetConfigs:\n  - url: file:///x\n    branch: main\n    rollout:\n      interval: 2x\n${ft("/a")}  - url: file:///y\n    branch: main\n    rollout:\n      waves: 0\n${ft("/b")}`, "c.yaml", { env: {}, uid: 1000, home: "" });
  expect(bad.issues.map((i) => i.path).sort()).toEqual(["rollout.interval", "targetConfigs[0].rollout.interval", "targetConfigs[1].rollout.waves"]);
});
