/** Templates in the config: facts, labels and values rendered into targetConfigs when it is loaded (real files, real host facts). */
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/cli.ts";
import { parseConfig } from "../../src/config/index.ts";
import { gatherFacts, ociArch, parseOsRelease } from "../../src/fleet/facts.ts";
import { tempDir } from "../support/git.ts";

const facts = { hostname: "pi-7", machineId: "0123456789abcdef0123456789abcdef", arch: "arm64", os: { id: "fedora", versionId: "41" }, user: "core" };
const base = (ft: string, host = "") =>
  `${host}targetConfigs:\n  - url: file:///srv/{{ labels.site }}.git\n    branch: main\n    filetransfer:\n      - name: f\n${ft}        schedule: "*/1 * * * *"\n`;
const parse = (text: string, env: Record<string, string> = {}, home = tempDir("fetchit-home-")) =>
  parseConfig(text, "cfg.yaml", { env, uid: 1000, home, facts });

test("labels, facts and values fill every string under targetConfigs", () => {
  const home = tempDir("fetchit-home-");
  const vf = join(home, "values.yaml");
  writeFileSync(vf, "out:\n  base: /srv/out\n");
  const r = parse(
    base("        targetPath: sites/{{ labels.site }}/{{ host.arch }}\n        destinationDirectory: '{{ values.out.base }}/{{ host.hostname }}'\n", `host:\n  labels:\n    site: lab\n  valuesFile: ${vf}\n`),
  );
  expect(r.issues).toEqual([]);
  const t = r.config!.targetConfigs[0]!;
  expect(t.url).toBe("file:///srv/lab.git");
  expect(t.filetransfer![0]!.targetPath).toBe("sites/lab/arm64");
  expect(t.filetransfer![0]!.destinationDirectory).toBe("/srv/out/pi-7");
});

test("an undefined variable is a validate error at the key's path, naming the variable", () => {
  const r = parse(base("        targetPath: sites/{{ labels.site }}\n        destinationDirectory: /x/{{ labels.rack }}\n", "host:\n  labels:\n    site: lab\n"));
  expect(r.config).toBeUndefined();
  expect(r.issues).toHaveLength(1);
  expect(r.issues[0]!.path).toBe("targetConfigs[0].filetransfer[0].destinationDirectory");
  expect(r.issues[0]!.message).toContain('undefined variable "labels.rack"');
  expect(r.issues[0]!.message).toContain("line 1, column 7");
});

test("a syntax error and an unknown filter are errors too; `default` covers a missing label", () => {
  const r = parse(base("        targetPath: sites/{{ labels.site \n        destinationDirectory: /x/{{ labels.site | shout }}\n", "host:\n  labels:\n    site: lab\n"));
  expect(r.issues.map((i) => i.path).sort()).toEqual(["targetConfigs[0].filetransfer[0].destinationDirectory", "targetConfigs[0].filetransfer[0].targetPath"]);
  expect(r.issues.find((i) => i.path.endsWith("targetPath"))!.message).toContain("not closed");
  expect(r.issues.find((i) => i.path.endsWith("Directory"))!.message).toContain("undefined filter: shout");
  const ok = parse(base("        targetPath: \"sites/{{ labels.rack | default: 'r1' }}\"\n        destinationDirectory: /x\n", "host:\n  labels:\n    site: lab\n"));
  expect(ok.config!.targetConfigs[0]!.filetransfer![0]!.targetPath).toBe("sites/r1");
});

test("FETCHIT_LABEL_<key> and FETCHIT_VALUE_<key> from the environment override the config", () => {
  const r = parse(base("        targetPath: '{{ labels.site }}-{{ values.tier }}'\n        destinationDirectory: /x\n", "host:\n  labels:\n    site: lab\n"), {
    FETCHIT_LABEL_site: "shop-12",
    FETCHIT_VALUE_tier: "gold",
  });
  expect(r.config!.targetConfigs[0]!.filetransfer![0]!.targetPath).toBe("shop-12-gold");
  expect(r.context!.labels).toEqual({ site: "shop-12" });
});

