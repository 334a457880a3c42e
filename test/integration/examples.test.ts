/** Every file under examples/ is loaded by the real config loader; the raw and filetransfer examples are applied for real. */
import { beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/index.ts";
import { harness, ROOT } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

const EXAMPLES = join(ROOT, "examples");
/** Where the ansible example's playbook writes (instead of /etc/motd.d). */
const MOTD_DIR = join(tempDir("fetchit-example-motd-"), "motd.d");
let podman: TestPodman;
let remote: TestRemote;

/** The example repository content, as files for createRemote. */
function exampleRepo(dir = join(EXAMPLES, "repo"), prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + e.name;
    if (e.isDirectory()) Object.assign(out, exampleRepo(join(dir, e.name), rel + "/"));
    else out[rel] = readFileSync(join(dir, e.name), "utf8");
  }
  return out;
}

beforeAll(async () => {
  podman = await sharedPodman();
  await podman.reset();
  await podman.cli(["tag", podman.image, "docker.io/library/busybox:latest"]);
  const repo = exampleRepo();
  repo["ansible/motd.yml"] = repo["ansible/motd.yml"]!.replace("motd_dir: /etc/motd.d", `motd_dir: ${MOTD_DIR}`);
  remote = await createRemote(repo);
}, 60_000);

test("every example config validates", () => {
  const configs = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));
  expect(configs.length).toBeGreaterThanOrEqual(3);
  for (const f of configs) {
    const r = loadConfigFile(join(EXAMPLES, f));
    expect({ file: f, issues: r.issues }).toEqual({ file: f, issues: [] });
  }
});

test("the raw example runs its containers, port mapping included", async () => {
  const text = readFileSync(join(EXAMPLES, "raw-config.yaml"), "utf8").replace(/url: .*/, `url: ${remote.url}`);
  const h = harness(podman, text);
  expect((await h.cli("sync")).code).toBe(0);
  const names = (await podman.cli(["ps", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();
  expect(names).toEqual(["hello", "web"]);
  const res = await fetch(`http://${podman.publishedHost}:18080/`);
  expect(res.status).toBe(404); // busybox httpd answering from the empty web-content volume
  const env = (await podman.cli(["container", "inspect", "--format", "{{json .Config.Env}}", "hello"])).trim();
  expect(env).toContain("GREETING=hello from fetchit");
  await podman.reset();
});

test("the filetransfer example copies the example files", async () => {
  const dest = join(tempDir("fetchit-example-ft-"), "edge-app");
  const text = readFileSync(join(EXAMPLES, "filetransfer-config.yaml"), "utf8")
    .replace(/url: .*/, `url: ${remote.url}`)
    .replace(/destinationDirectory: .*/, `destinationDirectory: ${dest}`);
  const h = harness(undefined, text);
  expect((await h.cli("sync")).code).toBe(0);
  expect(readFileSync(join(dest, "motd.txt"), "utf8")).toBe(exampleRepo()["files/motd.txt"]!);
  expect(readFileSync(join(dest, "conf.d/app.conf"), "utf8")).toBe(exampleRepo()["files/conf.d/app.conf"]!);
});

test("the ansible example runs its playbook on this host with the host's ansible-playbook", async () => {
  const text = readFileSync(join(EXAMPLES, "ansible-config.yaml"), "utf8").replace(/url: .*/, `url: ${remote.url}`);
  const h = harness(undefined, text);
  expect((await h.cli("sync")).code).toBe(0);
  expect(readFileSync(join(MOTD_DIR, "edge"), "utf8")).toBe("This host is managed by fetchit (ansible example).\n");
});

test("the FetchIt-compatible example warns about spellings and unavailable features, and runs the rest (images, prune included)", async () => {
  const dest = join(tempDir("fetchit-example-compat-"), "ft");
  const text = readFileSync(join(EXAMPLES, "fetchit-compat-config.yaml"), "utf8")
    .replace(/url: .*/, `url: ${remote.url}`)
    .replace(/destinationDirectory: .*/, `destinationDirectory: ${dest}`)
    .replace("pullImage: true", "pullImage: false");
  const h = harness(podman, text);
  const v = await h.cli("validate");
  expect(v.code).toBe(0);
  expect(v.out.filter((l) => l.startsWith("warning:")).length).toBe(3);
  // systemd and podmanAutoUpdate need systemd as PID 1, which this machine lacks: test/systemd/ runs them in a real systemd.
  const noSystemd = text.replace(/ {4}systemd:\n( {6}.*\n)+/, "").replace(/podmanAutoUpdate:\n( {2}.*\n)+/, "");
  expect(noSystemd).not.toMatch(/systemd:|podmanAutoUpdate/);
  const r = await harness(podman, noSystemd).cli("sync");
  expect(r.code).toBe(0);
  const ran = r.out.map((l) => l.split(" @ ")[0]!.split(" ").at(-1));
  expect(ran).toEqual(expect.arrayContaining(["raw/raw-ex", "filetransfer/ft-ex", "images/app-image", "prune/prune"]));
  expect(r.out.find((l) => l.includes("images/app-image"))).toMatch(/^skipped .*source unavailable/); // nothing serves localhost:8000
  expect(readFileSync(join(dest, "motd.txt"), "utf8")).toContain("managed by fetchit");
  await podman.reset();
});
