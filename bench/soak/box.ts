/**
 * The soak's box: a real systemd 257 with Podman 5.4 (the quadlet testbed,
 * test/support/quadlet-testbed.sh), fetchit installed there as the packaged
 * fetchit.service (Type=notify, watchdog, Restart=on-failure) running a copy
 * of the compiled binary, and the repository it follows: a plain git
 * repository in the shared scratch directory, committed to from the host
 * and read inside over file://.
 *
 * The repository declares one generation number N in four methods: a raw
 * container (label soak.gen=N), a kube pod (label soak-gen=N), a file
 * (/srv/soak-out/marker holds N) and a systemd unit (its running process
 * has SOAK_GEN=N in its environment: the unit was restarted, not only
 * rewritten). Commit k bumps the method k mod 4.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "../../test/support/exec.ts";
import { QUADLET_IMAGE, startQuadletTestbed, type QuadletTestbed } from "../../test/support/quadlet.ts";
import { ROOT } from "../lib.ts";

export const METHODS = ["raw", "kube", "filetransfer", "systemd"] as const;
export type Method = (typeof METHODS)[number];
export type Generations = Record<Method, number>;

const SCHEDULE = "*/5 * * * * *";
const OUT_DIR = "/srv/soak-out";
const UNIT = "soak-unit.service";

/** The repository's files for the given generations. */
function files(g: Generations): Record<string, string> {
  const sleeper = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000000 & wait"];
  return {
    "raw/soak-raw.json": JSON.stringify({ Image: QUADLET_IMAGE, Name: "soak-raw", Labels: { "soak.gen": String(g.raw) }, Command: sleeper }, null, 2) + "\n",
    "kube/soak-pod.yaml": [
      "apiVersion: v1", "kind: Pod", "metadata:", "  name: soak-pod", "  labels:", `    soak-gen: "${g.kube}"`, "spec:",
      "  terminationGracePeriodSeconds: 5", "  containers:", "  - name: app", `    image: ${QUADLET_IMAGE}`,
      `    command: ${JSON.stringify(sleeper)}`, "",
    ].join("\n"),
    "files/marker": `${g.filetransfer}\n`,
    "units/soak-unit.service": [
      "[Unit]", "Description=fetchit soak unit", "[Service]", `Environment=SOAK_GEN=${g.systemd}`,
      "ExecStart=/bin/sh -c 'exec sleep infinity'", "[Install]", "WantedBy=multi-user.target", "",
    ].join("\n"),
  };
}

const CONFIG = (url: string) => `targetConfigs:
- name: soak
  url: ${url}
  branch: main
  raw:
  - {name: raw, targetPath: raw, schedule: "${SCHEDULE}"}
  kube:
  - {name: kube, targetPath: kube, schedule: "${SCHEDULE}"}
  filetransfer:
  - {name: files, targetPath: files, destinationDirectory: ${OUT_DIR}, schedule: "${SCHEDULE}"}
  systemd:
  - {name: units, targetPath: units, root: true, restart: true, schedule: "${SCHEDULE}"}
`;

/**
 * The packaged unit with one drop-in: the binary's path, and RestartSec=2s
 * without steps, so that a kill measures fetchit's recovery rather than
 * systemd's back-off (the packaged 10 s growing to 5 min over consecutive
 * automatic restarts would add up to 5 min a kill).
 */
const DROP_IN = (bin: string, config: string) => `[Service]
ExecStart=
ExecStart=${bin} run --config ${config} --log-level info
RestartSec=2s
RestartSteps=0
`;

/** One line of the observer running inside: what the host shows at `at` (ms, same clock as the host's). */
export interface Observation {
  at: number;
  /** Generation per method, or -1 when it cannot be read (Podman down, unit restarting). */
  gen: Generations;
  /** Containers labelled as fetchit's raw/raw, pods labelled as fetchit's: more than 1 is a duplicate. */
  rawContainers: number;
  pods: number;
  /** Entries in the output directory other than `marker` (temp files left by a kill, strays). */
  strayFiles: string[];
  /** Whether Podman's API answered. */
  podmanUp: boolean;
}

// Prints one line a second: time|marker|unit gen|unit files|out dir|containers json|pods json.
const OBSERVER = `
api() { curl -s --max-time 3 --unix-socket /run/podman/podman.sock "http://d/v4.0.0/libpod/$1" || echo ERR; }
while :; do
  t=$(date +%s%3N)
  f=$(cat ${OUT_DIR}/marker 2>/dev/null || echo -)
  pid=$(systemctl show -p MainPID --value ${UNIT} 2>/dev/null)
  u=$(tr '\\0' '\\n' < /proc/$pid/environ 2>/dev/null | sed -n 's/^SOAK_GEN=//p')
  o=$(ls -A ${OUT_DIR} 2>/dev/null | tr '\\n' ' ')
  if systemctl -q is-active podman.socket; then c=$(api 'containers/json?all=true'); p=$(api pods/json); else c=ERR; p=ERR; fi
  echo "$t|$f|\${u:--}|$o|$c|$p"
  sleep 1
done`;

