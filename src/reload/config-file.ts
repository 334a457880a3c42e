/**
 * The local config file as the reloader sees it: a cheap change signature
 * (one stat), its text, and the crash-safe replacement of it with a
 * downloaded config (previous content kept as `<file>.bak`, both 0600:
 * a config may hold credentials).
 */
import { statSync } from "node:fs";
import type { HostFs } from "../host/fs.ts";

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
  if (previous) await fs.writeFileAtomic(backupPath(file), previous, 0o600);
  await fs.writeFileAtomic(file, text, 0o600);
}
