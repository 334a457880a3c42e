import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../src/host/fs.ts";
import { describeConformance } from "./conformance.ts";

describeConformance({
  kind: "filetransfer",
  extraYaml: (scratch) => `        destinationDirectory: ${join(scratch, "dest")}\n`,
  file: (id, v) => [`${id}.conf`, `${id} version ${v}\n`],
  badFile: () => ["bad.conf", { symlink: "/etc/passwd" }, "is a symlink in the repository"],
  async observe(_podman, scratch) {
    const dir = join(scratch, "dest");
    const seen: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else seen[e.name.replace(/^renamed-/, "").replace(/\.conf$/, "")] = sha256(readFileSync(join(d, e.name)));
      }
    };
    try {
      walk(dir);
    } catch {
      return {};
    }
    return seen;
  },
});
