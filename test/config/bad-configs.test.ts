import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";

/** A valid target header; append method lists indented by two spaces. */
const TARGET = "targetConfigs:\n- url: https://github.com/containers/fetchit.git\n  branch: main\n";
/** One raw entry with the given extra lines (each `    key: value`). */
const raw = (...lines: string[]) => `${TARGET}  raw:\n  - schedule: "*/5 * * * *"\n    targetPath: examples/raw\n${lines.map((l) => `    ${l}\n`).join("")}`;
/** A raw list with the given entries, each a list of `key: value` lines. */
const raws = (...entries: string[][]) =>
  `${TARGET}  raw:\n${entries.map((e) => e.map((l, i) => `  ${i === 0 ? "-" : " "} ${l}\n`).join("")).join("")}`;
const SCHED = 'schedule: "*/5 * * * *"';

interface Case {
  name: string;
  yaml: string;
  path: string;
  message: string;
  /** Number of issues expected in total; default 1. */
  count?: number;
}

const cases: Case[] = [
  { name: "unknown top-level key, near miss", yaml: "targetConfig: []\n", path: "targetConfig", message: 'unknown key "targetConfig"; did you mean "targetConfigs"?' },
  { name: "unknown top-level key, typo", yaml: "prunne:\n  schedule: '@daily'\n", path: "prunne", message: 'did you mean "prune"?' },
  { name: "top-level clean", yaml: "clean:\n  schedule: '@daily'\n", path: "clean", message: '"prune"' },
  { name: "unknown top-level key, no suggestion", yaml: "zzz: 1\n", path: "zzz", message: "allowed keys: targetConfigs, gitAuth" },
  { name: "unknown method key", yaml: raw('shedule: "* * * * *"'), path: "targetConfigs[0].raw[0].shedule", message: 'unknown key "shedule"; did you mean "schedule"?' },
  { name: "prefix near miss", yaml: `${TARGET}  filetransfer:\n  - ${SCHED}\n    targetPath: x\n    destination: /tmp\n`, path: "targetConfigs[0].filetransfer[0].destination", message: 'did you mean "destinationDirectory"?', count: 2 },
  { name: "key of another method kind", yaml: `${TARGET}  kube:\n  - ${SCHED}\n    targetPath: k\n    pullImage: true\n`, path: "targetConfigs[0].kube[0].pullImage", message: "it belongs in raw entries" },
  { name: "unknown key in a target's gitAuth", yaml: `${TARGET}  gitAuth:\n    sshKnownHost: k\n`, path: "targetConfigs[0].gitAuth.sshKnownHost", message: 'did you mean "sshKnownHosts"?' },
  { name: "gitAuth ssh without sshKeyFile", yaml: "gitAuth:\n  ssh: true\n", path: "gitAuth.sshKeyFile", message: "required when ssh is true" },
  { name: "gitAuth envSecret naming an unset variable", yaml: "gitAuth:\n  envSecret: FETCHIT_TEST_NEVER_SET_9\n", path: "gitAuth.envSecret", message: "names the environment variable FETCHIT_TEST_NEVER_SET_9, which is not set" },
  { name: "gitAuth envSecret holding a token", yaml: "gitAuth:\n  envSecret: ghp-abc.123\n", path: "gitAuth.envSecret", message: "must be the NAME of an environment variable" },
  { name: "gitAuth sshKeyFile with a quote", yaml: "gitAuth:\n  ssh: true\n  sshKeyFile: /a'b\n", path: "gitAuth.sshKeyFile", message: "must not contain quotes" },
  { name: "target gitAuth ssh on an https url", yaml: `${TARGET}  gitAuth:\n    ssh: true\n    sshKeyFile: /k\n`, path: "targetConfigs[0].url", message: "targetConfigs[0].gitAuth.ssh is true but this url is https" },
  { name: "global gitAuth ssh on an https url", yaml: `gitAuth:\n  ssh: true\n  sshKeyFile: /k\n${TARGET}`, path: "targetConfigs[0].url", message: "gitAuth.ssh is true but this url is https; use the ssh url" },
  { name: "unknown key in gitAuth", yaml: "gitAuth:\n  usrname: bob\n", path: "gitAuth.usrname", message: 'did you mean "username"?' },
  { name: "targetConfigs as a map", yaml: "targetConfigs:\n  url: https://x/y.git\n  branch: main\n", path: "targetConfigs", message: "expected a list, got a mapping" },
  { name: "target entry as a string", yaml: "targetConfigs:\n- https://x/y.git\n", path: "targetConfigs[0]", message: "expected a mapping" },
  { name: "raw as a string", yaml: `${TARGET}  raw: examples/raw\n`, path: "targetConfigs[0].raw", message: 'expected a list, got a string ("examples/raw")' },
  { name: "skew not numeric", yaml: raw('skew: "abc"'), path: "targetConfigs[0].raw[0].skew", message: 'expected a whole number (milliseconds), got a string ("abc")' },
  { name: "skew fractional", yaml: raw("skew: 1.5"), path: "targetConfigs[0].raw[0].skew", message: "expected a whole number" },
  { name: "skew 0", yaml: raw("skew: 0"), path: "targetConfigs[0].raw[0].skew", message: "must be at least 1 (milliseconds); omit it for no delay" },
  { name: "glob with an unclosed class", yaml: raw("glob: \"[ab*.json\""), path: "targetConfigs[0].raw[0].glob", message: "unclosed [" },
  { name: "skew negative", yaml: raw("skew: -5"), path: "targetConfigs[0].raw[0].skew", message: "must be at least 1 (milliseconds)" },
  { name: "skew 0 on prune", yaml: "prune:\n  schedule: '@daily'\n  skew: 0\n", path: "prune.skew", message: "must be at least 1" },
  { name: "pullImage as a number", yaml: raw("pullImage: 3"), path: "targetConfigs[0].raw[0].pullImage", message: "expected true or false, got a number (3)" },
  { name: "gitsignVerify not a boolean", yaml: `${TARGET}  verifyCommitsInfo:\n    gitsignVerify: maybe\n`, path: "targetConfigs[0].verifyCommitsInfo.gitsignVerify", message: "expected true or false" },
  { name: "branch as a number", yaml: "targetConfigs:\n- url: https://x/y.git\n  branch: 1\n", path: "targetConfigs[0].branch", message: "expected a string, got a number (1); put the value in quotes" },
  { name: "missing branch", yaml: "targetConfigs:\n- url: https://x/y.git\n", path: "targetConfigs[0].branch", message: "required key missing" },
  { name: "empty branch", yaml: "targetConfigs:\n- url: https://x/y.git\n  branch: ''\n", path: "targetConfigs[0].branch", message: "required key missing" },
  { name: "missing url", yaml: "targetConfigs:\n- branch: main\n", path: "targetConfigs[0].url", message: "required key missing" },
  { name: "disconnected without url or device", yaml: "targetConfigs:\n- disconnected: true\n", path: "targetConfigs[0].url", message: "needs url (a git bundle, zip or tar file, or a directory: a path or URL) or device" },
  { name: "disconnected url absolute with device", yaml: "targetConfigs:\n- disconnected: true\n  device: /dev/sdb1\n  url: /repo.bundle\n", path: "targetConfigs[0].url", message: "relative to the device's mount point; remove the leading /" },
  { name: "disconnected url climbing out of the mount", yaml: "targetConfigs:\n- disconnected: true\n  device: /dev/sdb1\n  url: ../etc/repo.zip\n", path: "targetConfigs[0].url", message: 'contains a ".." segment' },
  { name: "disconnected url over ssh", yaml: "targetConfigs:\n- disconnected: true\n  url: ssh://host/repo.git\n", path: "targetConfigs[0].url", message: "use disconnected: false for a git remote" },
  { name: "sshAllowedSigners empty", yaml: `${TARGET}  verifyCommitsInfo:\n    sshAllowedSigners: ''\n`, path: "targetConfigs[0].verifyCommitsInfo.sshAllowedSigners", message: "must not be empty" },
  { name: "gpgKeyring misspelled", yaml: `${TARGET}  verifyCommitsInfo:\n    gpgKeyRings: /k.asc\n`, path: "targetConfigs[0].verifyCommitsInfo.gpgKeyRings", message: 'did you mean "gpgKeyring"?' },
  { name: "missing schedule", yaml: `${TARGET}  raw:\n  - targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "required key missing" },
  { name: "empty schedule", yaml: `${TARGET}  raw:\n  - schedule: ''\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "schedule is empty" },
  { name: "missing targetPath", yaml: `${TARGET}  systemd:\n  - ${SCHED}\n`, path: "targetConfigs[0].systemd[0].targetPath", message: "required key missing" },
  { name: "systemd unitDirectory relative", yaml: `${TARGET}  systemd:\n  - ${SCHED}\n    targetPath: u\n    unitDirectory: etc/systemd/system\n`, path: "targetConfigs[0].systemd[0].unitDirectory", message: 'must be an absolute host path, got "etc/systemd/system"' },
  { name: "systemd enable not a boolean", yaml: `${TARGET}  systemd:\n  - ${SCHED}\n    targetPath: u\n    enable: sometimes\n`, path: "targetConfigs[0].systemd[0].enable", message: "expected true or false" },
  { name: "quadlet unitDirectory relative", yaml: `${TARGET}  quadlet:\n  - ${SCHED}\n    targetPath: q\n    unitDirectory: etc/containers/systemd\n`, path: "targetConfigs[0].quadlet[0].unitDirectory", message: 'must be an absolute host path, got "etc/containers/systemd"' },
  { name: "quadlet restart not a boolean", yaml: `${TARGET}  quadlet:\n  - ${SCHED}\n    targetPath: q\n    restart: maybe\n`, path: "targetConfigs[0].quadlet[0].restart", message: "expected true or false" },
  { name: "quadlet unknown key", yaml: `${TARGET}  quadlet:\n  - ${SCHED}\n    targetPath: q\n    enable: true\n`, path: "targetConfigs[0].quadlet[0].enable", message: "unknown key" },
  { name: "quadlet missing targetPath", yaml: `${TARGET}  quadlet:\n  - ${SCHED}\n`, path: "targetConfigs[0].quadlet[0].targetPath", message: "required key missing" },
  { name: "podmanAutoUpdate schedule without root or user", yaml: "podmanAutoUpdate:\n  schedule: daily\n", path: "podmanAutoUpdate.schedule", message: "has no effect without root: true or user: true" },
  { name: "podmanAutoUpdate schedule empty", yaml: "podmanAutoUpdate:\n  root: true\n  schedule: ' '\n", path: "podmanAutoUpdate.schedule", message: "must be one systemd OnCalendar= expression on one line" },
  { name: "podmanAutoUpdate unknown key", yaml: "podmanAutoUpdate:\n  root: true\n  onCalendar: daily\n", path: "podmanAutoUpdate.onCalendar", message: 'unknown key "onCalendar"' },
  { name: "missing destinationDirectory", yaml: `${TARGET}  filetransfer:\n  - ${SCHED}\n    targetPath: f\n`, path: "targetConfigs[0].filetransfer[0].destinationDirectory", message: "required key missing" },
  { name: "ansible timeout zero", yaml: `${TARGET}  ansible:\n  - ${SCHED}\n    targetPath: p\n    timeout: 0\n`, path: "targetConfigs[0].ansible[0].timeout", message: "must be at least 1" },
  { name: "ansible timeout with a unit", yaml: `${TARGET}  ansible:\n  - ${SCHED}\n    targetPath: p\n    timeout: 10m\n`, path: "targetConfigs[0].ansible[0].timeout", message: 'expected a whole number, got a string ("10m")' },
  { name: "ansible empty image", yaml: `${TARGET}  ansible:\n  - ${SCHED}\n    targetPath: p\n    image: ""\n`, path: "targetConfigs[0].ansible[0].image", message: "expected string length greater or equal to 1" },
  { name: "cron with two fields", yaml: `${TARGET}  raw:\n  - schedule: "* *"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: 'invalid cron "* *": expected 5 fields' },
  { name: "cron minute 61", yaml: `${TARGET}  raw:\n  - schedule: "61 * * * *"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: 'invalid cron "61 * * * *"' },
  { name: "cron with 7 fields", yaml: `${TARGET}  raw:\n  - schedule: "0 0 0 1 1 * 2030"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "got 7" },
  { name: "cron that never fires", yaml: `${TARGET}  raw:\n  - schedule: "0 0 30 2 *"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "never fires" },
  { name: "@every not clock-aligned", yaml: `${TARGET}  raw:\n  - schedule: "@every 7m"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "7m does not divide a minute, an hour or a day" },
  { name: "@every with day unit", yaml: `${TARGET}  raw:\n  - schedule: "@every 1d"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "whole h, m and s units" },
  { name: "unknown descriptor", yaml: `${TARGET}  raw:\n  - schedule: "@reboot"\n    targetPath: r\n`, path: "targetConfigs[0].raw[0].schedule", message: "unknown descriptor" },
  { name: "duplicate method name", yaml: raws(["name: a", SCHED, "targetPath: x"], ["name: a", SCHED, "targetPath: y"]), path: "targetConfigs[0].raw[1].name", message: 'duplicate raw name "a", also used by targetConfigs[0].raw[0]' },
  { name: "duplicate unnamed methods", yaml: raws([SCHED, "targetPath: x"], [SCHED, "targetPath: y"]), path: "targetConfigs[0].raw[1].name", message: 'entries without a name default to "raw", so give each raw entry its own name' },
  { name: "empty method name", yaml: raw("name: ''"), path: "targetConfigs[0].raw[0].name", message: "must not be empty" },
  { name: "absolute targetPath", yaml: raws([SCHED, "targetPath: /etc"]), path: "targetConfigs[0].raw[0].targetPath", message: "must be relative to the repository root" },
  { name: "../x targetPath", yaml: raws([SCHED, "targetPath: ../x"]), path: "targetConfigs[0].raw[0].targetPath", message: 'contains a ".." segment' },
  { name: "a/../../b targetPath", yaml: raws([SCHED, "targetPath: a/../../b"]), path: "targetConfigs[0].raw[0].targetPath", message: 'contains a ".." segment' },
  { name: "empty targetPath", yaml: raws([SCHED, "targetPath: ''"]), path: "targetConfigs[0].raw[0].targetPath", message: "must not be empty" },
  { name: "empty file", yaml: "", path: "", message: "config is empty; expected a mapping with targetConfigs" },
  { name: "only comments", yaml: "# nothing here\n  # at all\n", path: "", message: "config is empty" },
  { name: "a list document", yaml: "- url: x\n", path: "", message: "expected a mapping with targetConfigs at the top level, got a list" },
  { name: "a scalar document", yaml: "hello\n", path: "", message: 'got a string ("hello")' },
  { name: "YAML syntax error", yaml: "targetConfigs:\n  - url: [x\nprune: 1\n", path: "", message: "YAML syntax error" },
  { name: "several YAML documents", yaml: "targetConfigs: []\n---\nprune: {}\n", path: "", message: "several YAML documents" },
  { name: "unresolved alias", yaml: "targetConfigs: *nothing\n", path: "", message: "YAML error" },
  { name: "prune without schedule", yaml: "prune:\n  all: true\n", path: "prune.schedule", message: "required key missing" },
  { name: "images entry without schedule", yaml: "images:\n- url: http://h/i.tar\n", path: "images[0].schedule", message: "required key missing" },
  { name: "images entry without source", yaml: "images:\n- schedule: '@hourly'\n", path: "images[0]", message: "needs url" },
  { name: "notify entry without url", yaml: "notify:\n- events: [apply-failed]\n", path: "notify[0].url", message: "required key missing" },
  { name: "notify url not http", yaml: "notify:\n- url: ftp://h/x\n", path: "notify[0].url", message: 'expected an http:// or https:// URL, got "ftp://h/x"' },
  { name: "notify url credentials masked", yaml: "notify:\n- url: mailto://u:pw@h\n", path: "notify[0].url", message: '"mailto://***@h"' },
  { name: "notify unknown event", yaml: "notify:\n- url: http://h/x\n  events: [apply-sucseeded]\n", path: "notify[0].events[0]", message: 'expected one of "apply-succeeded"' },
  { name: "notify authEnv not a variable name", yaml: "notify:\n- url: http://h/x\n  authEnv: \"$TOKEN\"\n", path: "notify[0].authEnv", message: "expected the name of an environment variable" },
  { name: "notify as a mapping", yaml: "notify:\n  url: http://h/x\n", path: "notify", message: "expected a list" },
  { name: "configReload without schedule", yaml: "configReload:\n  configURL: https://h/c.yaml\n", path: "configReload.schedule", message: "required key missing when configURL" },
  { name: "configReload target without schedule", yaml: "targetConfigs:\n- {name: c, url: x, branch: main}\nconfigReload:\n  target: c\n  path: f.yaml\n", path: "configReload.schedule", message: "required key missing when configURL, target" },
  { name: "configReload target unknown", yaml: "targetConfigs:\n- {name: c, url: x, branch: main}\nconfigReload:\n  target: d\n  path: f.yaml\n  schedule: '@hourly'\n", path: "configReload.target", message: 'no target named "d" in targetConfigs (targets: c)' },
  { name: "configReload target without path", yaml: "targetConfigs:\n- {name: c, url: x, branch: main}\nconfigReload:\n  target: c\n  schedule: '@hourly'\n", path: "configReload.path", message: "required key missing when target is set" },
  { name: "configReload path without target", yaml: "configReload:\n  path: f.yaml\n", path: "configReload.path", message: "needs target" },
  { name: "configReload target and configURL", yaml: "targetConfigs:\n- {name: c, url: x, branch: main}\nconfigReload:\n  target: c\n  path: f.yaml\n  configURL: https://h/c.yaml\n  schedule: '@hourly'\n", path: "configReload.target", message: "set either configURL or target, not both" },
  { name: "configReload device without configPath", yaml: "configReload:\n  device: /dev/sdb1\n  schedule: '@hourly'\n", path: "configReload.configPath", message: "required key missing when device is set" },
  { name: "configReload configPath without device", yaml: "configReload:\n  configPath: c.yaml\n", path: "configReload.configPath", message: "needs device" },
  { name: "configReload device and configURL", yaml: "configReload:\n  device: /dev/sdb1\n  configPath: c.yaml\n  configURL: https://h/c.yaml\n  schedule: '@hourly'\n", path: "configReload.device", message: "set one of configURL, target or device" },
  { name: "configReload watch not a boolean", yaml: "configReload:\n  watch: sometimes\n", path: "configReload.watch", message: "expected true or false" },
  { name: "same key in two spellings", yaml: raw("Schedule: '@daily'"), path: "targetConfigs[0].raw[0].schedule", message: 'key given twice, as "schedule" and "Schedule"' },
  {
    name: "duplicate derived target names",
    yaml: "targetConfigs:\n- url: https://github.com/a/repo.git\n  branch: main\n- url: https://gitlab.com/b/repo\n  branch: main\n",
    path: "targetConfigs[1]",
    message: 'target name "repo@main" (derived from url and branch) is already used by targetConfigs[0]',
  },
  {
    name: "duplicate explicit target names",
    yaml: "targetConfigs:\n- name: t\n  url: https://h/a.git\n  branch: main\n- name: t\n  url: https://h/b.git\n  branch: main\n",
    path: "targetConfigs[1].name",
    message: 'give each target a distinct "name"',
  },
  { name: "listen on all addresses without a token", yaml: "listen:\n  address: 0.0.0.0:9464\n", path: "listen.token", message: "required when listen.address (0.0.0.0:9464) is not a loopback address" },
  { name: "listen address without a port", yaml: "listen:\n  address: localhost\n", path: "listen.address", message: "is neither HOST:PORT" },
  { name: "listen token too short", yaml: "listen:\n  address: 127.0.0.1:9464\n  token: abc\n", path: "listen.token", message: "too short: use at least 16" },
  { name: "listen without address", yaml: "listen:\n  tokenEnv: T\n", path: "listen.address", message: "required" },
  { name: "unknown key in listen", yaml: "listen:\n  address: 127.0.0.1:9464\n  tokn: x\n", path: "listen.tokn", message: 'did you mean "token"?' },
];

