/**
 * Scenario 8, large file (issue 16): one file of 300 MiB and 2 GiB (quick:
 * 64 MiB) through filetransfer with the compiled binary, from git and from a
 * tar on a disconnected source, side by side with `git cat-file blob SHA >
 * dest` and `tar -xf` on the same machine in the same run. Peak RSS is
 * VmHWM from /proc/PID/status. The file is text from a fast generator
 * (`yes | head -c`), so making the 2 GiB repository takes minutes, not hours.
 *
 * From git, the clone is made first by a run whose targetPath holds nothing,
 * so the measured run is the apply alone (no fetch), like the baseline. Each
 * measured run starts after a `sync` (no dirty pages of the set-up left);
 * fetchit and the baselines take turns, three rounds, medians reported. Two
 * more rows say where fetchit's time goes: an unchanged `fetchit sync` (the
 * fixed cost of one run: start, config, ls-remote, state) and `dd
 * conv=fdatasync` of as many bytes (made durable with no git: written,
 * then flushed, so without the overlap fetchit has).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HEAD_REF, repoDirFor } from "../src/git/index.ts";
import { run } from "../test/support/archives.ts";
import { bigFile, peakRss, type PeakRun } from "../test/support/big-files.ts";
import { createRemote, tempDir } from "../test/support/git.ts";
import { type BenchOptions, type Row, type ScenarioResult, ensureBinary, median, printTable } from "./lib.ts";

const MiB = 1024 * 1024;
const mb = (kb: number) => kb / 1024;

const ftYaml = (url: string, targetPath: string, dest: string, extra = "") =>
  `targetConfigs:\n  - name: big\n    url: ${url}\n    branch: main\n${extra}    filetransfer:\n      - name: ft-${targetPath}\n        targetPath: ${targetPath}\n        destinationDirectory: ${dest}\n        schedule: "@hourly"\n`;

async function sync(bin: string, dir: string, yaml: string): Promise<PeakRun> {
  writeFileSync(join(dir, "config.yaml"), yaml);
  const r = await peakRss([bin, "sync", "--config", join(dir, "config.yaml"), "--state-dir", join(dir, "state"), "--log-level", "warn"]);
  if (r.code !== 0) throw new Error(`fetchit sync failed (${r.code}): ${r.out}`);
  return r;
}

/** `sh -c "exec CMD > OUT"`: the measured process is CMD itself (exec), its output in a file. */
const shell = (cmd: string) => peakRss(["sh", "-c", `exec ${cmd}`]);

/** `sync` of every file system first: no dirty pages of the set-up (a 2 GiB repository) left to slow the measured run. */
async function settled<T>(measure: () => Promise<T>): Promise<T> {
  await run(["sync"], "/");
  return measure();
}

/** Rounds of the measured runs, interleaved (fetchit, baselines, fetchit, …); the median of each is reported. */
const ROUNDS = 3;

async function fromGit(bin: string, bytes: number, idleKb: number): Promise<{ rows: Row[]; detail: Record<string, unknown> }> {
  const label = `${Math.round(bytes / MiB)} MiB`;
  const remote = await createRemote({ "empty/.keep": "" });
  mkdirSync(join(remote.dir, "files"));
  await bigFile(join(remote.dir, "files", "model.bin"), bytes);
  await remote.commit({}, "big file");
  const dir = tempDir("fetchit-bench-big-");
  const dest = join(dir, "out");
  const plainFile = join(dir, "plain.bin");
  const fetch = await sync(bin, dir, ftYaml(remote.url, "empty", join(dir, "unused")));
  await sync(bin, dir, ftYaml(remote.url, "files", dest));
  const clone = repoDirFor(join(dir, "state", "repos"), remote.url, "main");
  const sha = (await run(["git", "--git-dir", clone, "rev-parse", `${HEAD_REF}:files/model.bin`], "/")).trim();
  const s: Record<string, PeakRun[]> = { apply: [], unchanged: [], plain: [], synced: [], dd: [] };
  for (let i = 0; i < ROUNDS; i++) {
    // A fresh apply: no file at the destination, no record of it (the clone stays, as the baseline's).
    rmSync(dest, { recursive: true, force: true });
    rmSync(join(dir, "state", "state"), { recursive: true, force: true });
    s.apply!.push(await settled(() => sync(bin, dir, ftYaml(remote.url, "files", dest))));
    s.unchanged!.push(await settled(() => sync(bin, dir, ftYaml(remote.url, "files", dest))));
    rmSync(plainFile, { force: true });
    s.plain!.push(await settled(() => shell(`git --git-dir '${clone}' cat-file blob ${sha} > '${plainFile}'`)));
    rmSync(plainFile);
    s.synced!.push(await settled(() => peakRss(["sh", "-c", `git --git-dir '${clone}' cat-file blob ${sha} > '${plainFile}' && sync '${plainFile}'`])));
    rmSync(plainFile);
    // The same number of bytes made durable with no git at all (written, then flushed: no overlap).
    s.dd!.push(await settled(() => shell(`dd if=/dev/zero of='${plainFile}' bs=1M count=${Math.round(bytes / MiB)} conv=fdatasync status=none`)));
    rmSync(plainFile);
  }
  const ms = (k: string) => median(s[k]!.map((r) => r.ms)) / 1000;
  const [apply, fixed, plain, synced, dd] = [ms("apply"), ms("unchanged"), ms("plain"), ms("synced"), ms("dd")];
  const peak = Math.max(...s.apply!.map((r) => r.peakKb));
  const ratio = apply / plain;
  return {
    rows: [
      { what: `git ${label}: fetchit apply (filetransfer, fsync), median of ${ROUNDS}`, value: apply, unit: "s" },
      { what: `git ${label}: fetchit sync, nothing changed (fixed cost of one run)`, value: fixed, unit: "s" },
      { what: `git ${label}: git cat-file blob > dest`, value: plain, unit: "s" },
      { what: `git ${label}: git cat-file blob > dest && sync dest`, value: synced, unit: "s" },
      { what: `git ${label}: dd of as many zeros, conv=fdatasync (write all, then flush; no git)`, value: dd, unit: "s" },
      { what: `git ${label}: fetchit time / git cat-file`, value: ratio, unit: "×", target: "≤ 1.5", ok: ratio <= 1.5 },
      { what: `git ${label}: (fetchit − fixed cost) / git cat-file`, value: (apply - fixed) / plain, unit: "×" },
      { what: `git ${label}: fetchit / (git cat-file && sync)`, value: apply / synced, unit: "×" },
      { what: `git ${label}: (fetchit − fixed cost) / dd conv=fdatasync`, value: (apply - fixed) / dd, unit: "×" },
      { what: `git ${label}: fetchit peak RSS over idle`, value: mb(peak - idleKb), unit: "MiB", target: "≤ 32", ok: peak - idleKb <= 32 * 1024 },
      { what: `git ${label}: git cat-file peak RSS`, value: mb(Math.max(...s.plain!.map((r) => r.peakKb))), unit: "MiB" },
      { what: `git ${label}: fetchit first fetch (git fetch, not streamed by fetchit)`, value: fetch.ms / 1000, unit: "s" },
    ],
    detail: { bytes, rounds: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.map((r) => Math.round(r.ms))])), applyPeakKb: peak, fetchMs: fetch.ms, fetchPeakKb: fetch.peakKb },
  };
}

