import { describe, expect, test } from "bun:test";
import { parseConfig, targetKey, type FetchitConfig } from "../../src/config/index.ts";

function load(yaml: string): { config: FetchitConfig; warnings: string[] } {
  const result = parseConfig(yaml, "good.yaml");
  if (!result.config) throw new Error(`unexpected issues:\n${JSON.stringify(result.issues, null, 2)}`);
  expect(result.issues).toEqual([]);
  return { config: result.config, warnings: result.warnings };
}

describe("FetchIt's real-world spellings", () => {
  const yaml = `
TargetConfigs:
- url: https://github.com/sallyom/fetchit
  verifyCommitsInfo:
    GitsignVerify: true
  fileTransfer:
  - name: ft-ex
    targetPath: examples/filetransfer
    destinationDirectory: /tmp/ft
    schedule: "*/1 * * * *"
  branch: gitsign
prune:
  All: true
  Volumes: false
  schedule: "*/1 * * * *"
configReload:
  configUrl: https://raw.githubusercontent.com/containers/fetchit/main/examples/config-reload.yaml
  schedule: "*/2 * * * *"
`;

  test("load and are renamed to the canonical keys", () => {
    const { config } = load(yaml);
    const target = config.targetConfigs[0]!;
    expect(target.verifyCommitsInfo?.gitsignVerify).toBe(true);
    expect(target.filetransfer?.[0]?.destinationDirectory).toBe("/tmp/ft");
    expect(config.prune).toEqual({ all: true, volumes: false, schedule: "*/1 * * * *" });
    expect(config.configReload?.configURL).toContain("config-reload.yaml");
    expect(Object.keys(config)).toEqual(["targetConfigs", "prune", "configReload"]);
  });

  test("produce one warning per non-canonical key", () => {
    const { warnings } = load(yaml);
    expect(warnings).toEqual([
      'TargetConfigs: key spelled "TargetConfigs"; canonical is "targetConfigs"',
      'targetConfigs[0].verifyCommitsInfo.GitsignVerify: key spelled "GitsignVerify"; canonical is "gitsignVerify"',
      'targetConfigs[0].fileTransfer: key spelled "fileTransfer"; canonical is "filetransfer"',
      'prune.All: key spelled "All"; canonical is "all"',
      'prune.Volumes: key spelled "Volumes"; canonical is "volumes"',
      'configReload.configUrl: key spelled "configUrl"; canonical is "configURL"',
    ]);
  });

  test("canonical spellings give no warnings", () => {
    const { warnings } = load("targetConfigs: []\nprune:\n  all: true\n  schedule: '@daily'\n");
    expect(warnings).toEqual([]);
  });
});

describe("weak typing like FetchIt", () => {
  test('"true"/"false" strings become booleans and numeric strings integers', () => {
    const { config } = load(`
targetConfigs:
- url: https://h/r.git
  branch: main
  disconnected: "false"
  raw:
  - schedule: "@hourly"
    targetPath: raw
    pullImage: "true"
    skew: "1500"
  systemd:
  - schedule: "@hourly"
    targetPath: units
    root: "True"
    enable: "0"
podmanAutoUpdate:
  root: "false"
  user: "1"
`);
    const t = config.targetConfigs[0]!;
    expect(t.disconnected).toBe(false);
    expect(t.raw?.[0]).toMatchObject({ pullImage: true, skew: 1500 });
    expect(t.systemd?.[0]).toMatchObject({ root: true, enable: false });
    expect(config.podmanAutoUpdate).toEqual({ root: false, user: true });
  });

  test("an optional key with no value counts as absent", () => {
    const { config } = load("targetConfigs:\ngitAuth:\nprune:\n  schedule: '@daily'\n  skew:\n");
    expect(config.targetConfigs).toEqual([]);
    expect(config.gitAuth).toBeUndefined();
    expect(config.prune).toEqual({ all: false, volumes: false, schedule: "@daily" });
  });
});