test("values file: a missing default is fine, a missing named file or bad YAML is an error at host.valuesFile", () => {
  const ok = parse(base("        targetPath: t\n        destinationDirectory: /x\n", "host:\n  labels:\n    site: a\n"));
  expect(ok.issues).toEqual([]);
  expect(ok.context!.values).toEqual({});
  const missing = parse(base("        targetPath: t\n        destinationDirectory: /x\n", "host:\n  labels:\n    site: a\n  valuesFile: /nonexistent/values.yaml\n"));
  expect(missing.issues).toEqual([{ path: "host.valuesFile", message: expect.stringContaining("cannot read values file /nonexistent/values.yaml (ENOENT)") }]);
  const home = tempDir("fetchit-home-");
  writeFileSync(join(home, "v.yaml"), "a: [1\n");
  const bad = parse(base("        targetPath: t\n        destinationDirectory: /x\n", `host:\n  labels:\n    site: a\n  valuesFile: ${join(home, "v.yaml")}\n`));
  expect(bad.issues[0]!.path).toBe("host.valuesFile");
  expect(bad.issues[0]!.message).toContain("not valid YAML");
});

test("the default values file is ~/.fetchit/values.yaml for a user", () => {
  const home = tempDir("fetchit-home-");
  Bun.spawnSync(["mkdir", "-p", join(home, ".fetchit")]);
  writeFileSync(join(home, ".fetchit", "values.yaml"), "port: 8080\n");
  const r = parse(base("        targetPath: t{{ values.port }}\n        destinationDirectory: /x\n", "host:\n  labels:\n    site: a\n"), {}, home);
  expect(r.config!.targetConfigs[0]!.filetransfer![0]!.targetPath).toBe("t8080");
});

test("templates are sandboxed: no file reads, no prototype access, bounded loops", () => {
  for (const [tmpl, msg] of [
    ["{% include '/etc/passwd' %}", "ENOENT"],
    ["{{ labels.constructor }}", 'undefined variable "labels.constructor"'],
    ["{% for x in (1..100000000) %}{{ x }}{% endfor %}", "limit exceeded"],
  ] as const) {
    const r = parse(base(`        targetPath: "${tmpl}"\n        destinationDirectory: /x\n`, "host:\n  labels:\n    site: a\n"));
    expect(r.issues[0]?.message).toContain(msg);
  }
});

test("facts of this host come from its real files", () => {
  const f = gatherFacts();
  expect(f.machineId).toBe(readFileSync("/etc/machine-id", "utf8").trim());
  expect(f.os.id).toBe(parseOsRelease(readFileSync("/etc/os-release", "utf8")).ID!);
  expect(f.arch).toBe(ociArch(process.arch));
  expect(["amd64", "arm64"]).toContain(f.arch);
  expect(f.user).toBe(process.getuid!() === 0 ? "root" : expect.any(String));
  expect(parseOsRelease('ID="rhel"\nVERSION_ID="9.4"\n# c\n')).toEqual({ ID: "rhel", VERSION_ID: "9.4" });
});

test("fetchit facts --json prints the whole context; errors of the host block exit 1", async () => {
  const home = tempDir("fetchit-home-");
  const cfg = join(home, "c.yaml");
  writeFileSync(cfg, "host:\n  labels:\n    site: lab\n    wave: 2\ntargetConfigs: []\n");
  const out: string[] = [];
  const code = await runCli(["facts", "--json", "--config", cfg], { HOME: home, FETCHIT_LABEL_zone: "eu" }, (l) => out.push(l));
  expect(code).toBe(0);
  const ctx = JSON.parse(out.join("\n"));
  expect(ctx.labels).toEqual({ site: "lab", wave: 2, zone: "eu" });
  expect(ctx.host.machineId).toBe(readFileSync("/etc/machine-id", "utf8").trim());
  expect(Object.keys(ctx.host).sort()).toEqual(["arch", "hostname", "machineId", "os", "user"]);
  writeFileSync(cfg, "host:\n  valuesFile: /nonexistent.yaml\ntargetConfigs: []\n");
  const out2: string[] = [];
  expect(await runCli(["facts", "--config", cfg], { HOME: home }, (l) => out2.push(l))).toBe(1);
  expect(out2.join("\n")).toContain("host.valuesFile: cannot read values file /nonexistent.yaml");
  expect(out2.join("\n")).toContain("host.os.id: ");
});
