/**
 * FetchIt's start without a local config: `$FETCHIT_CONFIG_URL` is downloaded
 * (no credentials: there is no gitAuth yet) and saved where fetchit looks for
 * its config (`--config PATH`, else /etc/fetchit/config.yaml for root or
 * ~/.fetchit/config.yaml). Better than FetchIt: the download is validated
 * before it is saved, and a failure stops the start with the reason.
 */
import { defaultConfigPath, resolveConfigSource } from "../config/discover.ts";
import { parseConfig } from "../config/index.ts";
import { ConfigError, ExitError } from "../errors.ts";
import { stripUserinfo } from "../git/remote-url.ts";
import type { HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import { downloadConfig } from "./http.ts";

export interface InitialConfigOptions {
  /** Value of `--config`. */
  flag?: string;
  env: Record<string, string | undefined>;
  uid: number;
  home: string;
  fs: HostFs;
  log: Logger;
}

/** Downloads $FETCHIT_CONFIG_URL into the config path when no config is found; returns the path written, if any. */
export async function downloadInitialConfig(o: InitialConfigOptions): Promise<string | undefined> {
  const url = o.env.FETCHIT_CONFIG_URL;
  if (!url) return undefined;
  try {
    resolveConfigSource({ flag: o.flag, env: o.env, uid: o.uid, home: o.home });
    return undefined; // a local config wins over the URL, as in FetchIt
  } catch {
    // no local config: download it
  }
  const file = o.flag ?? defaultConfigPath(o.uid, o.home);
  const where = `$FETCHIT_CONFIG_URL (${stripUserinfo(url)})`;
  o.log.info("no local config; downloading the config from $FETCHIT_CONFIG_URL", { url: stripUserinfo(url), config: file });
  let text: string;
  try {
    text = await downloadConfig(url, { env: o.env });
  } catch (err) {
    throw new ExitError(`${(err as Error).message}. No local config either (${file}); fix the URL or create the file`, 1);
  }
  const parsed = parseConfig(text, where);
  if (!parsed.config) throw new ConfigError(where, parsed.issues);
  await o.fs.writeFileAtomic(file, text, 0o600);
  o.log.info("initial config saved", { config: file });
  return file;
}