describe("bad configs", () => {
  test("the table is big enough", () => expect(cases.length).toBeGreaterThanOrEqual(30));
  for (const c of cases) {
    test(c.name, () => {
      const result = parseConfig(c.yaml, "bad.yaml");
      expect(result.config).toBeUndefined();
      const hit = result.issues.find((i) => i.path === c.path && i.message.includes(c.message));
      if (!hit) throw new Error(`no issue at "${c.path}" containing ${JSON.stringify(c.message)}; got:\n${JSON.stringify(result.issues, null, 2)}`);
      expect(result.issues).toHaveLength(c.count ?? 1);
    });
  }

  test("a YAML syntax error names line and column", () => {
    const { issues } = parseConfig("targetConfigs:\n  - url: x\n   branch: main\n", "bad.yaml");
    expect(issues[0]?.message).toMatch(/YAML syntax error: .* at line 3, column \d+$/);
  });

  test("a config with several problems reports all of them", () => {
    const yaml = [
      "targetConfig: []",
      "targetConfigs:",
      "- url: https://x/y.git",
      "  raw:",
      "  - shedule: '* *'",
      "    targetPath: /abs",
      "    skew: abc",
      "  - schedule: '61 * * * *'",
      "    targetPath: ok",
      "prune:",
      "  all: 3",
      "",
    ].join("\n");
    const { issues } = parseConfig(yaml, "bad.yaml");
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      [
        "targetConfig",
        "targetConfigs[0].branch",
        "targetConfigs[0].raw[0].schedule",
        "targetConfigs[0].raw[0].shedule",
        "targetConfigs[0].raw[0].skew",
        "targetConfigs[0].raw[0].targetPath",
        "targetConfigs[0].raw[1].name",
        "targetConfigs[0].raw[1].schedule",
        "prune.all",
        "prune.schedule",
      ].sort(),
    );
  });
});
