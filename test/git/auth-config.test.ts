/**
 * gitAuth from the config through the real CLI: per-target blocks override the
 * global one (against real basic-auth HTTP servers), the world-readable config
 * warning, and config checks that never echo secrets.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { configSecretsWarning, effectiveGitAuth } from "../../src/git/index.ts";
import { readdir } from "node:fs/promises";
import { harness, waitFor } from "../support/fetchit.ts";
import { spawnFetchit } from "../support/process.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { serveHttp, type TestHttpServer } from "../support/git-http.ts";

const servers: TestHttpServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function repo(file: string, auth?: { username: string; password: string }) {
  const remote = await createRemote({ [`files/${file}`]: `${file}\n` });
  const server = await serveHttp(remote.dir, { auth });
  servers.push(server);
  return server;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const target = (name: string, url: string, dest: string, gitAuth = "") =>
  `  - name: ${name}\n    url: ${url}\n    branch: main\n${gitAuth}    filetransfer:\n      - targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "@hourly"\n`;

describe("gitAuth in the config", () => {
  test("a target's gitAuth replaces the global one; gitAuth: {} makes a target anonymous (fetchit sync)", async () => {
    const global = await repo("g.txt", { username: "alice", password: "global-pw-1" });
    const own = await repo("o.txt", { username: "fetchit", password: "target-tok-2" });
    const open = await repo("p.txt");
    const out = tempDir("fetchit-auth-out-");
    const yaml =
      `gitAuth:\n  username: alice\n  password: global-pw-1\ntargetConfigs:\n` +
      target("uses-global", global.url, join(out, "g")) +
      target("own-pat", own.url, join(out, "o"), "    gitAuth:\n      pat: target-tok-2\n") +
      target("anonymous", open.url, join(out, "p"), "    gitAuth: {}\n");
    const h = harness(undefined, yaml);
    chmodSync(h.configFile, 0o600);
    const res = await h.cli("sync");
    expect(res.out.join("\n")).not.toContain("failed");
    expect(res.code).toBe(0);
    expect(readFileSync(join(out, "g", "g.txt"), "utf8")).toBe("g.txt\n");
    expect(readFileSync(join(out, "o", "o.txt"), "utf8")).toBe("o.txt\n");
    expect(readFileSync(join(out, "p", "p.txt"), "utf8")).toBe("p.txt\n");
    // the anonymous target really sent nothing, and the target with its own pat did not get alice's password
    expect(open.requests.every((r) => r.endsWith(" 200"))).toBe(true);
    expect(own.requests.filter((r) => r.endsWith(" 401"))).toEqual([]);

    // the per-target override is what makes it work: without it the global password is sent and refused
    h.writeConfig(yaml.replace("    gitAuth:\n      pat: target-tok-2\n", ""));
    const again = await h.cli("sync", "--target", "own-pat");
    expect(again.code).toBe(1);
  });

  test("a daemon with a wrong password: one request per tick (no retry loop inside a run), the error logged once", async () => {
    const server = await repo("r.txt", { username: "alice", password: "right-pw" });
    const h = harness(undefined, `gitAuth:\n  username: alice\n  password: wrong-pw-8\ntargetConfigs:\n${target("t", server.url, join(tempDir("fetchit-auth-out-"), "r"))}`.replace("@hourly", "* * * * * *"));
    chmodSync(h.configFile, 0o600);
    const proc = spawnFetchit(["run", ...h.flags().filter((f) => f !== "--log-level" && f !== "warn"), "--log-level", "info"]);
    try {
      await waitFor("three ticks", () => server.requests.length >= 3, 20_000);
    } finally {
      expect(await proc.stop("SIGTERM")).toBe(0);
    }
    const out = proc.output();
    expect(out.split("the server rejected the credentials").length - 1).toBe(1);
    expect(out).toContain(`git ls-remote ${server.url} (branch main) failed`);
    expect(out).not.toContain("wrong-pw-8");
    expect(server.requests.every((r) => /info\/refs\?service=git-upload-pack 401$/.test(r))).toBe(true);
    const record = (await filesUnder(join(h.stateDir, "state"))).find((f) => f.includes("--filetransfer--"));
    const state = JSON.parse(readFileSync(record ?? "missing state record", "utf8"));
    expect(state.lastError.retryable).toBe(false);
    expect(state.nextRetryAt).toBeUndefined();
  }, 60_000);

  test("effectiveGitAuth: the target's block, even empty, else the global one", () => {
    const g = { pat: "x" };
    expect(effectiveGitAuth(g, {}, 2)).toEqual({ auth: g, where: "gitAuth" });
    expect(effectiveGitAuth(g, { gitAuth: {} }, 2)).toEqual({ auth: {}, where: "targetConfigs[2].gitAuth" });
  });

  test("a config file holding secrets warns when group or others can read it, naming keys and chmod, never values", () => {
    const yaml = `gitAuth:\n  password: file-secret-3\ntargetConfigs:\n  - url: https://u:url-secret-4@example.com/r.git\n    branch: main\n    gitAuth:\n      pat: file-secret-5\n`;
    const h = harness(undefined, yaml);
    const { config } = parseConfig(yaml, h.configFile);
    if (!config) throw new Error("config expected to be valid");
    chmodSync(h.configFile, 0o644);
    const warning = configSecretsWarning(h.configFile, config) ?? "";
    expect(warning).toContain(`config file ${h.configFile} holds secrets (gitAuth.password, targetConfigs[0].gitAuth.pat, targetConfigs[0].url) and is readable by every user (mode 644); run: chmod 600 ${h.configFile}`);
    expect(warning).not.toMatch(/secret-\d/);
    chmodSync(h.configFile, 0o640);
    expect(configSecretsWarning(h.configFile, config)).toContain("readable by its group");
    chmodSync(h.configFile, 0o600);
    expect(configSecretsWarning(h.configFile, config)).toBeUndefined();
    expect(configSecretsWarning("$FETCHIT_CONFIG", config)).toBeUndefined();
    const noSecrets = parseConfig("gitAuth:\n  envSecret: HOME\ntargetConfigs: []\n", "x").config;
    if (!noSecrets) throw new Error("config expected to be valid");
    chmodSync(h.configFile, 0o644);
    expect(configSecretsWarning(h.configFile, noSecrets)).toBeUndefined();
  });

  test("the warning is logged when fetchit loads such a file", async () => {
    const server = await repo("w.txt");
    const h = harness(undefined, `gitAuth:\n  pat: logged-never-6\ntargetConfigs:\n${target("w", server.url, join(tempDir("fetchit-auth-out-"), "w"), "    gitAuth: {}\n")}`);
    chmodSync(h.configFile, 0o644);
    const lines: string[] = [];
    const origWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      await h.cli("sync");
    } finally {
      process.stderr.write = origWrite;
    }
    expect(lines.join("")).toContain(`holds secrets (gitAuth.pat) and is readable by every user (mode 644); run: chmod 600 ${h.configFile}`);
    expect(lines.join("")).not.toContain("logged-never-6");
    const validate = await h.cli("validate");
    expect(validate.code).toBe(0);
    expect(validate.out.join("\n")).toContain(`warning: config file ${h.configFile} holds secrets (gitAuth.pat)`);
  });

  test("config errors about gitAuth never contain the secret value", () => {
    const res = parseConfig("gitAuth:\n  envSecret: ghp_tokenLooking.Value-7\ntargetConfigs: []\n", "c.yaml");
    expect(res.issues.map((i) => i.path)).toEqual(["gitAuth.envSecret"]);
    expect(JSON.stringify(res.issues)).not.toContain("tokenLooking");
  });
});
