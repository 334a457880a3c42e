/**
 * Config reload: a newer config from SIGHUP, an edit of the local file
 * (checked with one stat a second), or configReload's remote source (a URL
 * or a file in a git target, on its schedule). A new config is validated
 * first; an invalid one, an unreachable source or a non-200 answer leaves the
 * running config in place and says why (once per distinct problem). A valid
 * one from a remote source replaces the local file (previous kept as
 * `<file>.bak`) and is then swapped in: unchanged methods keep their schedule
 * and state. Reloads are serialised.
 */
import { parseConfig, targetKey, toCronPattern, type FetchitConfig, type TargetConfig } from "../config/index.ts";
import { canonicalJson, type JobDiff } from "../engine/job-diff.ts";
import { ConfigError, errorMessage } from "../errors.ts";
import type { HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { ENV_CONFIG, fileSignature, readConfigText, replaceConfigFile } from "./config-file.ts";
import { remoteConfig, type RemoteConfig } from "./sources.ts";

export interface ReloaderOptions {
  /** The config file, or "$FETCHIT_CONFIG" when the config came from that variable (nothing to watch or write). */
  file: string;
  /** Text the running config was parsed from. */
  text?: string;
  config: FetchitConfig;
  stateDir: string;
  env: Record<string, string | undefined>;
  log: Logger;
  fs: HostFs;
  /** Swaps a validated config in (the daemon's swap). */
  apply(next: FetchitConfig): Promise<JobDiff>;
  /** sd_notify: RELOADING=1 before a swap, READY=1 after. */
  notify?(state: string): void;
  /** Told every newly rejected config (webhooks). */
  onReject?(why: string): void;
  /** How often the local file is stat'ed. Default 1000 ms; a change is read once it held still for one period. */
  watchMs?: number;
}

type Origin = "SIGHUP" | "file" | "remote";
const REMOTE_JOB = "(config)/configReload/config";

export class ConfigReloader {
  private queue: Promise<void> = Promise.resolve();
  private scheduler: Scheduler;
  private config: FetchitConfig;
  private text: string | undefined;
  private remote?: { key: string; source: RemoteConfig };
  private remotePending = false;
  private watch?: { timer: ReturnType<typeof setInterval>; seen: string; applied: string };
  /** The last problem reported per origin: the same one is logged once, then at debug level. */
  private reported = new Map<Origin, string>();
  private stopped = false;
  /** Aborts a download in progress when fetchit stops. */
  private stopping = new AbortController();

  constructor(private o: ReloaderOptions) {
    this.scheduler = new Scheduler(o.log);
    this.config = o.config;
    this.text = o.text;
  }

  /** Starts watching the local file and the remote source's schedule (which runs once now). */
  start(): void {
    this.configure();
  }

  /** SIGHUP: re-reads the local file and swaps it in, even when unchanged (or says why not). */
  reload(): Promise<void> {
    return this.enqueue(() => this.fromFile("SIGHUP"));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.watch) clearInterval(this.watch.timer);
    await this.scheduler.stop();
    await this.queue;
  }

  private get persisted(): boolean {
    return this.o.file !== ENV_CONFIG;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue
      .then(() => (this.stopped ? undefined : step()))
      .catch((err) => this.o.log.error("config reload failed; the running config stays", { err: errorMessage(err) }));
    return this.queue;
  }

  private async fromFile(origin: "SIGHUP" | "file"): Promise<void> {
    const { log, file } = this.o;
    if (origin === "SIGHUP") {
      log.info("SIGHUP: reloading the config", { config: file });
      this.o.notify?.("RELOADING=1");
    }
    const text = this.persisted ? await readConfigText(this.o.fs, file) : this.text;
    if (origin === "file" && text === this.text) return log.debug("config file touched but its content is the same", { config: file });
    if (text === undefined) return this.reject(origin, `cannot read ${file}`);
    const parsed = parseConfig(text, file);
    if (!parsed.config) return this.reject(origin, errorMessage(new ConfigError(file, parsed.issues)));
    if (origin === "file") log.info("config file changed; reloading", { config: file });
    await this.adopt(parsed.config, text, parsed.warnings, origin, file);
  }

  private async fromRemote(source: RemoteConfig): Promise<void> {
    let text: string;
    try {
      text = await source.read(this.stopping.signal);
    } catch (err) {
      if (this.stopped) return;
      return this.reject("remote", errorMessage(err));
    }
    const local = this.persisted ? await readConfigText(this.o.fs, this.o.file) : this.text;
    if (text === local) {
      this.reported.delete("remote");
      return this.o.log.debug("remote config unchanged", { from: source.describe });
    }
    const parsed = parseConfig(text, source.describe);
    if (!parsed.config) return this.reject("remote", errorMessage(new ConfigError(source.describe, parsed.issues)));
    this.o.log.info("config updates found", { from: source.describe });
    if (this.persisted) await this.save(text);
    else this.o.log.warn("the config came from $FETCHIT_CONFIG: the downloaded config is used until fetchit restarts", { from: source.describe });
    await this.adopt(parsed.config, text, parsed.warnings, "remote", source.describe);
  }

  /** Writes the downloaded config over the local file (backup first); a failure is logged and the swap goes on. */
  private async save(text: string): Promise<void> {
    try {
      await replaceConfigFile(this.o.fs, this.o.file, text);
      if (this.watch) this.watch.seen = this.watch.applied = fileSignature(this.o.file);
    } catch (err) {
      this.o.log.error("could not save the downloaded config; it runs until fetchit restarts, which loads the old file", { config: this.o.file, err: errorMessage(err) });
    }
  }

  private async adopt(next: FetchitConfig, text: string, warnings: string[], origin: Origin, from: string): Promise<void> {
    for (const w of warnings) this.o.log.warn(w, { config: from });
    if (origin !== "SIGHUP") this.o.notify?.("RELOADING=1");
    const diff = await this.o.apply(next);
    this.config = next;
    this.text = text;
    this.reported.delete(origin);
    this.o.log.info("config reloaded", { from, unchanged: diff.unchanged.length, changed: diff.changed, added: diff.added, removed: diff.removed });
    this.o.notify?.("READY=1");
    this.configure();
  }

  /** Keeps the running config; reports `why` once (again at debug level while it stays the same). */
  private reject(origin: Origin, why: string): void {
    if (origin === "SIGHUP") this.o.notify?.("READY=1\nSTATUS=config reload rejected; the previous config keeps running");
    if (origin !== "SIGHUP" && this.reported.get(origin) === why) return this.o.log.debug("config reload still rejected", { err: why });
    this.reported.set(origin, why);
    this.o.onReject?.(why);
    this.o.log.error("config reload rejected; the running config stays", { origin, err: why });
  }

  /** (Re)arms the file watch and the remote schedule from the running config's configReload. */
  private configure(): void {
    if (this.stopped) return;
    this.configureWatch(this.persisted && this.config.configReload?.watch !== false);
    const source = remoteConfig({ config: this.config, env: this.o.env, stateDir: this.o.stateDir, log: this.o.log });
    const key = source ? canonicalJson([this.config.configReload, this.config.gitAuth, this.remoteTarget(), this.o.env.FETCHIT_CONFIG_URL]) : "";
    const r = this.config.configReload;
    if (!source && r?.schedule && !r.device) this.o.log.warn("configReload.schedule is set but there is nothing to check: set configURL, target + path, or $FETCHIT_CONFIG_URL");
    if (key === (this.remote?.key ?? "")) return;
    void this.scheduler.remove(REMOTE_JOB);
    this.remote = source && { key, source };
    if (!source) return;
    this.o.log.info("config reload scheduled", { from: source.describe, schedule: source.schedule });
    this.scheduler.add({ id: REMOTE_JOB, pattern: toCronPattern(source.schedule), skew: source.skew, run: async () => this.tick(source) });
  }

  private remoteTarget(): Pick<TargetConfig, "url" | "branch"> | undefined {
    const t = this.config.targetConfigs.find((x) => targetKey(x) === this.config.configReload?.target);
    return t && { url: t.url, branch: t.branch };
  }

  /** A scheduled check queues one remote read (never more than one waiting). */
  private tick(source: RemoteConfig): void {
    if (this.remotePending) return;
    this.remotePending = true;
    void this.enqueue(() => this.fromRemote(source).finally(() => void (this.remotePending = false)));
  }

  private configureWatch(on: boolean): void {
    if (!on) {
      if (this.watch) clearInterval(this.watch.timer);
      this.watch = undefined;
      return;
    }
    if (this.watch) return;
    const sig = fileSignature(this.o.file);
    const w = { seen: sig, applied: sig, timer: setInterval(() => this.poll(w), this.o.watchMs ?? 1000) };
    this.watch = w;
  }

  /** One stat: a changed signature is read once it held still for one period (editors write in steps). */
  private poll(w: { seen: string; applied: string }): void {
    const sig = fileSignature(this.o.file);
    const settled = sig === w.seen;
    w.seen = sig;
    if (!settled || sig === w.applied) return;
    w.applied = sig;
    if (sig === "") return this.reject("file", `${this.o.file} was removed; keeping the running config`);
    void this.enqueue(() => this.fromFile("file"));
  }
}
