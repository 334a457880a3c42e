/**
 * Config reload test helpers: a real HTTP server (Bun.serve) whose answer the
 * test changes, recording the Authorization header of every request, and
 * config builders for two filetransfer methods (no Podman needed).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../support/fetchit.ts";

export interface ConfigServer {
  url: string;
  /** Sets what the next requests get. */
  answer(body: string, status?: number): void;
  /** Authorization headers seen, in order (null when absent). */
  auth: (string | null)[];
  requests(): number;
  stop(): void;
}

export function configServer(): ConfigServer {
  let current = { body: "", status: 200 };
  const auth: (string | null)[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      auth.push(req.headers.get("authorization"));
      return new Response(current.body, { status: current.status, headers: { "content-type": "text/yaml" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/fetchit/config.yaml`,
    answer: (body, status = 200) => void (current = { body, status }),
    auth,
    requests: () => auth.length,
    stop: () => void server.stop(true),
  };
}

/** One filetransfer method entry (YAML under a target). */
export function ft(name: string, dir: string, dest: string, schedule: string): string {
  return `      - name: ${name}\n        targetPath: ${dir}\n        destinationDirectory: ${dest}\n        schedule: "${schedule}"\n`;
}

/** A config with target t1 (methods given as filetransfer entries) and optional extra top-level YAML. */
export function twoMethodConfig(url: string, entries: string[], extra = ""): string {
  return `targetConfigs:\n  - name: t1\n    url: ${url}\n    branch: main\n    filetransfer:\n${entries.join("")}${extra}`;
}

/** Every second: a reload check that runs often in a test. */
export const EVERY_SECOND = "* * * * * *";
/** Once a year: a method that runs only at start (and when the reload replaces it). */
export const YEARLY = "0 0 1 1 *";

/** The state record file of filetransfer method `method` of target t1, with its mtime and content. */
export function stateOf(stateDir: string, method: string): { file: string; mtimeMs: number; text: string } {
  const dir = join(stateDir, "state");
  // not the temp file of an atomic write in progress (`<name>.json.fetchit-XXXX.tmp`)
  const name = readdirSync(dir).find((n) => n.startsWith(`t1--filetransfer--${method}--`) && /^[^.]+\.json$/.test(n));
  if (!name) throw new Error(`no state record for filetransfer/${method} in ${dir}`);
  const file = join(dir, name);
  return { file, mtimeMs: statSync(file).mtimeMs, text: readFileSync(file, "utf8") };
}

/** Waits until method `method` of t1 recorded an applied commit, then returns {@link stateOf}. */
export async function appliedState(stateDir: string, method: string): Promise<ReturnType<typeof stateOf>> {
  await waitFor(`state record of filetransfer/${method}`, () => {
    try {
      return Boolean(JSON.parse(stateOf(stateDir, method).text).appliedCommit);
    } catch {
      return false;
    }
  });
  return stateOf(stateDir, method);
}

export const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Global flags without `--log-level warn` (the tests read info lines). */
export const infoFlags = (flags: string[]) => flags.filter((f) => f !== "warn" && f !== "--log-level");
