/**
 * One thing, one owner: two targets or methods that would manage the same
 * destination file or the same container are refused, naming both owners,
 * and never fight tick after tick (real git, real Podman, `fetchit sync`).
 */
import { beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
beforeAll(async () => {
  podman = await sharedPodman();
});

const target = (name: string, url: string, methods: string) => `  - name: ${name}\n    url: ${url}\n    branch: main\n${methods}`;

test("two targets writing the same destination file: the second is refused with both owners named, every run, without flapping", async () => {
  const a = await createRemote({ "conf/app.conf": "from a\n" });
  const b = await createRemote({ "other/app.conf": "from b\n" });
  const dest = join(tempDir("fetchit-own-"), "etc");
  const ft = (path: string) => `    filetransfer:\n      - name: files\n        targetPath: ${path}\n        destinationDirectory: ${dest}\n        schedule: "*/1 * * * *"\n`;
  const h = harness(undefined, `targetConfigs:\n${target("a", a.url, ft("conf"))}${target("b", b.url, ft("other"))}`);
  const first = await h.cli("sync", "--target", "a");
  expect(first.code).toBe(0);
  for (let i = 0; i < 2; i++) {
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    expect(readFileSync(join(dest, "app.conf"), "utf8")).toBe("from a\n");
  }
  const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods.find((m: { target: string }) => m.target === "b");
  expect(st.lastError.message).toContain(`other/app.conf: would manage file ${join(dest, "app.conf")}, which target a filetransfer/files already manages (app.conf)`);
});

test("two raw methods naming the same container: the second is refused; the first's container is untouched", async () => {
  await podman.reset();
  const spec = JSON.stringify({ Image: podman.image, Name: "shared-name", Command: SLEEPER });
  const remote = await createRemote({ "one/web.json": spec, "two/web.json": spec.replace("sleep", "sleep ") });
  const raw = (n: string) => `      - name: ${n}\n        targetPath: ${n}\n        schedule: "*/1 * * * *"\n`;
  const h = harness(podman, `targetConfigs:\n${target("t", remote.url, `    raw:\n${raw("one")}`)}`);
  expect((await h.cli("sync")).code).toBe(0);
  const id = (await podman.cli(["container", "inspect", "--format", "{{.Id}}", "shared-name"])).trim();
  h.writeConfig(`targetConfigs:\n${target("t", remote.url, `    raw:\n${raw("one")}${raw("two")}`)}`);
  const r = await h.cli("sync");
  expect(r.code).toBe(1);
  expect((await podman.cli(["container", "inspect", "--format", "{{.Id}}", "shared-name"])).trim()).toBe(id);
  const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods.find((m: { method: string }) => m.method === "two");
  expect(st.lastError.message).toContain('two/web.json: would manage raw object "shared-name", which target t raw/one already manages (web.json)');
  await podman.reset();
}, 60_000);
