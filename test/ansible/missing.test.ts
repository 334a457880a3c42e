/**
 * A host without ansible-playbook (PATH narrowed for real, not faked): the
 * detection says so, and without a reachable Podman for the fallback
 * container the playbook fails with an error that says what to install.
 */
import { beforeAll, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { methodContext } from "../../src/engine/context.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { hostExec, type Exec } from "../../src/host/exec.ts";
import { detectAnsible } from "../../src/methods/ansible-host.ts";
import { ansible, DEFAULT_ANSIBLE_IMAGE } from "../../src/methods/ansible.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { collectingLogger } from "../unit/helpers.ts";
import { tempDir } from "../support/git.ts";
import { requireAnsible } from "./fixture.ts";

beforeAll(() => requireAnsible());

/** A PATH with the usual tools (timeout, sh, python3) but no ansible-playbook. */
function pathWithoutAnsible(): string {
  const bin = join(tempDir("fetchit-noansible-"), "bin");
  mkdirSync(bin);
  for (const tool of ["timeout", "sh", "python3"]) symlinkSync(Bun.which(tool, { PATH: "/usr/bin:/bin" })!, join(bin, tool));
  return bin;
}

test("detection: found on the real PATH, not found without it", async () => {
  const found = await detectAnsible(hostExec);
  expect(found).toMatchObject({ found: true });
  expect(found.found && found.version).toMatch(/^2\.\d+\.\d+/);
  expect(await detectAnsible(hostExec, { PATH: pathWithoutAnsible() })).toEqual({ found: false, reason: "ansible-playbook is not in PATH" });
});

test("no ansible on the host and no Podman for the fallback image: the error says what to install or set", async () => {
  const PATH = pathWithoutAnsible();
  const exec: Exec = (cmd, args, opts) => hostExec(cmd, args, { ...opts, env: { ...opts?.env, PATH } });
  const dir = tempDir("fetchit-noansible-state-");
  const log = collectingLogger();
  const deps = { podman: createPodmanClient(join(dir, "no-podman.sock")), fs: createHostFs(), exec, state: createStateStore(createHostFs(), dir), log };
  const ctx = methodContext(deps, "t1", { name: "play", schedule: "@hourly", targetPath: "playbooks", timeout: 60 }, log);
  const content = Buffer.from("- hosts: localhost\n  tasks: []\n");
  const file = { relPath: "site.yml", path: "playbooks/site.yml", blob: "x", mode: "100644", content: async () => content, size: async () => content.length, stream: async function* () { yield content; }, copyTo: async () => {} };
  const err = await ansible.apply(ctx, file).then(() => undefined, (e: unknown) => e as Error);
  expect(err?.message).toStartWith(`playbooks/site.yml: cannot run the playbook: ansible-playbook is not in PATH on this host, and the fallback image ${DEFAULT_ANSIBLE_IMAGE} is not available (`);
  expect(err?.message).toContain("Install ansible-core on the host (Debian/Ubuntu: apt-get install ansible-core; Fedora/RHEL: dnf install ansible-core), or set `image:`");
  expect(log.lines.some((l) => l.level === "warn" && String(l.msg).includes("running playbooks in a container instead"))).toBe(true);
});
