/**
 * Drives fetchit the way an operator does: a config file on disk, a state dir,
 * the real CLI entry (runCli) or the real process (`bun src/main.ts`), against
 * the shared test Podman service.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/cli.ts";
import { tempDir } from "./git.ts";
import type { TestPodman } from "./podman.ts";

export const ROOT = join(import.meta.dir, "..", "..");

export interface Harness {
  dir: string;
  configFile: string;
  stateDir: string;
  /** Rewrites the config file. */
  writeConfig(yaml: string): void;
  /** `fetchit <args> --config .. --state-dir .. --podman-socket ..` through runCli; returns exit code and printed lines. */
  cli(...args: string[]): Promise<{ code: number; out: string[] }>;
  /** Global flags for a spawned `bun src/main.ts` process. */
  flags(): string[];
}

export function harness(podman: TestPodman | undefined, yaml = ""): Harness {
  const dir = tempDir("fetchit-it-");
  const configFile = join(dir, "config.yaml");
  const stateDir = join(dir, "state");
  mkdirSync(stateDir, { recursive: true });
  const h: Harness = {
    dir,
    configFile,
    stateDir,
    writeConfig: (text) => writeFileSync(configFile, text),
    flags: () => ["--config", configFile, "--state-dir", stateDir, "--log-level", "warn", ...(podman ? ["--podman-socket", podman.socketPath] : [])],
    async cli(...args) {
      const out: string[] = [];
      const env = { ...process.env, ...(podman?.env ?? {}), FETCHIT_CONFIG: undefined };
      const code = await runCli([...args, ...h.flags()], env, (l) => out.push(l));
      return { code, out };
    },
  };
  if (yaml) h.writeConfig(yaml);
  return h;
}

/** A one-target config with the given method blocks (already-indented YAML under the target). */
export function targetConfig(url: string, methodsYaml: string, extra = ""): string {
  return `targetConfigs:\n  - name: t1\n    url: ${url}\n    branch: main\n${methodsYaml}${extra}`;
}

/** Waits until `check` returns a truthy value (polling), or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

/** A container command that runs until stopped and exits at once on SIGTERM (busybox sleep as PID 1 ignores it). */
export const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];
