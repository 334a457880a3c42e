/** The image loader (top-level images[]) against the real Podman service and a real HTTP server. */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runTask } from "../../src/engine/run-task.ts";
import { hostExec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { collectingLogger } from "../unit/helpers.ts";
import { saveArchive, serveArchives as serve, tempLeftovers, type ArchiveServer } from "../support/archives.ts";
import { harness, waitFor } from "../support/fetchit.ts";
import { spawnFetchit } from "../support/process.ts";
import { tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
let dir: string;
let seq = 0;
const servers: ArchiveServer[] = [];

beforeAll(async () => {
  podman = await sharedPodman();
  dir = tempDir("fetchit-images-");
});
beforeEach(() => podman.reset());
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

const archive = (file: string, ref: string, format?: string, gzip?: boolean) => saveArchive(podman, file, ref, format, gzip);
/** An archive server stopped after the test. */
function serveArchives(files: Record<string, string>): ArchiveServer {
  const s = serve(files);
  servers.push(s);
  return s;
}

/** A unique repository name for the test image, so its load is observable. */
const uniq = () => `localhost/fetchit-it/img-${process.pid}-${++seq}`;

async function exists(ref: string): Promise<boolean> {
  return podman.cli(["image", "exists", ref]).then(() => true, () => false);
}

/** An images: config; each entry's keys are written as given, with a 5-second schedule. */
function imagesYaml(entries: Record<string, string>[]): string {
  const items = entries.map((e) => Object.entries(e).map(([k, v], i) => `${i ? "    " : "  - "}${k}: ${v}`).join("\n"));
  return `images:\n${items.map((i) => `${i}\n    schedule: "*/5 * * * * *"`).join("\n")}\n`;
}

/** Engine deps with a collecting logger and the task `name` of `yaml`, for runs as the daemon makes them (runTask). */
function direct(yaml: string, stateDir: string, name: string) {
  const log = collectingLogger();
  const fs = createHostFs();
  const deps = { podman: createPodmanClient(podman.socketPath), fs, exec: hostExec, state: createStateStore(fs, stateDir), log };
  const task = buildJobs(parseConfig(yaml, "t").config!, stateDir, log).tasks.find((t) => t.key.method === name)!;
  return { deps, log, task };
}

/** The sync output line of images entry `name`. */
const line = (out: string[], name: string) => out.find((l) => l.includes(` images/${name} `)) ?? `(no line for ${name} in ${JSON.stringify(out)})`;

async function status(h: ReturnType<typeof harness>, name: string): Promise<any> {
  const all = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods;
  return all.find((m: any) => m.kind === "images" && m.method === name);
}

describe("images from a URL", () => {
  test("loads once, answers 304 when unchanged, reloads a changed archive, keeps the image while the server is down", async () => {
    const ref = uniq();
    const file = join(dir, `web-${seq}.tar`);
    await archive(file, `${ref}:v1`);
    const srv = serveArchives({ "web.tar": file });
    const h = harness(podman, imagesYaml([{ name: "web", url: srv.url("web.tar") }]));
    let r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(line(r.out, "web")).toStartWith("applied   (images) images/web");
    expect(await exists(`${ref}:v1`)).toBe(true);
    expect(srv.counts).toEqual({ 200: 1 });

    r = await h.cli("sync");
    expect(line(r.out, "web")).toStartWith("unchanged");
    expect(srv.counts).toEqual({ 200: 1, 304: 1 });

    await archive(file, `${ref}:v2`);
    r = await h.cli("sync");
    expect(line(r.out, "web")).toStartWith("applied");
    expect(await exists(`${ref}:v2`)).toBe(true);
    expect(srv.counts).toEqual({ 200: 2, 304: 1 });
    const st = await status(h, "web");
    expect(st.target).toBe("(images)");
    expect(st.resources).toEqual([{ file: srv.url("web.tar"), name: `${ref}:v2`, hash: expect.stringMatching(/^sha256=[0-9a-f]{64}&etag=/) }]);
    expect(tempLeftovers(h.stateDir)).toEqual([]);

    srv.stop();
    r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(line(r.out, "web")).toMatch(/^skipped .*source unavailable: cannot reach http:\/\/127\.0\.0\.1/);
    expect(await exists(`${ref}:v2`)).toBe(true);
    const after = await status(h, "web");
    expect([after.consecutiveFailures, after.lastError]).toEqual([0, null]);
    expect(after.resources[0].name).toBe(`${ref}:v2`);
  });

  test("a server that is down is reported once (warn), then only at debug; never as a failure", async () => {
    const srv = serveArchives({});
    const url = srv.url("gone.tar");
    srv.stop();
    const { deps, log, task } = direct(imagesYaml([{ name: "gone", url }]), tempDir("fetchit-images-state-"), "gone");
    const results = [await runTask(task, deps), await runTask(task, deps), await runTask(task, deps)];
    expect(results.map((r) => r.status)).toEqual(["skipped", "skipped", "skipped"]);
    const lines = log.lines.filter((l) => l.msg.startsWith("image archive unavailable"));
    expect(lines.map((l) => l.level)).toEqual(["warn", "debug", "debug"]);
    expect(log.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  test("same content from a server without validators is downloaded but not loaded again", async () => {
    const ref = uniq();
    const file = join(dir, `plain-${seq}.tar`);
    await archive(file, `${ref}:v1`);
    const srv = serveArchives({ "p.tar": file });
    const h = harness(podman, imagesYaml([{ name: "p", url: srv.url("plain/p.tar") }]));
    expect(line((await h.cli("sync")).out, "p")).toStartWith("applied");
    expect(line((await h.cli("sync")).out, "p")).toStartWith("unchanged");
    expect(srv.counts).toEqual({ 200: 2 });
  });

  test("an image removed from Podman is loaded again although the archive is unchanged", async () => {
    const ref = uniq();
    const file = join(dir, `again-${seq}.tar`);
    await archive(file, `${ref}:v1`);
    const srv = serveArchives({ "a.tar": file });
    const h = harness(podman, imagesYaml([{ name: "a", url: srv.url("a.tar") }]));
    await h.cli("sync");
    await podman.cli(["rmi", `${ref}:v1`]);
    expect(line((await h.cli("sync")).out, "a")).toStartWith("applied");
    expect(await exists(`${ref}:v1`)).toBe(true);
    expect(srv.counts).toEqual({ 200: 2 });
  });
});

describe("images from a host path", () => {
  test("loads; unchanged or merely touched is not loaded again; a changed file is; a removed file keeps the image", async () => {
    const ref = uniq();
    const file = join(dir, `usb-${seq}.tar`);
    await archive(file, `${ref}:v1`);
    const h = harness(podman, imagesYaml([{ name: "usb", imagePath: file }]));
    expect(line((await h.cli("sync")).out, "usb")).toStartWith("applied");
    expect(await exists(`${ref}:v1`)).toBe(true);
    expect(line((await h.cli("sync")).out, "usb")).toStartWith("unchanged");

    const future = new Date(Date.now() + 60_000);
    utimesSync(file, future, future);
    expect(line((await h.cli("sync")).out, "usb")).toStartWith("unchanged");
    expect((await status(h, "usb")).resources[0].hash).toContain(`mtimeMs=${statSync(file).mtimeMs}`);

    await archive(file, `${ref}:v2`);
    expect(line((await h.cli("sync")).out, "usb")).toStartWith("applied");
    expect(await exists(`${ref}:v2`)).toBe(true);

    rmSync(file);
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(line(r.out, "usb")).toContain(`source unavailable: ${file} does not exist`);
    expect(await exists(`${ref}:v2`)).toBe(true);
    expect((await status(h, "usb")).resources[0].name).toBe(`${ref}:v2`);
  });

  test("a relative imagePath on a device that is not mounted waits (skipped, not failed)", async () => {
    const h = harness(podman, imagesYaml([{ name: "dev", imagePath: "images/app.tar", device: "/dev/fetchit-no-such-device" }]));
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(line(r.out, "dev")).toContain("device /dev/fetchit-no-such-device is not mounted (fetchit does not mount devices");
  });
});

describe("archive formats and bad archives", () => {
  test("gzip docker-archive, oci-archive and gzip oci-archive all load", async () => {
    const [a, b, c] = [uniq(), uniq(), uniq()];
    const files = [join(dir, `a-${seq}.tar.gz`), join(dir, `b-${seq}.tar`), join(dir, `c-${seq}.tar.gz`)] as const;
    await archive(files[0], `${a}:gz`, "docker-archive", true);
    await archive(files[1], `${b}:oci`, "oci-archive");
    await archive(files[2], `${c}:ocigz`, "oci-archive", true);
    const srv = serveArchives({ "b.tar": files[1] });
    const h = harness(podman, imagesYaml([{ name: "a", imagePath: files[0] }, { name: "b", url: srv.url("b.tar") }, { name: "c", imagePath: files[2] }]));
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith("applied")).length).toBe(3);
    expect([await exists(`${a}:gz`), await exists(`${b}:oci`), await exists(`${c}:ocigz`)]).toEqual([true, true, true]);
    expect(tempLeftovers(h.stateDir)).toEqual([]);
  });

  test("a corrupt archive fails naming its source; the other image still loads; the same archive is not retried by the daemon", async () => {
    const ref = uniq();
    const good = join(dir, `good-${seq}.tar`);
    const bad = join(dir, `bad-${seq}.tar`);
    await archive(good, `${ref}:v1`);
    writeFileSync(bad, "this is not an image archive\n".repeat(100));
    const yaml = imagesYaml([{ name: "good", imagePath: good }, { name: "bad", imagePath: bad }]);
    const h = harness(podman, yaml);
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    expect(line(r.out, "bad")).toStartWith("failed    (images) images/bad");
    expect(line(r.out, "good")).toStartWith("applied");
    expect(await exists(`${ref}:v1`)).toBe(true);
    const st = await status(h, "bad");
    expect(st.lastError.message).toBe(`image archive ${bad}: not a docker-archive or oci-archive image archive (Podman: payload does not match any of the supported image formats)`);
    expect(st.lastError.retryable).toBe(false);

    const { deps, log, task } = direct(yaml, h.stateDir, "bad");
    expect((await runTask(task, deps)).status).toBe("failed");
    expect((await runTask(task, deps)).status).toBe("skipped");
    expect(log.lines.filter((l) => l.level === "error")).toEqual([]); // same error as recorded by sync: debug only
    writeFileSync(bad, "still broken, but differently\n");
    expect((await runTask(task, deps)).status).toBe("failed"); // a new version is tried again (same message: still debug only)
    expect(log.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  test("an entry removed from the config loses its state record; its image stays", async () => {
    const [a, b] = [uniq(), uniq()];
    const [fa, fb] = [join(dir, `ra-${seq}.tar`), join(dir, `rb-${seq}.tar`)];
    await archive(fa, `${a}:v1`);
    await archive(fb, `${b}:v1`);
    const h = harness(podman, imagesYaml([{ name: "ra", imagePath: fa }, { name: "rb", imagePath: fb }]));
    expect((await h.cli("sync")).code).toBe(0);
    h.writeConfig(imagesYaml([{ name: "ra", imagePath: fa }]));
    expect((await h.cli("sync")).out.length).toBe(1);
    expect([await status(h, "ra"), await status(h, "rb")].map((st) => st?.method)).toEqual(["ra", undefined]);
    expect(await exists(`${b}:v1`)).toBe(true);
  });

  test("--method images/NAME syncs only that loader", async () => {
    const [a, b] = [uniq(), uniq()];
    const fa = join(dir, `ma-${seq}.tar`);
    const fb = join(dir, `mb-${seq}.tar`);
    await archive(fa, `${a}:v1`);
    await archive(fb, `${b}:v1`);
    const h = harness(podman, imagesYaml([{ name: "ma", imagePath: fa }, { name: "mb", imagePath: fb }]));
    const r = await h.cli("sync", "--method", "images/mb");
    expect(r.out.length).toBe(1);
    expect([await exists(`${a}:v1`), await exists(`${b}:v1`)]).toEqual([false, true]);
  });
});

test("the daemon loads at start and again, on its schedule, once the archive changes", async () => {
  const ref = uniq();
  const file = join(dir, `daemon-${seq}.tar`);
  await archive(file, `${ref}:v1`);
  const srv = serveArchives({ "d.tar": file });
  const h = harness(podman, `images:\n  - name: d\n    url: ${srv.url("d.tar")}\n    schedule: "* * * * * *"\n`);
  const proc = spawnFetchit(["run", ...h.flags()], podman.env);
  try {
    await waitFor("the first load", () => exists(`${ref}:v1`), 20_000);
    await waitFor("a conditional GET answered 304", () => (srv.counts[304] ?? 0) > 0, 10_000);
    await archive(file, `${ref}:v2`);
    await waitFor("the reload", () => exists(`${ref}:v2`), 20_000);
  } finally {
    expect(await proc.stop()).toBe(0);
  }
  expect(proc.output()).not.toContain("ERROR");
}, 60_000);
