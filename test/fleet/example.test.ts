/**
 * examples/fleet: the repository for three sites with waves, and the config
 * every host runs, validated and applied for real: each site's host gets its
 * own files and its own rendering of the one container spec (real git, real
 * Podman; the image and paths pointed at this machine's, nothing else changed).
 */
import { beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/index.ts";
import { harness, ROOT } from "../support/fetchit.ts";
import { createRemote, type TestRemote } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

const FLEET = join(ROOT, "examples", "fleet");
let podman: TestPodman;
let remote: TestRemote;

function tree(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) Object.assign(out, tree(join(dir, e.name), `${prefix}${e.name}/`));
    else out[prefix + e.name] = readFileSync(join(dir, e.name), "utf8");
  }
  return out;
}

beforeAll(async () => {
  podman = await sharedPodman();
  await podman.reset();
  // the example's image, made here: busybox with a command that keeps running
  await podman.cli(["create", "--name", "fleet-app-image", podman.image, "true"]);
  await podman.cli(["commit", "--quiet", "--change", 'CMD ["sleep", "3600"]', "fleet-app-image", "quay.io/example/fleet-app:1.4"]);
  await podman.cli(["rm", "--force", "fleet-app-image"]);
  const files = tree(join(FLEET, "repo"));
  remote = await createRemote(files);
}, 60_000);

test("the fleet config validates as shipped", () => {
  process.env.FLEET_GIT_TOKEN = "token-from-the-environment"; // envSecret names it; the rule checks it is set
  const r = loadConfigFile(join(FLEET, "config.yaml"), undefined, { env: {}, uid: 1000, home: "" });
  delete process.env.FLEET_GIT_TOKEN;
  expect(r.issues).toEqual([]);
  expect(r.config!.rollout).toEqual({ waves: 3, interval: "1h", report: true });
});

test("three sites from one repository: each host its site's files and its own container", async () => {
  for (const site of ["lab", "shop-north", "shop-south"]) {
    await podman.reset();
    // under the Podman service's own dir: the Podman 5 testbed shares it at the same path (the spec bind-mounts it)
    const dir = mkdtempSync(join(podman.dir, "fleet-example-"));
    const dest = join(dir, "etc-fleet-app");
    const valuesFile = join(dir, "values.yaml");
    const text = readFileSync(join(FLEET, "config.yaml"), "utf8")
      .replace(/url: .*/, `url: ${remote.url}`)
      .replace(/^ {4}gitAuth:\n(?: {6}.*\n)+/m, "")
      .replace(/site: lab/, `site: ${site}`)
      .replace(/ {2}# valuesFile: .*/, `  valuesFile: ${valuesFile}`)
      .replace(/window: 30s/, "window: 2s");
    writeFileSync(valuesFile, `appDir: ${dest}\n`);
    const h = harness(podman, text);
    // the spec bind-mounts the destination: it exists before the container starts
    Bun.spawnSync(["mkdir", "-p", dest]);
    const r = await h.cli("sync");
    expect({ site, code: r.code, out: r.out }).toMatchObject({ code: 0 });
    expect(readFileSync(join(dest, "app.conf"), "utf8")).toStartWith(`site=${site}\n`);
    expect(readFileSync(join(dest, "motd"), "utf8")).toContain(`serves ${site}; managed by fetchit.`);
    expect(statSync(join(dest, "motd")).isFile()).toBe(true);
    const env = JSON.parse(await podman.cli(["container", "inspect", "--format", "{{json .Config.Env}}", "fleet-app"])) as string[];
    expect(env).toContain(`SITE=${site}`);
    expect(env).toContain("GREETING=hello from fetchit");
  }
  await podman.reset();
}, 180_000);
