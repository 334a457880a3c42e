/**
 * Who this host is, for templates and rollout waves: gathered once at start
 * and on each config reload (cheap file reads, no process spawned).
 */
import { readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";

export interface HostFacts {
  hostname: string;
  /** /etc/machine-id ("" when the file is missing, e.g. in a bare container). */
  machineId: string;
  /** As OCI and Go name it: amd64, arm64, arm, 386, ppc64le, s390x, riscv64. */
  arch: string;
  os: { id: string; versionId: string };
  /** The user fetchit runs as. */
  user: string;
}

export interface FactSources {
  readFile?: (path: string) => string;
  arch?: string;
  hostname?: string;
  user?: string;
}

const GOARCH: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** Node's process.arch → the OCI/Go name. */
export const ociArch = (nodeArch: string): string => GOARCH[nodeArch] ?? nodeArch;

/** KEY=value lines of os-release(5); quotes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, "$1");
    out[m[1]!] = v;
  }
  return out;
}

export function gatherFacts(src: FactSources = {}): HostFacts {
  const read = src.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const tryRead = (...paths: string[]) => {
    for (const p of paths) {
      try {
        return read(p);
      } catch {
        // next candidate
      }
    }
    return "";
  };
  const osr = parseOsRelease(tryRead("/etc/os-release", "/usr/lib/os-release"));
  return {
    hostname: src.hostname ?? hostname(),
    machineId: tryRead("/etc/machine-id").trim(),
    arch: ociArch(src.arch ?? process.arch),
    os: { id: osr.ID ?? "", versionId: osr.VERSION_ID ?? "" },
    user: src.user ?? currentUser(tryRead("/etc/passwd")),
  };
}

/** The name of this process's uid in /etc/passwd (Bun's userInfo() reads $USER, unset under systemd), else $USER, else the uid. */
function currentUser(passwd: string): string {
  const uid = process.getuid?.();
  const entry = passwd.split("\n").find((l) => l.split(":")[2] === String(uid));
  if (entry) return entry.split(":")[0]!;
  const name = process.env.USER || process.env.LOGNAME || userInfo().username;
  return name && name !== "unknown" ? name : String(uid ?? "");
}
