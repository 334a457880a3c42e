/**
 * Big files and archive bombs for the streaming tests and the bench: a file
 * of any size written fast by a real generator (`yes | head -c`, or sparse
 * with truncate), zip/tar bombs crafted with Python's zipfile/tarfile, and
 * the peak RSS (VmHWM from /proc/PID/status) of a real process.
 */
import { run } from "./archives.ts";

/**
 * Writes `bytes` to `file` with shell tools: `text` repeats a line (about
 * 300:1 compressible, so git and gzip stay quick), `random` comes from
 * /dev/urandom (incompressible, as models and media are), `sparse` is holes.
 */
export async function bigFile(file: string, bytes: number, kind: "text" | "random" | "sparse" = "text"): Promise<void> {
  const cmds = {
    text: `yes 'fetchit streams every blob of any size 0123456789' | head -c ${bytes} > '${file}'`,
    random: `head -c ${bytes} /dev/urandom > '${file}'`,
    sparse: `truncate -s ${bytes} '${file}'`,
  };
  await run(["sh", "-c", cmds[kind]], "/");
}

/** What {@link peakRss} measured. */
export interface PeakRun {
  code: number;
  /** VmHWM in KiB: the process's peak resident set, read until it exited. */
  peakKb: number;
  ms: number;
  out: string;
}

/** Runs `cmd`, reading `/proc/PID/status` every 20 ms; VmHWM only grows, so the last value read is the peak. */
export async function peakRss(cmd: string[], env: Record<string, string | undefined> = {}, cwd = "/"): Promise<PeakRun> {
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let peakKb = 0;
  let exited = false;
  const poll = (async () => {
    while (!exited) {
      const status = await Bun.file(`/proc/${proc.pid}/status`).text().catch(() => "");
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      if (m?.[1]) peakKb = Math.max(peakKb, Number(m[1]));
      await Bun.sleep(20);
    }
  })();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  exited = true;
  await poll;
  return { code, peakKb, ms: performance.now() - t0, out: out + err };
}

/**
 * Bombs crafted with Python's zipfile (real deflate streams):
 * - `ratio`: one entry of `mib` MiB of zeros (about 1 MiB compressed per GiB);
 * - `liar`: the same, with both headers declaring only 1000 bytes;
 * - `overlap`: ten central directory entries pointing at one stored 2 MiB
 *   kernel (the non-recursive zip bomb's trick), each with a ratio of 1:1.
 */
export async function craftBomb(file: string, kind: "ratio" | "liar" | "overlap", mib = 1024): Promise<void> {
  const script = `
import struct, sys, zipfile, zlib
out, kind, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind in ("ratio", "liar"):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=False) as z:
        with z.open("files/zeros.bin", "w") as f:
            block = bytes(1 << 20)
            for _ in range(mib): f.write(block)
    if kind == "liar":
        data = bytearray(open(out, "rb").read())
        lh = data.find(b"PK\\x03\\x04"); cd = data.find(b"PK\\x01\\x02")
        struct.pack_into("<I", data, lh + 22, 1000)
        struct.pack_into("<I", data, cd + 24, 1000)
        open(out, "wb").write(bytes(data))
else:
    import os
    kernel = os.urandom(2 << 20)
    body = kernel
    crc = zlib.crc32(kernel)
    name = b"files/k0.bin"
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0, crc, len(body), len(kernel), len(name), 0) + name
    blob = local + body
    cd = b""
    for i in range(10):
        n = b"files/k%d.bin" % i
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 0, 0, 0, crc, len(body), len(kernel), len(n), 0, 0, 0, 0, 0, 0) + n
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 10, 10, len(cd), len(blob), 0)
    open(out, "wb").write(blob + cd + eocd)
`;
  await run(["python3", "-c", script, file, kind, String(mib)], "/");
}
