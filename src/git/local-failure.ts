/**
 * git's own messages about this host rather than the remote or the commit:
 * a damaged clone (missing or corrupt objects, a stale `*.lock` left by a
 * killed git, a repository git no longer recognises), which fetchit repairs
 * by cloning again, and host problems (full disk, permissions, a bad path),
 * which only the operator can fix. Either way the commit is not at fault.
 */

/** A damaged clone: removing it and cloning again fixes these. */
const DAMAGED: RegExp[] = [
  /unable to create '[^']*\.lock': file exists/i,
  /cannot lock ref/i,
  /\b(bad|missing|invalid) object\b/i,
  /\b(missing|bad) (blob|tree|commit)\b/i,
  /not a valid object name [0-9a-f]{40}/i,
  /(object file|loose object|packed object) .* (is empty|is corrupt|corrupt)/i,
  /packfile .* (cannot be accessed|does not match|is corrupt|bad)/i,
  /(unable to|could not|failed to) (read|parse|get (object )?type of) (object |tree |commit |sha1 file )?[0-9a-f]{40}/i,
  /unable to read (tree|sha1 file)/i,
  /inflate: data stream error|unable to unpack|index-pack failed|did not receive expected object/i,
  /not a git repository/i,
  /nonexistent object/i,
  /shallow file has changed|bad shallow|unable to parse shallow/i,
  /invalid (packed-refs|ref format|reference)|bad ref for/i,
];

/** Host problems git reports (the same operation fails until the operator acts), and a git killed from outside: never the commit's fault. */
const HOST: { re: RegExp; advice: string }[] = [
  { re: /no space left on device|disk quota exceeded|out of diskspace/i, advice: "the file system is full; free space on it (df -h)" },
  { re: /read-only file system/i, advice: "the file system is read-only; remount it read-write or move the state dir" },
  {
    re: /insufficient permission|(unable to|could not|cannot) (create|write|open|mkdir|unlink)[^;]*permission denied/i,
    advice: "permission denied; the state dir must belong to the user fetchit runs as",
  },
  { re: /invalid path '/i, advice: "a path given to git does not exist; check --state-dir" },
  { re: /input\/output error/i, advice: "input/output error; the disk may be failing (check dmesg)" },
  { re: /too many open files/i, advice: "too many open files; raise the limit (LimitNOFILE= in the unit)" },
  { re: /out of memory|cannot allocate memory/i, advice: "out of memory" },
  { re: /git was killed by SIG[A-Z0-9]+/i, advice: "something outside fetchit killed it (the OOM killer, an operator); the next run tries again" },
  { re: /spawn git enoent|executable not found in \$path: "git"/i, advice: "git is not installed or not in PATH; install git" },
];

/** True when git's message says the local clone is damaged (see the file comment). */
export function isDamagedMessage(text: string): boolean {
  return DAMAGED.some((re) => re.test(text));
}

/** What the operator must fix when git's message shows a host problem, else undefined. */
export function hostProblemAdvice(text: string): string | undefined {
  return HOST.find((h) => h.re.test(text))?.advice;
}

/** True when `err` or one of its causes carries a damaged-clone message. */
export function isDamagedClone(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (isDamagedMessage(e instanceof Error ? e.message : String(e))) return true;
  }
  return false;
}
