/**
 * The local config file as the reloader sees it: a cheap change signature
 * (one stat), its text, and the crash-safe replacement of it with a
 * downloaded config (previous content kept as `<file>.bak`, both 0600:
 * a config may hold credentials). At `run`'s start, a config a power cut
 * zeroed is restored from that backup.
 */
import { statSync } from "node:fs";
import { parseConfig } from "../config/index.ts";
import { moveAsideCorrupt, type HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";

/** Label of a config that came from $FETCHIT_CONFIG (no file to watch or write). */
export const ENV_CONFIG = "$FETCHIT_CONFIG";

/** The backup of `file` written before a reload replaces it (FetchIt: config-backup.yaml). */
export const backupPath = (file: string) => `${file}.bak`;

/** Changes when the file is edited or replaced (mtime, ctime, size, inode); "" when it is missing. */
export function fileSignature(file: string): string {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return "";
  }
}

/** The file's text, or undefined when it cannot be read. */
export async function readConfigText(fs: HostFs, file: string): Promise<string | undefined> {
  const data = await fs.readFile(file).catch(() => null);
  return data?.toString("utf8");
}

/**
 * Replaces `file` with `text`: the previous content first goes to the backup
 * (atomically), then the new content replaces the file atomically. A crash
 * at any point leaves a complete file that a restart loads.
 */
export async function replaceConfigFile(fs: HostFs, file: string, text: string): Promise<void> {
  const previous = await fs.readFile(file);
  // a zeroed file (power cut) must not replace a good backup
  if (previous && !zeroed(previous)) await fs.writeFileAtomic(backupPath(file), previous, 0o600);
  await fs.writeFileAtomic(file, text, 0o600);
}

/** What a power cut leaves of a text file: nothing, or NUL bytes (YAML text never holds NUL). */
const zeroed = (data: Buffer) => data.length === 0 || data.includes(0);

/** Valid config text: parses and passes every check. */
const valid = (data: Buffer, file: string) => !zeroed(data) && parseConfig(data.toString("utf8"), file).config !== undefined;

/**
 * At `run`'s start: a config file that is empty or holds NUL bytes (a power
 * cut, since fetchit last replaced it with a downloaded config) is moved
 * aside as `<file>.corrupt-<UTC time>` and the valid backup `<file>.bak` put
 * back, with one error (configReload then downloads the newest again). A
 * damaged backup is moved aside the same way. A file that only lost its end
 * and still parses cannot be told from an edit: it loads as it is.
 */
export async function recoverConfigFile(fs: HostFs, file: string, log: Logger): Promise<void> {
  const bak = backupPath(file);
  const backup = await fs.readFile(bak);
  if (!backup) return;
  if (zeroed(backup)) {
    const moved = await moveAsideCorrupt(fs, bak);
    if (moved) log.error(`config backup ${bak} was damaged, probably by a power cut; moved it to ${moved}`, { file: moved });
    return;
  }
  const current = await fs.readFile(file);
  if (!current || !zeroed(current) || !valid(backup, bak)) return;
  const moved = await moveAsideCorrupt(fs, file);
  await fs.writeFileAtomic(file, backup, 0o600);
  log.error(`config ${file} was damaged (${current.length ? "NUL bytes" : "empty"}), probably by a power cut; moved it to ${moved} and restored the previous config from ${bak}`, { file });
}