export function parseObservation(line: string): Observation | undefined {
  const [t, f, u, o, c, p] = line.split("|");
  if (!t || p === undefined || !/^\d+$/.test(t)) return undefined;
  const num = (s: string | undefined) => (s && /^\d+$/.test(s.trim()) ? Number(s.trim()) : -1);
  const json = (s: string) => {
    try {
      return JSON.parse(s) as Record<string, unknown>[];
    } catch {
      return undefined;
    }
  };
  const containers = json(c!);
  const pods = json(p);
  const labels = (x: Record<string, unknown>) => (x.Labels ?? {}) as Record<string, string>;
  const raw = containers?.filter((x) => labels(x)["io.fetchit.method"] === "raw/raw") ?? [];
  const owned = pods?.filter((x) => Object.keys(labels(x)).some((k) => k.startsWith("io.fetchit."))) ?? [];
  return {
    at: Number(t),
    gen: {
      raw: raw.length === 1 ? num(labels(raw[0]!)["soak.gen"]) : -1,
      kube: owned.length === 1 ? num(labels(owned[0]!)["soak-gen"]) : -1,
      filetransfer: num(f),
      systemd: num(u),
    },
    rawContainers: raw.length,
    pods: owned.length,
    strayFiles: (o ?? "").split(" ").filter((n) => n && n !== "marker"),
    podmanUp: containers !== undefined && pods !== undefined,
  };
}

export interface Box {
  tb: QuadletTestbed;
  /** Commits the given generations; resolves with the commit's time (ms) once the ref is updated. */
  commit(g: Generations, message: string): Promise<number>;
  /** Starts the observer; calls `on` for each line it prints. Returns a stop function. */
  observe(on: (o: Observation) => void): () => void;
  /** fetchit.service's main PID (0 while it is down). */
  mainPid(): Promise<number>;
  sh(script: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBox(bin: string, initial: Generations): Promise<Box> {
  const tb = await startQuadletTestbed();
  const repo = join(tb.dir, "repo");
  const git = (...args: string[]) => runOk(["git", "-C", repo, "-c", "user.name=soak", "-c", "user.email=soak@example.invalid", ...args]);
  const write = (g: Generations) => {
    for (const [path, text] of Object.entries(files(g))) {
      mkdirSync(join(repo, path, ".."), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
  };
  mkdirSync(repo, { recursive: true });
  await runOk(["git", "init", "-q", "-b", "main", repo]);
  write(initial);
  await git("add", "-A");
  await git("commit", "-q", "-m", "generation 0");
  // A copy of the binary: a rebuild of dist/ during the soak must not change what restarts after a kill.
  const binCopy = join(tb.dir, "fetchit");
  copyFileSync(bin, binCopy);
  // Written back now: pages of a file still dirty in the page cache count as Private_Dirty of whoever maps it.
  await runOk(["sync", binCopy]);
  const config = join(tb.dir, "config.yaml");
  writeFileSync(config, CONFIG(`file://${repo}`));
  const sh = (script: string) => tb.execOk(["sh", "-c", script]);
  await tb.writeFile("/etc/systemd/system/fetchit.service", readFileSync(join(ROOT, "packaging/systemd/fetchit.service"), "utf8"));
  await tb.writeFile("/etc/systemd/system/fetchit.service.d/soak.conf", DROP_IN(binCopy, config));
  await sh("systemctl daemon-reload && systemctl start fetchit.service");
  return {
    tb,
    async commit(g, message) {
      write(g);
      await git("add", "-A");
      await git("commit", "-q", "-m", message);
      return Date.now();
    },
    observe(on) {
      const proc = Bun.spawn(["podman", "exec", tb.name, "sh", "-c", OBSERVER], { stdout: "pipe", stderr: "ignore" });
      void (async () => {
        let buf = "";
        for await (const chunk of proc.stdout) {
          buf += new TextDecoder().decode(chunk);
          const lines = buf.split("\n");
          buf = lines.pop()!;
          for (const line of lines) {
            const o = parseObservation(line);
            if (o) on(o);
          }
        }
      })();
      return () => proc.kill();
    },
    async mainPid() {
      return Number((await tb.show("fetchit.service", "MainPID")) || 0);
    },
    sh,
    stop: () => tb.stop(),
  };
}
