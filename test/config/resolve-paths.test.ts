/**
 * Relative host paths in a config are made absolute against one base (the
 * directory fetchit started in), host.valuesFile before templates read it;
 * keys with another base keep their meaning,
 * and unitDirectory, where a relative path makes no sense, is reported with
 * its key path.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig, START_DIR } from "../../src/config/index.ts";
import { tempDir } from "../support/git.ts";

const SCHED = 'schedule: "*/5 * * * *"';

function parsed(yaml: string, base = "/base") {
  const res = parseConfig(yaml, "t.yaml", { baseDir: base });
  expect(res.issues).toEqual([]);
  return res.config!;
}

describe("config paths", () => {
  test("every host path key of a target is resolved against the base", () => {
    const c = parsed(`gitAuth:
  ssh: true
  sshKeyFile: keys/deploy
  sshKnownHosts: ./keys/known_hosts
targetConfigs:
  - name: t
    url: ../repo
    branch: main
    gitAuth:
      ssh: true
      sshKeyFile: ./id
    verifyCommitsInfo:
      gpgKeyring: trust/keys.asc
      sshAllowedSigners: ./trust/allowed
    filetransfer:
      - ${SCHED}
        targetPath: f
        destinationDirectory: out/files
    ansible:
      - ${SCHED}
        targetPath: p
        sshDirectory: ssh
`);
    const t = c.targetConfigs[0]!;
    expect(c.gitAuth).toMatchObject({ sshKeyFile: "/base/keys/deploy", sshKnownHosts: "/base/keys/known_hosts" });
    expect(t.gitAuth).toMatchObject({ sshKeyFile: "/base/id" });
    expect(t.url).toBe("/repo");
    expect(t.verifyCommitsInfo).toMatchObject({ gpgKeyring: "/base/trust/keys.asc", sshAllowedSigners: "/base/trust/allowed" });
    expect(t.filetransfer![0]!.destinationDirectory).toBe("/base/out/files");
    expect(t.ansible![0]!.sshDirectory).toBe("/base/ssh");
  });

  test("a disconnected path is resolved; with device it stays relative to the mount point", () => {
    const c = parsed(`targetConfigs:
  - name: a
    disconnected: true
    url: media/repo.bundle
  - name: b
    disconnected: true
    device: /dev/sdb1
    url: media/repo.bundle
`);
    expect(c.targetConfigs.map((t) => t.url)).toEqual(["/base/media/repo.bundle", "media/repo.bundle"]);
  });

  test("values with another meaning are left as written", () => {
    const c = parsed(`targetConfigs:
  - name: t
    url: git@example.com:o/r.git
    branch: main
    gitAuth:
      ssh: true
      sshKeyFile: id_ed25519
      sshKnownHosts: ~/keys/known_hosts
    raw:
      - ${SCHED}
        targetPath: raw
  - name: u
    url: https://example.com/o/r.git
    branch: main
  - name: v
    url: file:///srv/r.git
    branch: main
    filetransfer:
      - ${SCHED}
        targetPath: f
        destinationDirectory: /abs/dest
`);
    expect(c.targetConfigs[0]!.gitAuth).toMatchObject({ sshKeyFile: "id_ed25519", sshKnownHosts: "~/keys/known_hosts" });
    expect(c.targetConfigs.map((t) => t.url)).toEqual(["git@example.com:o/r.git", "https://example.com/o/r.git", "file:///srv/r.git"]);
    expect(c.targetConfigs[0]!.raw![0]!.targetPath).toBe("raw");
    expect(c.targetConfigs[2]!.filetransfer![0]!.destinationDirectory).toBe("/abs/dest");
  });

  test("host.valuesFile is resolved before the templates read it", () => {
    const base = tempDir("fetchit-values-");
    writeFileSync(join(base, "values.yaml"), "site: lab\n");
    const res = parseConfig(
      `host:\n  valuesFile: values.yaml\ntargetConfigs:\n  - url: https://x/{{ values.site }}.git\n    branch: main\n`,
      "t.yaml",
      { baseDir: base, env: {}, home: "" },
    );
    expect(res.issues).toEqual([]);
    expect(res.config!.targetConfigs[0]!.url).toBe("https://x/lab.git");
  });

  test("the default base is the directory the process started in", () => {
    const c = parseConfig(`targetConfigs:\n  - url: https://x/y.git\n    branch: main\n    filetransfer:\n      - ${SCHED}\n        targetPath: f\n        destinationDirectory: d\n`, "t").config!;
    expect(c.targetConfigs[0]!.filetransfer![0]!.destinationDirectory).toBe(`${START_DIR}/d`);
  });

  test("a relative unitDirectory is an error naming the key and why", () => {
    const res = parseConfig(`targetConfigs:\n  - url: https://x/y.git\n    branch: main\n    systemd:\n      - ${SCHED}\n        targetPath: u\n        unitDirectory: units\n`, "t", { baseDir: "/base" });
    expect(res.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'targetConfigs[0].systemd[0].unitDirectory: must be an absolute host path, got "units": systemd reads units only from fixed directories (e.g. /etc/systemd/system), so a path relative to where fetchit started makes no sense',
    ]);
  });
});
