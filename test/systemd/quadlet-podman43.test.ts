/**
 * The quadlet method on a host whose Podman has no quadlet: this machine's
 * own Podman 4.3 (Debian 12), for real. `fetchit sync` fails with an error
 * naming the version needed and the one found, and places nothing.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/exec.ts";
import { harness, ROOT, targetConfig } from "../support/fetchit.ts";
import { createRemote } from "../support/git.ts";

describe("quadlet with the host's Podman 4.3", () => {
  test("sync fails with 'quadlet needs Podman 4.4 or later; this host has Podman 4.3.x' and places nothing", async () => {
    const v = await run(["podman", "--version"]);
    const found = /(\d+)\.(\d+)\.(\d+)/.exec(v.stdout);
    if (!found) throw new Error(`podman --version gave no version (${v.stderr.trim()}); run \`bash test/support/prepare.sh\``);
    if (Number(found[1]) > 4 || (Number(found[1]) === 4 && Number(found[2]) >= 4)) {
      throw new Error(`this test needs a host Podman older than 4.4 (Debian 12's 4.3); found ${found[0]}`);
    }
    const remote = await createRemote({ "q/web.container": "[Container]\nImage=localhost/fetchit-test/busybox:latest\nExec=httpd -f -p 8080\n" });
    const h = harness(undefined);
    const dest = join(h.dir, "quadlets");
    mkdirSync(dest);
    h.writeConfig(targetConfig(remote.url, `    quadlet:\n      - targetPath: q\n        root: true\n        unitDirectory: ${dest}\n        schedule: "*/5 * * * *"\n`));
    const r = await run([process.execPath, join(ROOT, "src/main.ts"), "sync", ...h.flags()], { env: { FETCHIT_CONFIG: undefined } });
    const text = `${r.stdout}\n${r.stderr}`;
    expect(r.code, text).toBe(1);
    expect(text).toContain(`quadlet needs Podman 4.4 or later; this host has Podman ${found[0]}`);
    expect(text).toContain("not applied: the cause is on this host, not in the commit"); // retried once Podman is upgraded
    expect(readdirSync(dest)).toEqual([]);
  }, 60_000);
});