async function fromTar(bin: string, bytes: number, idleKb: number): Promise<{ rows: Row[]; detail: Record<string, number> }> {
  const label = `${Math.round(bytes / MiB)} MiB`;
  const src = tempDir("fetchit-bench-tree-");
  mkdirSync(join(src, "files"));
  await bigFile(join(src, "files", "model.bin"), bytes);
  const dir = tempDir("fetchit-bench-tar-");
  const tar = join(dir, "models.tar");
  await run(["tar", "-cf", tar, "."], src);
  rmSync(src, { recursive: true });
  const out = join(dir, "x");
  mkdirSync(out);
  const plain = await settled(() => shell(`tar -xf '${tar}' -C '${out}'`));
  rmSync(out, { recursive: true });
  const r = await settled(() => sync(bin, dir, ftYaml(tar, "files", join(dir, "dest"), "    disconnected: true\n")));
  return {
    rows: [
      { what: `tar ${label}: fetchit sync (extract, import into git, filetransfer)`, value: r.ms / 1000, unit: "s" },
      { what: `tar ${label}: tar -xf`, value: plain.ms / 1000, unit: "s" },
      { what: `tar ${label}: fetchit peak RSS over idle`, value: mb(r.peakKb - idleKb), unit: "MiB", target: "≤ 32", ok: r.peakKb - idleKb <= 32 * 1024 },
      { what: `tar ${label}: tar -xf peak RSS`, value: mb(plain.peakKb), unit: "MiB" },
    ],
    detail: { bytes, syncMs: r.ms, syncPeakKb: r.peakKb, tarMs: plain.ms, tarPeakKb: plain.peakKb },
  };
}

export async function largeFile(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const small = await createRemote({ "files/a.txt": "a\n" });
  const idleDir = tempDir("fetchit-bench-idle-");
  const idle = await sync(bin, idleDir, ftYaml(small.url, "files", join(idleDir, "out")));
  const rows: Row[] = [{ what: "idle: fetchit sync of one small file, peak RSS", value: mb(idle.peakKb), unit: "MiB" }];
  const detail: Record<string, unknown> = { idlePeakKb: idle.peakKb };
  const sizes = opts.quick ? [64 * MiB] : (process.env.BENCH_LARGE_SIZES ?? "300,2048").split(",").map((s) => Number(s) * MiB);
  for (const bytes of sizes) {
    const g = await fromGit(bin, bytes, idle.peakKb);
    printTable({ scenario: `8. large file, git, ${bytes / MiB} MiB (so far)`, rows: g.rows });
    const t = await fromTar(bin, bytes, idle.peakKb);
    printTable({ scenario: `8. large file, tar, ${bytes / MiB} MiB (so far)`, rows: t.rows });
    rows.push(...g.rows, ...t.rows);
    detail[`git-${bytes}`] = g.detail;
    detail[`tar-${bytes}`] = t.detail;
  }
  return { scenario: "8. large file", rows, detail };
}
