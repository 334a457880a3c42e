/**
 * The soak (issue 11): `bun bench/soak/run.ts [--minutes 60]` (default 60;
 * `npm run soak`). Not part of `bun run bench`: it takes the hour.
 *
 * fetchit runs as the packaged fetchit.service inside a real systemd with
 * Podman 5.4 (bench/soak/box.ts) and follows a repository with raw, kube,
 * filetransfer and systemd methods on a 5 s schedule. The host commits every
 * 10 s on average (at a random phase of the schedule), bumping one method's
 * generation in turn. Faults, as they happen on a box nobody visits:
 * fetchit is killed with SIGKILL at a random moment every 2–6 minutes
 * (systemd's Restart=on-failure brings it back), and Podman's API service
 * is stopped for 20 s twice (at 1/3 and 2/3 of the run).
 *
 * Measured: commits missed (a method never showed that generation or a
 * later one; goal 0), duplicates (more than one container or pod of the
 * method at any observation; goal 0), stray files in the output directory,
 * time from commit to the host showing it (p50/p99, per method; the
 * observer looks once a second), and fetchit's RSS and anonymous memory
 * (Private_Dirty) every minute. Results: bench/results/soak.json and
 * soak-journal.txt (fetchit's journal); a table on stdout.
 *
 * `--no-kill`: no SIGKILLs (Podman still stopped twice), so one fetchit
 * process lives the whole hour and its memory a minute shows any growth a
 * kill every few minutes would hide. Results: soak-no-kill.json and
 * soak-no-kill-journal.txt.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, machine, median, percentile, printTable, RESULTS, type Row, writeResult } from "../lib.ts";
import { type Generations, METHODS, type Method, type Observation, startBox } from "./box.ts";

const args = Bun.argv.slice(2);
const minutesAt = args.indexOf("--minutes");
const minutes = minutesAt >= 0 ? Number(args[minutesAt + 1]) : 60;
if (!(minutes > 0)) {
  console.error("soak: --minutes takes a positive number (default 60)");
  process.exit(2);
}
const noKill = args.includes("--no-kill");
const suffix = noKill ? "-no-kill" : "";
const DRAIN_MS = 180_000;
const log = (s: string) => console.log(`${new Date().toISOString()} ${s}`);

interface Commit { n: number; method: Method; gen: number; at: number; appliedAt?: number }
interface MemoryRow { minute: number; pid: number; rssKb: number; privateDirtyKb: number; hwmKb: number; restarts: number }

const bin = await ensureBinary();
const gens: Generations = { raw: 0, kube: 0, filetransfer: 0, systemd: 0 };
log(`starting the box (quadlet testbed), binary ${bin}`);
const box = await startBox(bin, gens);
const commits: Commit[] = [];
const faults: { at: number; what: string }[] = [];
const memory: MemoryRow[] = [];
const maxSeen = { rawContainers: 0, pods: 0 };
const duplicates: { at: number; rawContainers: number; pods: number }[] = [];
const strays = new Map<string, number>();
const seen: Generations = { raw: -1, kube: -1, filetransfer: -1, systemd: -1 };
let observations = 0;
let podmanDownObservations = 0;
let last: Observation | undefined;

const stopObserving = box.observe((o) => {
  observations++;
  last = o;
  if (!o.podmanUp) podmanDownObservations++;
  maxSeen.rawContainers = Math.max(maxSeen.rawContainers, o.rawContainers);
  maxSeen.pods = Math.max(maxSeen.pods, o.pods);
  if (o.rawContainers > 1 || o.pods > 1) duplicates.push({ at: o.at, rawContainers: o.rawContainers, pods: o.pods });
  for (const f of o.strayFiles) strays.set(f, (strays.get(f) ?? 0) + 1);
  for (const m of METHODS) {
    if (o.gen[m] <= seen[m]) continue;
    seen[m] = o.gen[m];
    for (const c of commits) if (c.method === m && c.gen <= o.gen[m] && c.appliedAt === undefined) c.appliedAt = o.at;
  }
});

async function sampleMemory(minute: number): Promise<void> {
  const pid = await box.mainPid();
  const restarts = Number(await box.tb.show("fetchit.service", "NRestarts")) || 0;
  if (!pid) return void memory.push({ minute, pid: 0, rssKb: 0, privateDirtyKb: 0, hwmKb: 0, restarts });
  const text = await box.sh(`cat /proc/${pid}/status /proc/${pid}/smaps_rollup 2>/dev/null || true`);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  memory.push({ minute, pid, rssKb: kb("VmRSS"), privateDirtyKb: kb("Private_Dirty"), hwmKb: kb("VmHWM"), restarts });
  const m = memory.at(-1)!;
  log(`minute ${minute}: pid ${pid} RSS ${(m.rssKb / 1024).toFixed(1)} MB, Private_Dirty ${(m.privateDirtyKb / 1024).toFixed(1)} MB, restarts ${restarts}, commits ${commits.length}, applied ${commits.filter((c) => c.appliedAt).length}`);
}

async function until(what: string, ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) {
      log(`still waiting for ${what} after ${ms / 1000} s`);
      return false;
    }
    await Bun.sleep(500);
  }
  return true;
}

const start = Date.now();
const end = start + minutes * 60_000;
let nextKill = noKill ? Infinity : start + (120 + Math.random() * 240) * 1000;
const podmanStops = [start + (minutes * 60_000) / 3, start + (2 * minutes * 60_000) / 3];
let nextMinute = start;
let minute = 0;
try {
  if (!(await until("generation 0 applied everywhere", () => METHODS.every((m) => seen[m] >= 0), 300_000))) throw new Error(`generation 0 never showed; last observation ${JSON.stringify(last)}`);
  log(`generation 0 applied (${((Date.now() - start) / 1000).toFixed(0)} s after start); soaking for ${minutes} min`);
  let k = 0;
  const firstCommit = Date.now();
  let nextCommit = firstCommit;
  while (Date.now() < end) {
    const now = Date.now();
    if (now >= nextMinute) {
      await sampleMemory(minute++);
      nextMinute += 60_000;
    }
    if (now >= nextCommit) {
      const method = METHODS[k % METHODS.length]!;
      gens[method] = ++k;
      const at = await box.commit(gens, `commit ${k}: ${method} to generation ${k}`);
      commits.push({ n: k, method, gen: k, at });
      // Every 10 s on average, at a random phase of the 5 s schedule: a fixed
      // phase would add the same wait to every commit's latency.
      nextCommit = firstCommit + k * 10_000 + Math.random() * 5_000;
    }
    if (now >= nextKill) {
      const pid = await box.mainPid();
      if (pid) {
        await box.sh(`kill -9 ${pid}`);
        faults.push({ at: Date.now(), what: `SIGKILL fetchit (pid ${pid})` });
        log(`killed fetchit pid ${pid} with SIGKILL`);
      }
      nextKill = Date.now() + (120 + Math.random() * 240) * 1000;
    }
    if (podmanStops.length && now >= podmanStops[0]!) {
      podmanStops.shift();
      await box.sh("systemctl stop podman.socket podman.service");
      faults.push({ at: Date.now(), what: "Podman API stopped (podman.socket, podman.service)" });
      log("stopped Podman's API for 20 s");
      setTimeout(() => {
        void box.sh("systemctl start podman.socket").then(() => faults.push({ at: Date.now(), what: "Podman API started" }));
      }, 20_000);
    }
    await Bun.sleep(250);
  }
  log(`last commit ${commits.length}; waiting up to ${DRAIN_MS / 1000} s for it to show`);
  await until("the last generations to show", () => METHODS.every((m) => seen[m] >= gens[m]), DRAIN_MS);
  await sampleMemory(minute);
} finally {
  stopObserving();
  const journal = await box.sh("journalctl -u fetchit.service --no-pager -o short-iso").catch((e: unknown) => String(e));
  writeFileSync(join(RESULTS, `soak${suffix}-journal.txt`), journal);
  const restarts = Number(await box.tb.show("fetchit.service", "NRestarts").catch(() => "0"));
  await box.stop();
  report(journal, restarts);
}

function report(journal: string, restarts: number): void {
  const applied = commits.filter((c) => c.appliedAt !== undefined);
  const lat = applied.map((c) => c.appliedAt! - c.at);
  const missed = commits.filter((c) => c.appliedAt === undefined);
  const pd = memory.filter((m) => m.pid).map((m) => m.privateDirtyKb / 1024);
  const rss = memory.filter((m) => m.pid).map((m) => m.rssKb / 1024);
  const lines = journal.split("\n");
  const rows: Row[] = [
    { what: `commits (one every 10 s for ${minutes} min)`, value: commits.length, unit: "" },
    { what: "missed commits", value: missed.length, unit: "", target: "0", ok: missed.length === 0 },
    { what: "observations with a duplicate container or pod", value: duplicates.length, unit: "", target: "0", ok: duplicates.length === 0 },
    { what: "stray files seen in the output directory (distinct names)", value: strays.size, unit: "" },
    { what: "commit → shown on the host, p50", value: median(lat) / 1000, unit: "s" },
    { what: "commit → shown on the host, p99", value: percentile(lat, 99) / 1000, unit: "s" },
    { what: "commit → shown on the host, max", value: Math.max(...lat) / 1000, unit: "s" },
    ...METHODS.map((m) => ({ what: `${m}: p50 / p99`, value: median(lat.filter((_, i) => applied[i]!.method === m)) / 1000, unit: `s / ${(percentile(lat.filter((_, i) => applied[i]!.method === m), 99) / 1000).toFixed(1)} s` })),
    { what: "SIGKILLs of fetchit / systemd restarts (NRestarts)", value: faults.filter((f) => f.what.startsWith("SIGKILL")).length, unit: `/ ${restarts}` },
    { what: "Podman API outages (20 s)", value: faults.filter((f) => f.what.startsWith("Podman API stopped")).length, unit: "" },
    { what: "RSS per minute: min / max", value: Math.min(...rss), unit: `MB / ${Math.max(...rss).toFixed(1)} MB` },
    { what: "Private_Dirty per minute: min / max", value: Math.min(...pd), unit: `MB / ${Math.max(...pd).toFixed(1)} MB` },
    { what: "journal lines with \"will not be retried\"", value: lines.filter((l) => l.includes("will not be retried")).length, unit: "" },
    { what: "observer lines (Podman down)", value: observations, unit: `(${podmanDownObservations})` },
  ];
  const kills = noKill ? "no SIGKILL" : "SIGKILL every 2–6 min";
  const result = { scenario: `soak, ${minutes} min: raw, kube, filetransfer, systemd under systemd, ${kills}, Podman stopped twice`, rows };
  printTable(result);
  console.log("\nminute | pid | RSS MB | Private_Dirty MB | VmHWM MB | restarts");
  for (const m of memory) console.log(`${m.minute} | ${m.pid} | ${(m.rssKb / 1024).toFixed(1)} | ${(m.privateDirtyKb / 1024).toFixed(1)} | ${(m.hwmKb / 1024).toFixed(1)} | ${m.restarts}`);
  if (missed.length) console.log(`missed: ${missed.map((c) => `#${c.n} ${c.method}`).join(", ")}; last seen ${JSON.stringify(seen)}`);
  if (strays.size) console.log(`stray files: ${[...strays].map(([f, n]) => `${f} (${n} observations)`).join(", ")}`);
  writeResult(`soak${suffix}.json`, { ...result, machine: machine(), at: new Date().toISOString(), commits, faults, memory, duplicates, strays: Object.fromEntries(strays), seen, final: last });
}
