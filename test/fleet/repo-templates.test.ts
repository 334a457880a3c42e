/**
 * Repository files ending in .tmpl, rendered with the host's facts, labels and
 * values before a method sees them: filetransfer (names without the suffix,
 * a template error fails that file only, a label change re-renders only the
 * templates) and raw (a container spec from a template) on real Podman.
 */
import { beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
beforeAll(async () => {
  podman = await sharedPodman();
});

const hostBlock = (site: string) => `host:\n  labels:\n    site: ${site}\n`;
const ft = (dest: string) => `    filetransfer:\n      - name: files\n        targetPath: conf\n        destinationDirectory: ${dest}\n        schedule: "*/1 * * * *"\n`;

test("filetransfer: .tmpl files rendered and named without the suffix; an error fails that file only; a label change re-renders only templates", async () => {
  const remote = await createRemote({
    "conf/site.conf.tmpl": "site={{ labels.site }}\narch={{ host.arch }}\n",
    "conf/static.conf.tmpl": "no variables here\n",
    "conf/plain.txt": "{{ not rendered }}\n",
  });
  const dest = join(tempDir("fetchit-tmpl-"), "out");
  const h = harness(undefined, hostBlock("lab") + targetConfig(remote.url, ft(dest)));
  expect((await h.cli("sync")).code).toBe(0);
  expect(readFileSync(join(dest, "site.conf"), "utf8")).toBe(`site=lab\narch=${process.arch === "arm64" ? "arm64" : "amd64"}\n`);
  expect(readFileSync(join(dest, "plain.txt"), "utf8")).toBe("{{ not rendered }}\n");
  expect(existsSync(join(dest, "site.conf.tmpl"))).toBe(false);
  const inode = (f: string) => statSync(join(dest, f)).ino;
  const before = { site: inode("site.conf"), stat: inode("static.conf"), plain: inode("plain.txt") };

  // labels change: only the template whose rendering changed is written again
  h.writeConfig(hostBlock("shop-7") + targetConfig(remote.url, ft(dest)));
  const r = await h.cli("sync");
  expect(r.code).toBe(0);
  expect(readFileSync(join(dest, "site.conf"), "utf8")).toStartWith("site=shop-7\n");
  expect(inode("site.conf")).not.toBe(before.site);
  expect(inode("static.conf")).toBe(before.stat);
  expect(inode("plain.txt")).toBe(before.plain);

  // an undefined variable: that file fails with its name, line and variable; the others apply
  await remote.commit({ "conf/bad.conf.tmpl": "ok\nport={{ values.port }}\n", "conf/plain.txt": "v2\n" });
  const bad = await h.cli("sync");
  expect(bad.code).toBe(1);
  const status = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
  expect(status.lastError.message).toContain("conf/bad.conf.tmpl: template line 2, column 9: undefined variable \"values.port\"");
  expect(readFileSync(join(dest, "plain.txt"), "utf8")).toBe("v2\n");
  expect(existsSync(join(dest, "bad.conf"))).toBe(false);
});

test("raw: app.json.tmpl is a raw spec; its container follows the labels; plan shows the rendered result", async () => {
  await podman.reset();
  const spec = JSON.stringify({ Image: podman.image, Name: "web-{{ labels.site }}", Command: SLEEPER, Env: { SITE: "{{ labels.site }}", HOST: "{{ host.hostname }}" } });
  const remote = await createRemote({ "raw/app.json.tmpl": spec });
  const raw = `    raw:\n      - name: apps\n        targetPath: raw\n        glob: "*.json"\n        schedule: "*/1 * * * *"\n`;
  const h = harness(podman, hostBlock("lab") + targetConfig(remote.url, raw));
  expect((await h.cli("sync")).code).toBe(0);
  const env = JSON.parse(await podman.cli(["container", "inspect", "--format", "{{json .Config.Env}}", "web-lab"])) as string[];
  expect(env).toContain("SITE=lab");
  const id = (await podman.cli(["container", "inspect", "--format", "{{.Id}}", "web-lab"])).trim();
  expect((await h.cli("sync")).code).toBe(0); // unchanged rendering: the container stays
  expect((await podman.cli(["container", "inspect", "--format", "{{.Id}}", "web-lab"])).trim()).toBe(id);
  h.writeConfig(hostBlock("shop") + targetConfig(remote.url, raw));
  const plan = await h.cli("plan");
  expect(plan.out.join("\n")).toContain("app.json.tmpl");
  expect(plan.out.some((l) => l.startsWith("      | "))).toBe(true); // the rendering is shown under the item
  expect(plan.out.join("\n")).toContain('"SITE":"shop"');
  const json = JSON.parse((await h.cli("plan", "--json")).out.join("\n"));
  expect(JSON.stringify(json)).toContain('\\"SITE\\":\\"shop\\"');
  expect((await h.cli("sync")).code).toBe(0);
  const names = (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean);
  expect(names).toEqual(["web-shop"]);
  await podman.reset();
}, 120_000);
