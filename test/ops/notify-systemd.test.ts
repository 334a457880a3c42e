/**
 * sd_notify as systemd sees it, without systemd: `fetchit run` as a real
 * process with NOTIFY_SOCKET on a unix datagram receiver (python3; Bun has no
 * datagram sockets) gets READY=1, a STATUS= line after each run, WATCHDOG=1
 * pings at half of WATCHDOG_USEC (none when WATCHDOG_PID names another
 * process). The watchdog's scheduler heartbeat against a real Scheduler
 * (croner): alive while jobs fire, not alive once the schedules die.
 * (The same in a real systemd: test/packaging/notify.test.ts.)
 */
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { SchedulerHeartbeat, watchdogIntervalMs } from "../../src/host/watchdog.ts";
import { silentLogger } from "../../src/log.ts";
import { StatusLine } from "../../src/notify/sd-status.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { harness, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";

/** A unix datagram receiver: prints each message (newlines as "|") with a ms timestamp. */
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    m = s.recv(4096).decode().replace("\\n", "|")
    print("%d %s" % (int(time.time() * 1000), m), flush=True)
`;

function receiver() {
  if (!Bun.which("python3")) throw new Error("python3 is missing (the sd_notify receiver); run `bash test/support/prepare.sh`");
  const sock = join(tempDir("fetchit-sdn-"), "notify.sock");
  const proc = Bun.spawn(["python3", "-c", RECEIVER, sock], { stdout: "pipe", stderr: "inherit" });
  const msgs: { at: number; text: string }[] = [];
  let bound = false;
  void (async () => {
    for await (const chunk of proc.stdout) {
      for (const l of new TextDecoder().decode(chunk).split("\n").filter(Boolean)) {
        if (l === "bound") bound = true;
        else msgs.push({ at: Number(l.slice(0, l.indexOf(" "))), text: l.slice(l.indexOf(" ") + 1) });
      }
    }
  })();
  return { sock, msgs, ready: () => waitFor("receiver bound", () => bound), stop: () => proc.kill() };
}

let running: FetchitProcess | undefined;
let rx: ReturnType<typeof receiver> | undefined;
afterEach(async () => {
  await running?.stop("SIGKILL");
  running = undefined;
  rx?.stop();
});

async function runWith(env: Record<string, string>) {
  const remote = await createRemote({ "files/a.txt": "a\n" });
  const dest = join(tempDir("fetchit-sdn-dest-"), "out");
  const methods =
    `    filetransfer:\n      - name: good\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n` +
    `      - name: broken\n        targetPath: files\n        destinationDirectory: /proc/fetchit-cannot-write\n        schedule: "* * * * * *"\n`;
  const h = harness(undefined, targetConfig(remote.url, methods));
  rx = receiver();
  await rx.ready();
  running = spawnFetchit(["run", ...h.flags()], { NOTIFY_SOCKET: rx.sock, ...env });
  return rx;
}

test("READY=1, then STATUS= after each run with ok/failing counts and the failing method", async () => {
  const r = await runWith({});
  await waitFor("READY=1", () => r.msgs.some((m) => m.text.startsWith("READY=1")));
  const status = await waitFor("a STATUS with both results", () =>
    r.msgs.find((m) => /^STATUS=2 method\(s\): 1 ok, 1 failing \(t1\/filetransfer\/broken: .+\), last tick \d\d:\d\d:\d\d UTC$/.test(m.text)),
  );
  expect(status!.text).not.toContain("|");
  expect(r.msgs.some((m) => m.text.startsWith("WATCHDOG=1"))).toBe(false);
});

test("WATCHDOG_USEC: WATCHDOG=1 at half the interval; WATCHDOG_PID of another process: no pings", async () => {
  const r = await runWith({ WATCHDOG_USEC: "1000000" });
  await waitFor("5 pings", () => r.msgs.filter((m) => m.text === "WATCHDOG=1").length >= 5, 15_000);
  const pings = r.msgs.filter((m) => m.text === "WATCHDOG=1").map((m) => m.at);
  const gaps = pings.slice(1).map((t, i) => t - pings[i]!);
  for (const g of gaps) expect(g).toBeLessThan(1_000); // every 500 ms; systemd would kill after 1 s without one
  expect(await running!.stop()).toBe(0);
  running = undefined;
  r.stop();

  const r2 = await runWith({ WATCHDOG_USEC: "1000000", WATCHDOG_PID: "1" });
  await waitFor("READY=1", () => r2.msgs.some((m) => m.text.startsWith("READY=1")));
  await Bun.sleep(2_000);
  expect(r2.msgs.filter((m) => m.text === "WATCHDOG=1")).toEqual([]);
}, 40_000);

test("watchdogIntervalMs: half of WATCHDOG_USEC, for this PID only", () => {
  expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42)).toBe(15_000);
  expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(15_000);
  expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 42)).toBeUndefined();
  expect(watchdogIntervalMs({}, 42)).toBeUndefined();
  expect(watchdogIntervalMs({ WATCHDOG_USEC: "x" }, 42)).toBeUndefined();
});

test("the scheduler heartbeat: alive while a real scheduler fires its jobs, not alive once it stopped", async () => {
  const sched = new Scheduler(silentLogger);
  const started = new Map<string, number>();
  for (const id of ["a", "b"]) sched.add({ id, pattern: "* * * * * *", run: async () => void started.set(id, Date.now()) }, false);
  const beats = () => sched.info().map((j) => ({ ...j, lastStart: started.get(j.id) }));
  const hb = new SchedulerHeartbeat(500);
  const owner = {};
  for (let i = 0; i < 6; i++) {
    expect(hb.check(owner, beats())).toBeUndefined();
    await Bun.sleep(700);
  }
  await sched.stop(); // the crons are gone: nothing fires any more
  let problem: string | undefined;
  for (let i = 0; i < 6 && !problem; i++) {
    await Bun.sleep(700);
    problem = hb.check(owner, beats());
  }
  expect(problem).toBe("job a has no next run (its schedule stopped)");
}, 20_000);

test("the scheduler heartbeat: a job that stays scheduled but does not fire at its due time is reported", () => {
  const hb = new SchedulerHeartbeat(500);
  const due = new Date(Date.now() + 1_000);
  expect(hb.check("d", [{ id: "a", running: false, nextRun: due, lastStart: Date.now() - 5_000 }])).toBeUndefined();
  // 2 s later croner still claims the same future-looking next run was never reached, and no run started
  const later = due.getTime() + 1_000;
  expect(hb.check("d", [{ id: "a", running: false, nextRun: new Date(later + 1_000), lastStart: Date.now() - 5_000 }], later)).toMatch(/^job a was due at .* and did not run$/);
  // a run in flight across the due time is fine (the scheduler skipped the overlapping tick)
  const hb2 = new SchedulerHeartbeat(500);
  hb2.check("d", [{ id: "a", running: true, nextRun: due, lastStart: Date.now() - 5_000 }]);
  expect(hb2.check("d", [{ id: "a", running: false, nextRun: new Date(later + 1_000), lastStart: Date.now() - 5_000, lastEnd: due.getTime() + 200 }], later)).toBeUndefined();
});

test("StatusLine: counts, the first failure shortened, jobs not run yet, forgets removed jobs", () => {
  const s = new StatusLine();
  const job = (m: string) => ({ key: { target: "web", kind: "raw", method: m }, kind: "raw" });
  s.record(job("a"), { status: "applied", changed: 1, failures: [] }, Date.UTC(2026, 0, 1, 10, 2, 3));
  s.record(job("b"), { status: "failed", changed: 0, failures: [{ file: "raw/b.json", error: new Error("image not found: " + "x".repeat(100)) }] }, 0);
  const line = s.render(["web/raw/a", "web/raw/b", "web/raw/c"]);
  expect(line).toStartWith("3 method(s): 1 ok, 1 failing (web/raw/b: raw/b.json: image not found: xxx");
  expect(line).toEndWith("…), 1 not run yet, last tick 10:02:03 UTC");
  s.record(job("b"), { status: "skipped", changed: 0, failures: [] }, Date.UTC(2026, 0, 1, 10, 2, 5));
  expect(s.render(["web/raw/a", "web/raw/b"])).toContain("1 failing"); // a skipped run keeps the verdict
  expect(s.render(["web/raw/a"])).toBe("1 method(s): 1 ok, last tick 10:02:03 UTC");
});