describe("defaults", () => {
  test("an empty mapping yields no targets", () => {
    expect(load("{}").config).toEqual({ targetConfigs: [] });
  });

  test("method names default to the kind, booleans to false, glob to **", () => {
    const { config } = load(`
targetConfigs:
- url: https://h/r.git
  branch: main
  raw: [{ schedule: "@hourly", targetPath: raw }]
  kube: [{ schedule: "@hourly", targetPath: kube, glob: "*.yaml" }]
  systemd: [{ schedule: "@hourly", targetPath: units }]
  filetransfer: [{ schedule: "@hourly", targetPath: f, destinationDirectory: /srv }]
  ansible: [{ schedule: "@hourly", targetPath: play }]
`);
    const t = config.targetConfigs[0]!;
    expect(t.raw?.[0]).toEqual({ name: "raw", schedule: "@hourly", targetPath: "raw", glob: "**", pullImage: false });
    expect(t.kube?.[0]).toEqual({ name: "kube", schedule: "@hourly", targetPath: "kube", glob: "*.yaml" });
    expect(t.systemd?.[0]).toMatchObject({ name: "systemd", root: false, enable: false, restart: false });
    expect(t.filetransfer?.[0]?.name).toBe("filetransfer");
    expect(t.ansible?.[0]?.name).toBe("ansible");
    expect(t.disconnected).toBe(false);
    expect(t.name).toBeUndefined();
    expect(t.raw?.[0]?.skew).toBeUndefined();
  });

  test("gitsignRekorURL defaults to the public Rekor", () => {
    const { config } = load("targetConfigs:\n- url: https://h/r\n  branch: b\n  verifyCommitsInfo: { gitsignVerify: true }\n");
    expect(config.targetConfigs[0]?.verifyCommitsInfo?.gitsignRekorURL).toBe("https://rekor.sigstore.dev");
  });

  test("a USB-disconnected target needs neither url nor branch", () => {
    const { config } = load("targetConfigs:\n- name: usb\n  disconnected: true\n  device: /dev/sda1\n");
    expect(config.targetConfigs[0]).toMatchObject({ url: "", branch: "", device: "/dev/sda1" });
  });
});

describe("YAML features", () => {
  test("anchors and << merge keys work, as in FetchIt's yaml.v3", () => {
    const { config } = load(`
targetConfigs:
- url: https://h/r.git
  branch: main
  raw:
  - &common
    name: first
    schedule: "*/5 * * * *"
    skew: 100
    targetPath: raw
  - <<: *common
    name: second
    targetPath: other
`);
    expect(config.targetConfigs[0]?.raw?.[1]).toMatchObject({ name: "second", schedule: "*/5 * * * *", skew: 100, targetPath: "other" });
  });
});

describe("schedules", () => {
  const withSchedule = (s: string) => `targetConfigs:\n- url: https://h/r\n  branch: b\n  raw:\n  - schedule: "${s}"\n    targetPath: r\n`;
  for (const s of ["*/5 * * * *", "*/10 * * * * *", "0 30 2 * * 1-5", "@hourly", "@daily", "@every 1m", "@every 30s", "@every 6h", "0 0 * * SUN"]) {
    test(`accepts ${s}`, () => {
      expect(load(withSchedule(s)).config.targetConfigs[0]?.raw?.[0]?.schedule).toBe(s);
    });
  }
});

describe("targetKey", () => {
  test("is the name when given", () => expect(targetKey({ name: "x", url: "https://h/r.git", branch: "main" })).toBe("x"));
  test("is the repository name and branch otherwise", () => {
    expect(targetKey({ url: "https://github.com/containers/fetchit.git", branch: "main" })).toBe("fetchit@main");
    expect(targetKey({ url: "git@github.com:org/repo.git", branch: "dev" })).toBe("repo@dev");
    expect(targetKey({ url: "https://h/r/", branch: "b" })).toBe("r@b");
    expect(targetKey({ url: "", branch: "", device: "/dev/sda1" })).toBe("sda1");
  });
});
