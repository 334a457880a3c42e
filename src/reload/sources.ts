/**
 * Where configReload reads a newer config from on its schedule: a URL
 * (`configURL`, else $FETCHIT_CONFIG_URL, as in FetchIt), a file on removable
 * media (`device` + `configPath`, as in FetchIt, read from where the OS mounted
 * it) or, beyond FetchIt, a file in a git target (`target` + `path`), read
 * from the branch head.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { targetKey, type ConfigReload, type FetchitConfig } from "../config/index.ts";
import { createGitSource, effectiveGitAuth, normalizeTargetPath, stripUserinfo } from "../git/index.ts";
import type { Logger } from "../log.ts";
import { resolveImagePath } from "../tasks/image-source.ts";
import { DownloadError, downloadConfig } from "./http.ts";

export interface RemoteConfig {
  /** Where the config comes from, safe to log (no credentials). */
  describe: string;
  schedule: string;
  skew?: number;
  /** The config text now; throws an error whose message says why not (never a secret). `signal` aborts a download. */
  read(signal?: AbortSignal): Promise<string>;
}

export interface RemoteInputs {
  config: FetchitConfig;
  env: Record<string, string | undefined>;
  stateDir: string;
  log: Logger;
}

/** The remote config source of `config`, or undefined when configReload has none (or no schedule). */
export function remoteConfig({ config, env, stateDir, log }: RemoteInputs): RemoteConfig | undefined {
  const r = config.configReload;
  if (!r?.schedule) return undefined;
  if (r.target) return gitFile(r, config, stateDir, log);
  if (r.device && r.configPath) return deviceFile(r.device, r.configPath, r.schedule, r.skew);
  const url = r.configURL || env.FETCHIT_CONFIG_URL;
  if (!url) return undefined;
  return {
    describe: stripUserinfo(url),
    schedule: r.schedule,
    skew: r.skew,
    read: (signal) => downloadConfig(url, { auth: config.gitAuth, env, signal }),
  };
}

/** `configReload.target` + `path`: the file at the head of that target's branch (the target's own clone). */
function gitFile(r: ConfigReload, config: FetchitConfig, stateDir: string, log: Logger): RemoteConfig | undefined {
  const index = config.targetConfigs.findIndex((x) => targetKey(x) === r.target);
  const t = config.targetConfigs[index];
  if (!t || !r.path || !r.schedule) return undefined; // the config rules reject these
  const path = normalizeTargetPath(r.path);
  const auth = effectiveGitAuth(config.gitAuth, t, index);
  const source = createGitSource({ url: t.url, branch: t.branch, cacheDir: join(stateDir, "repos"), log: log.child({ target: r.target }), auth });
  const describe = `${path} in target ${r.target} (${source.url} ${t.branch})`;
  let last: { head: string; text: string } | undefined;
  return {
    describe,
    schedule: r.schedule,
    skew: r.skew,
    async read() {
      const head = await source.fetch();
      if (last?.head === head) return last.text;
      const changes = await source.diff(null, head, { targetPath: path });
      const file = changes.find((c) => c.path === path);
      if (!file?.blob) throw new DownloadError(`${describe}: no such file at commit ${head.slice(0, 9)}; check configReload.path`);
      if (file.mode === "120000") throw new DownloadError(`${describe}: is a symbolic link; point configReload.path at the file itself`);
      last = { head, text: (await source.readBlob(file.blob)).toString("utf8") };
      return last.text;
    },
  };
}

/**
 * `configReload.device` + `configPath`: the file at configPath under the
 * device's mount point (fetchit never mounts it). While the device is not
 * mounted the check fails with a message and the running config stays; when
 * it comes back with a different file, that file is the new config.
 */
function deviceFile(device: string, configPath: string, schedule: string, skew: number | undefined): RemoteConfig {
  return {
    describe: `${configPath} on device ${device}`,
    schedule,
    skew,
    async read() {
      let path: string;
      try {
        path = resolveImagePath(configPath.replace(/^\/+/, ""), device);
      } catch (err) {
        throw new DownloadError(err instanceof Error ? err.message : String(err));
      }
      return readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
        throw new DownloadError(`${path} on device ${device}: ${err.code === "ENOENT" ? "no such file; check configReload.configPath" : err.message}`);
      });
    },
  };
}
