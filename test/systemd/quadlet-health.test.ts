/**
 * Health gate of the quadlet method in systemd 257 with Podman 5.4 (the
 * compiled binary's `fetchit sync` inside the testbed, as root): a .container
 * whose container runs for 4 s and then exits passes the apply's own start
 * check but fails the gate; a long-running one passes after the window.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { repoInside, SETUP_TIMEOUT, withTestbed } from "../support/systemd.ts";
import { QUADLET_IMAGE, startQuadletTestbed, type QuadletTestbed } from "../support/quadlet.ts";

let tb: QuadletTestbed;
withTestbed(startQuadletTestbed, (t) => void (tb = t));

const container = (cmd: string) => `[Container]\nImage=${QUADLET_IMAGE}\nExec=sh -c "${cmd}"\nRunInit=true\n[Service]\nRestart=on-failure\nRestartSec=1\n`;

describe("quadlet health gate (root)", () => {
  const repo = "/srv/quadlet-health-repo";
  const configFile = "/srv/quadlet-health.yaml";
  beforeAll(async () => {
    const url = await repoInside(tb, repo, { "q/ok.container": container("sleep 1000") });
    const entry = '      - name: apps\n        targetPath: q\n        root: true\n        schedule: "*/5 * * * *"\n        health:\n          window: 6s\n          rollback: false\n';
    await tb.writeFile(configFile, `targetConfigs:\n  - name: q\n    url: ${url}\n    branch: main\n    quadlet:\n${entry}`);
  }, SETUP_TIMEOUT);

  test("a long-running container passes after the window", async () => {
    const t0 = Date.now();
    const r = await tb.sync(configFile);
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(6000);
    expect(`${r.stdout}\n${r.stderr}`).toContain("health gate passed");
  }, 180_000);

  test("a .container that exits 4 s after starting fails the gate, with the journal", async () => {
    await tb.writeFile(`${repo}/q/bad.container`, container("sleep 4; echo quadlet-dies-55; exit 9"));
    await tb.execOk(["sh", "-c", 'cd "$1" && git add -A && git -c user.name=t -c user.email=t@t.invalid commit -q -m bad', "sh", repo]);
    const r = await tb.sync(configFile);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.code).toBe(1);
    expect(out).toContain("q/bad.container: health gate: unit bad.service");
    expect(out).toContain("quadlet-dies-55");
  }, 180_000);
});
