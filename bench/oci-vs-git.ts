/**
 * Scenario 6: what one no-change tick and one small update cost over OCI and
 * over git, against the same kind of local servers: Debian's docker-registry
 * and git's smart HTTP (git http-backend), each behind the same counting
 * front (requests, bytes up and down). The same tree (N small YAML files) is
 * pushed with `fetchit push`'s library and committed to git; the update
 * changes one file. Each side is read through its GitSource, as the engine
 * reads it: fetch (+ diff and the changed blob for the update).
 */
import { pushDirectory, createOciSource } from "../src/oci/index.ts";
import { createGitSource, type GitSource } from "../src/git/index.ts";
import { silentLogger } from "../src/log.ts";
import { createRemote, tempDir } from "../test/support/git.ts";
import { serveHttp } from "../test/support/git-http.ts";
import { startFront, type RegistryFront } from "../test/support/registry-front.ts";
import { startRegistry } from "../test/support/registry.ts";
import { tree } from "../test/oci/support.ts";
import type { BenchOptions, Row, ScenarioResult } from "./lib.ts";

interface Cost {
  requests: number;
  down: number;
  up: number;
  ms: number;
}

const files = (n: number, version: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`apps/app-${i}.yaml`, `name: app-${i}\nimage: registry.example/app:${i === 0 ? version : "1"}\nreplicas: 2\n`]));

async function measure(front: RegistryFront, fn: () => Promise<unknown>): Promise<Cost> {
  const mark = front.seen.length;
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  const seen = front.seen.slice(mark);
  return { requests: seen.length, down: seen.reduce((n, s) => n + s.bytes, 0), up: seen.reduce((n, s) => n + s.up, 0), ms };
}

/** One update as the engine reads it: fetch, diff from the previous head, read each changed blob. */
async function update(source: GitSource, from: string): Promise<void> {
  const to = await source.fetch();
  for (const c of await source.diff(from, to, { targetPath: "" })) if (c.blob) await source.readBlob(c.blob);
}

export async function ociVsGit(o: BenchOptions): Promise<ScenarioResult> {
  const n = o.quick ? 10 : 50;
  // git: smart HTTP behind the front.
  const remote = await createRemote(files(n, "1"));
  const http = await serveHttp(remote.dir);
  const gitFront = startFront(new URL(http.url).host);
  const git = createGitSource({ url: http.url.replace(new URL(http.url).host, gitFront.host), branch: "main", cacheDir: tempDir("bench-git-"), log: silentLogger, reuseMs: 0 });
  // OCI: docker-registry behind the front.
  const reg = await startRegistry();
  const ociFront = startFront(reg.host);
  const url = `oci://${ociFront.host}/bench/config:prod`;
  const dir = tree(files(n, "1"));
  await pushDirectory(dir, url, { tlsVerify: false });
  const state = tempDir("bench-oci-");
  const oci = createOciSource({ url, cacheDir: state, tmpDir: `${state}/tmp`, log: silentLogger, reuseMs: 0, tlsVerify: false, env: { HOME: state } });
  try {
    const g0 = await git.fetch();
    const o0 = await oci.fetch();
    const gitTick = await measure(gitFront, () => git.fetch());
    const ociTick = await measure(ociFront, () => oci.fetch());
    await remote.commit({ "apps/app-0.yaml": files(1, "2")["apps/app-0.yaml"]! });
    await pushDirectory(tree(files(n, "2")), url, { tlsVerify: false });
    const gitUpdate = await measure(gitFront, () => update(git, g0));
    const ociUpdate = await measure(ociFront, () => update(oci, o0));
    const rows: Row[] = [];
    for (const [what, c] of [["git no-change tick", gitTick], ["OCI no-change tick", ociTick], ["git small update", gitUpdate], ["OCI small update", ociUpdate]] as const) {
      rows.push({ what: `${what}: requests`, value: c.requests, unit: "" }, { what: `${what}: bytes down / up`, value: c.down, unit: `B down, ${c.up} B up` }, { what: `${what}: time`, value: Math.round(c.ms), unit: "ms" });
    }
    return { scenario: "oci-vs-git", rows, detail: { files: n, layerBytes: ociFront.seen.filter((s) => s.path.includes("/blobs/")).map((s) => s.bytes) } };
  } finally {
    gitFront.stop();
    ociFront.stop();
    await http.close();
    await reg.stop();
  }
}

if (import.meta.main) {
  const { printTable, writeResult } = await import("./lib.ts");
  const r = await ociVsGit({ quick: Bun.argv.includes("--quick") });
  printTable(r);
  writeResult("oci-vs-git.json", { ...r, at: new Date().toISOString() });
}
