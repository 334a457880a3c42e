/** Config rules of oci:// targets: what is accepted, and each refusal with its path and what to do. */
import { describe, expect, test } from "bun:test";
import { parseConfig, targetKey } from "../../src/config/index.ts";

const target = (lines: string[]) => `targetConfigs:\n- url: ${lines[0]}\n${lines.slice(1).map((l) => `  ${l}\n`).join("")}  filetransfer:\n  - name: f\n    targetPath: files\n    destinationDirectory: /tmp/x\n    schedule: "*/5 * * * *"\n`;
const issues = (yaml: string) => parseConfig(yaml, "c.yaml").issues.map((i) => `${i.path}: ${i.message}`);

describe("oci:// targets in the config", () => {
  test("a tag or digest reference needs no branch; tlsVerify and verifyOciSignature are accepted", () => {
    expect(issues(target(["oci://quay.io/org/config:prod", "tlsVerify: false", "verifyOciSignature: /etc/fetchit/cosign.pub"]))).toEqual([]);
    expect(issues(target([`oci://127.0.0.1:5000/a/b@sha256:${"a".repeat(64)}`]))).toEqual([]);
    expect(targetKey({ url: "oci://quay.io/org/config:prod", branch: "" })).toBe("config:prod");
    expect(targetKey({ url: `oci://r/a/b@sha256:${"ab".repeat(32)}`, branch: "" })).toBe("b@abababababab");
  });

  const bad: [string, string[], string][] = [
    ["bad reference", ["oci://quay.io/Org/Config:prod"], "targetConfigs[0].url: oci reference oci://quay.io/Org/Config:prod: invalid repository"],
    ["credentials in the url", ["oci://robot:hunter2@quay.io/org/config:prod"], "targetConfigs[0].url: an oci:// url must not carry credentials"],
    ["branch", ["oci://quay.io/org/config:prod", "branch: main"], "targetConfigs[0].branch: an oci:// url names its tag"],
    ["gitAuth", ["oci://quay.io/org/config:prod", "gitAuth:", "  username: u", "  password: p"], "targetConfigs[0].gitAuth: registry credentials come from Podman's auth files"],
    ["verifyCommitsInfo", ["oci://quay.io/org/config:prod", "verifyCommitsInfo:", "  gpgKeyring: /k"], "targetConfigs[0].verifyCommitsInfo: an artifact has no commits to verify; use verifyOciSignature"],
    ["relative key", ["oci://quay.io/org/config:prod", "verifyOciSignature: cosign.pub"], "targetConfigs[0].verifyOciSignature: must be an absolute host path"],
    ["tlsVerify on git", ["https://example.com/r.git", "branch: main", "tlsVerify: false"], "targetConfigs[0].tlsVerify: applies to oci:// targets only"],
    ["disconnected", ["oci://quay.io/org/config:prod", "disconnected: true"], "targetConfigs[0].disconnected: an oci:// url is a registry"],
  ];
  test("refused: configReload reading from an OCI target", () => {
    const yaml = `configReload:\n  target: config:prod\n  path: fetchit.yaml\n  schedule: "*/5 * * * *"\n${target(["oci://quay.io/org/config:prod"])}`;
    expect(issues(yaml)).toContain("configReload.target: names config:prod, an OCI target; the config is read from a git target's branch (or use configURL)");
  });

  for (const [name, lines, message] of bad) {
    test(`refused: ${name}`, () => {
      const found = issues(target(lines));
      expect(found.join("\n")).not.toContain("hunter2");
      expect(found.find((i) => i.startsWith(message)) ?? found).toStartWith(message);
    });
  }
});
