/**
 * The ansible method in container mode (`image` set), through the real Podman
 * service, with a real ansible-playbook in a locally built image (see
 * test/ansible/image.ts). Runs on Podman 4 and, in CI, on Podman 5.
 */
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../src/host/fs.ts";
import { ensureAnsibleImage } from "../ansible/image.ts";
import { failingPlaybook, rolePlaybook, writePlaybook } from "../ansible/fixture.ts";
import { startRootSshd } from "../ansible/root-sshd.ts";
import { harness, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
let image: string;

const ansibleMethod = (extra = "") =>
  `    ansible:\n      - name: play\n        targetPath: playbooks\n        image: ${image}\n        schedule: "*/5 * * * * *"\n${extra}`;

/** Passes only inside a container, with the playbook copied to /opt/fetchit. */
const inContainerPlaybook = `- hosts: localhost
  gather_facts: false
  tasks:
    - name: look for the copied playbook and podman's marker file
      ansible.builtin.stat:
        path: "{{ item }}"
      loop: [/opt/fetchit/site.yml, /run/.containerenv]
      register: found
    - name: assert we run in the container
      ansible.builtin.assert:
        that: "{{ found.results | map(attribute='stat.exists') | list == [true, true] }}"
        fail_msg: "not in the container: {{ found.results | map(attribute='stat.exists') | list }}"
`;

async function statusOf(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
}
async function containers(): Promise<string[]> {
  return (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean);
}

beforeAll(async () => {
  podman = await sharedPodman();
  image = await ensureAnsibleImage(podman);
}, 120_000);

describe("ansible in a container", () => {
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    await podman.reset();
    remote = await createRemote({ "playbooks/site.yml": inContainerPlaybook });
    h = harness(podman, targetConfig(remote.url, ansibleMethod()));
  });

  test("runs the playbook in a container of `image`, checks its exit code, removes the container", async () => {
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    const st = await statusOf(h);
    expect(st.lastError).toBeNull();
    expect(st.appliedCommit).toBe(await remote.head());
    expect(st.resources.map((x: any) => x.file)).toEqual(["site.yml"]);
    expect(await containers()).toEqual([]);
  }, 120_000);

  test("the role, template, vars file and script next to the playbook are copied in with it", async () => {
    const files = rolePlaybook("/tmp");
    files["site.yml"] += `  post_tasks:
    - name: the template and the script did their work inside the container
      ansible.builtin.assert:
        that:
          - lookup('file', '/tmp/greeting.txt') == 'hello edge from the template'
          - lookup('file', '/tmp/script.txt') == 'script ran'
`;
    await remote.commit(Object.fromEntries(Object.entries(files).map(([k, v]) => [`playbooks/${k}`, v])));
    h.writeConfig(targetConfig(remote.url, ansibleMethod('        glob: "site.yml"\n')));
    expect((await h.cli("sync")).code).toBe(0);
    const st = await statusOf(h);
    expect(st.lastError).toBeNull();
    expect(st.appliedCommit).toBe(await remote.head());
  }, 120_000);

  test("a failing playbook fails its file with the task's message read from the container log", async () => {
    await remote.commit({ "playbooks/site.yml": failingPlaybook("package repository unreachable") });
    expect((await h.cli("sync")).code).toBe(1);
    const st = await statusOf(h);
    expect(st.appliedCommit).toBeNull();
    expect(st.lastError.message).toBe('playbooks/site.yml: playbook failed: task "check disk" failed on localhost: package repository unreachable');
    expect(await containers()).toEqual([]);
  }, 120_000);

  test("a syntax error names the repository file, not the path inside the container", async () => {
    await remote.commit({ "playbooks/site.yml": "- hosts: localhost\n  tasks:\n    - name: x\n      no_such_module_zz: {}\n" });
    expect((await h.cli("sync")).code).toBe(1);
    const msg: string = (await statusOf(h)).lastError.message;
    expect(msg).toContain("ERROR! couldn't resolve module/action 'no_such_module_zz'");
    expect(msg).toContain("The error appears to be in 'playbooks/site.yml': line 3");
  }, 120_000);

  test("a playbook that outlives `timeout` is stopped and its container removed", async () => {
    await remote.commit({ "playbooks/site.yml": "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: sleep 600\n" });
    h.writeConfig(targetConfig(remote.url, ansibleMethod("        timeout: 3\n")));
    const start = Date.now();
    expect((await h.cli("sync")).code).toBe(1);
    expect(Date.now() - start).toBeLessThan(30_000);
    expect((await statusOf(h)).lastError.message).toContain("playbooks/site.yml: ansible-playbook did not finish within 3 s");
    expect(await containers()).toEqual([]);
  }, 120_000);

  test("a missing sshDirectory fails the file with a clear error before any container is made", async () => {
    h.writeConfig(targetConfig(remote.url, ansibleMethod("        sshDirectory: /nonexistent/fetchit-ssh\n")));
    expect((await h.cli("sync")).code).toBe(1);
    expect((await statusOf(h)).lastError.message).toBe(
      'playbooks/site.yml: sshDirectory /nonexistent/fetchit-ssh of ansible method "play" is not a directory on this host; ' +
        "create it with the SSH key (and config or known_hosts) that lets the container log in to this host as root, or remove sshDirectory",
    );
    expect(await containers()).toEqual([]);
  }, 120_000);

  test("an image without ansible-playbook: the file fails with Podman's reason and the image named", async () => {
    h.writeConfig(targetConfig(remote.url, ansibleMethod().replace(`image: ${image}`, `image: ${podman.image}`)));
    expect((await h.cli("sync")).code).toBe(1);
    const msg: string = (await statusOf(h)).lastError.message;
    expect(msg).toStartWith(`playbooks/site.yml: running the playbook in a container of ${podman.image} failed: `);
    expect(msg).toContain("ansible-playbook");
    expect(await containers()).toEqual([]);
  }, 120_000);

  test("a container left by an interrupted run is replaced; a same-named one fetchit did not create is left alone", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    expect(await containers()).toEqual([]);
    // simulate a crash mid-run: a container of that name, with fetchit's labels, exists when the next run starts
    const leftover = `fetchit-ansible-play-${sha256("t1\nplaybooks/site.yml").slice(0, 12)}`;
    const labels = ["owned-by=fetchit", "io.fetchit.target=t1", "io.fetchit.method=ansible/play"].flatMap((l) => ["--label", l]);
    await podman.cli(["create", "--name", leftover, ...labels, podman.image, "true"]);
    await remote.commit({ "playbooks/site.yml": `${inContainerPlaybook}\n# changed\n` });
    expect((await h.cli("sync")).code).toBe(0);
    expect(await containers()).toEqual([]);
    // someone else's container of that name: the file fails, the container stays
    const theirs = await podman.cli(["create", "--name", leftover, podman.image, "true"]);
    await remote.commit({ "playbooks/site.yml": `${inContainerPlaybook}\n# changed again\n` });
    expect((await h.cli("sync")).code).toBe(1);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.lastError.message).toContain(`container ${leftover} (image ${podman.image}) exists and was not created by fetchit; it is left alone. Remove or rename it`);
    expect((await podman.cli(["inspect", "--format", "{{.Id}}", leftover]))).toBe(theirs);
  }, 120_000);
});

test("FetchIt's ssh-to-host mode: with sshDirectory the container reaches this host over SSH as root and the playbook changes the host", async () => {
  await podman.reset();
  // Podman 4: the container shares the host's network; Podman 5 (testbed): the host's address on the testbed network.
  const sshd = await startRootSshd(podman.registryHost.replace(/:\d+$/, ""), podman.dir);
  try {
    const out = tempDir("fetchit-ansible-ssh-out-");
    const remote = await createRemote({ "playbooks/site.yml": writePlaybook(out, "over-ssh") });
    const h = harness(podman, targetConfig(remote.url, ansibleMethod(`        sshDirectory: ${sshd.sshDirectory}\n`)));
    const r = await h.cli("sync");
    expect({ code: r.code, error: (await statusOf(h)).lastError?.message ?? null }).toEqual({ code: 0, error: null });
    expect(readFileSync(join(out, "over-ssh.txt"), "utf8")).toBe("hello from over-ssh\n");
    expect(sshd.log()).toContain("Accepted publickey for root");
    expect(await containers()).toEqual([]);
  } finally {
    await sshd.close();
  }
}, 120_000);
