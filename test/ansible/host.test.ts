/**
 * The ansible method with Debian's real ansible-playbook on this host
 * (connection local), driven through the CLI against real git repositories.
 */
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { failingPlaybook, requireAnsible, rolePlaybook, runsOf, writePlaybook } from "./fixture.ts";

const ansibleMethod = (extra = "") =>
  `    ansible:\n      - name: play\n        targetPath: playbooks\n        schedule: "*/5 * * * * *"\n${extra}`;

async function statusOf(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
}

beforeAll(() => requireAnsible());

describe("ansible on the host", () => {
  let remote: TestRemote;
  let out: string;
  let h: Harness;
  beforeEach(async () => {
    out = tempDir("fetchit-ansible-out-");
    remote = await createRemote({ "playbooks/site.yml": writePlaybook(out, "site"), "README.md": "docs\n" });
    h = harness(undefined, targetConfig(remote.url, ansibleMethod()));
  });

  test("runs an added playbook once; state advances; unchanged commits do not re-run it; a change does", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(out, "site.txt"), "utf8")).toBe("hello from site\n");
    let st = await statusOf(h);
    expect(st.appliedCommit).toBe(await remote.head());
    expect(st.resources.map((r: any) => r.file)).toEqual(["site.yml"]);
    expect(runsOf(out)).toEqual(["site"]);

    expect((await h.cli("sync")).code).toBe(0); // same commit
    await remote.commit({ "README.md": "more docs\n" }); // a commit that does not touch the playbook
    expect((await h.cli("sync")).code).toBe(0);
    expect(runsOf(out)).toEqual(["site"]);

    await remote.commit({ "playbooks/site.yml": writePlaybook(out, "site", "changed") });
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(out, "site.txt"), "utf8")).toBe("changed\n");
    expect(runsOf(out)).toEqual(["site", "site"]);
    st = await statusOf(h);
    expect(st.appliedCommit).toBe(await remote.head());
    expect(st.lastError).toBeNull();

    // new method settings re-check every file, but a playbook whose content already ran is not run again
    h.writeConfig(targetConfig(remote.url, ansibleMethod("        timeout: 120\n")));
    expect((await h.cli("sync")).code).toBe(0);
    expect(runsOf(out)).toEqual(["site", "site"]);
  }, 60_000);

  test("nothing can prompt: vars_prompt gets no input (no terminal, no stdin) and the run goes on", async () => {
    await remote.commit({
      "playbooks/site.yml": `- hosts: localhost
  gather_facts: false
  vars_prompt:
    - name: answer
      prompt: "type something"
  tasks:
    - name: record what the prompt got
      ansible.builtin.copy:
        dest: ${out}/answer.txt
        content: "{{ answer | default('none') }}"
`,
    });
    const start = Date.now();
    expect((await h.cli("sync")).code).toBe(0);
    expect(Date.now() - start).toBeLessThan(30_000);
    expect(readFileSync(join(out, "answer.txt"), "utf8")).toBe("None");
  }, 60_000);

  test("a failing playbook fails its file with the task's message; the state does not advance; the others run once", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    const good = await remote.head();
    await remote.commit({
      "playbooks/b-fail.yml": failingPlaybook("disk too small on /srv"),
      "playbooks/c-cmd.yml": "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: run the check script\n      ansible.builtin.shell: echo 'no space left' >&2; exit 3\n",
      "playbooks/d-new.yml": writePlaybook(out, "new"),
    });
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    const st = await statusOf(h);
    expect(st.appliedCommit).toBe(good);
    expect(st.lastError.commit).toBe(await remote.head());
    expect(st.lastError.retryable).toBe(false);
    expect(st.lastError.files.sort()).toEqual(["playbooks/b-fail.yml", "playbooks/c-cmd.yml"]);
    expect(st.lastError.message).toContain('playbooks/b-fail.yml: playbook failed: task "check disk" failed on localhost: disk too small on /srv');
    expect(st.lastError.message).toContain('playbooks/c-cmd.yml: playbook failed: task "run the check script" failed on localhost: non-zero return code: rc=3: no space left');
    expect(runsOf(out)).toEqual(["site", "new"]);

    // fixing the playbook: only the fixed one runs; the ones that succeeded are not run again
    await remote.commit({ "playbooks/b-fail.yml": writePlaybook(out, "fixed"), "playbooks/c-cmd.yml": null });
    expect((await h.cli("sync")).code).toBe(0);
    expect(runsOf(out)).toEqual(["site", "new", "fixed"]);
    expect((await statusOf(h)).appliedCommit).toBe(await remote.head());
  }, 90_000);

  test("a playbook with a syntax error names the error and the repository file", async () => {
    await remote.commit({ "playbooks/site.yml": "- hosts: localhost\n  tasks:\n    - name: x\n      no_such_module_zz: {}\n" });
    expect((await h.cli("sync")).code).toBe(1);
    const msg: string = (await statusOf(h)).lastError.message;
    expect(msg).toContain("playbooks/site.yml: playbook failed: ERROR! couldn't resolve module/action 'no_such_module_zz'");
    expect(msg).toContain("The error appears to be in 'playbooks/site.yml': line 3");
    expect(msg).not.toContain("fetchit-ansible-"); // no scratch paths
  }, 60_000);

  test("a playbook that outlives `timeout` is killed with every process it started", async () => {
    const marker = `${3000 + Math.floor(Math.random() * 5000)}`;
    await remote.commit({
      "playbooks/site.yml": `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: hang\n      ansible.builtin.command: sleep ${marker}\n`,
    });
    h.writeConfig(targetConfig(remote.url, ansibleMethod("        timeout: 3\n")));
    const start = Date.now();
    expect((await h.cli("sync")).code).toBe(1);
    expect(Date.now() - start).toBeLessThan(20_000);
    const st = await statusOf(h);
    expect(st.lastError.message).toContain("playbooks/site.yml: ansible-playbook did not finish within 3 s and was killed with all its processes");
    expect(st.appliedCommit).toBeNull();
    const sleepers = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`sleep\0${marker}`);
      } catch {
        return false;
      }
    });
    expect(sleepers).toEqual([]);
  }, 60_000);

  test("glob and extensions select the playbooks; other files under targetPath never run", async () => {
    await remote.commit({
      "playbooks/site.yml": null,
      "playbooks/web-a.yml": writePlaybook(out, "web-a"),
      "playbooks/web-b.yaml": writePlaybook(out, "web-b"),
      "playbooks/db.yml": writePlaybook(out, "db"),
      "playbooks/web-notes.txt": "not a playbook\n",
    });
    h.writeConfig(targetConfig(remote.url, ansibleMethod('        glob: "web-*"\n')));
    expect((await h.cli("sync")).code).toBe(0);
    expect(runsOf(out)).toEqual(["web-a", "web-b"]); // one at a time, in path order
    expect((await statusOf(h)).resources.map((r: any) => r.file).sort()).toEqual(["web-a.yml", "web-b.yaml"]);
    // A changed playbook and a new one after it: still path order (not new files first).
    await remote.commit({ "playbooks/web-a.yml": writePlaybook(out, "web-a", "changed"), "playbooks/web-c.yml": writePlaybook(out, "web-c") });
    expect((await h.cli("sync")).code).toBe(0);
    expect(runsOf(out)).toEqual(["web-a", "web-b", "web-a", "web-c"]);
  }, 60_000);

  test("roles, templates, vars files and scripts next to the playbook are there when it runs", async () => {
    const files = Object.fromEntries(Object.entries(rolePlaybook(out)).map(([k, v]) => [`playbooks/${k}`, v]));
    await remote.commit(files);
    h.writeConfig(targetConfig(remote.url, ansibleMethod('        glob: "site.yml"\n')));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(out, "greeting.txt"), "utf8")).toBe("hello edge from the template\n");
    expect(readFileSync(join(out, "script.txt"), "utf8")).toBe("script ran\n");
    expect((await statusOf(h)).resources.map((r: any) => r.file)).toEqual(["site.yml"]);
  }, 60_000);

  test("a deleted playbook undoes nothing; its record is dropped", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    await remote.commit({ "playbooks/site.yml": null });
    expect((await h.cli("sync")).code).toBe(0);
    const st = await statusOf(h);
    expect(st.resources).toEqual([]);
    expect(st.appliedCommit).toBe(await remote.head());
    expect(existsSync(join(out, "site.txt"))).toBe(true);
  }, 60_000);
});
