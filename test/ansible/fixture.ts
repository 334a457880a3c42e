/** Shared bits of the ansible tests: the prerequisite check and small playbooks. */
import { existsSync, readFileSync } from "node:fs";

/** Throws (never skips) when the host has no ansible-playbook. */
export function requireAnsible(): void {
  if (!Bun.which("ansible-playbook")) {
    throw new Error("ansible-playbook is missing: run `bash test/support/prepare.sh` (installs Debian's ansible-core)");
  }
}

/** A playbook that appends one line per run to `<dir>/runs.log` and writes `<dir>/<name>.txt`. */
export const writePlaybook = (dir: string, name: string, content = `hello from ${name}`) => `- hosts: localhost
  gather_facts: false
  tasks:
    - name: write ${name}
      ansible.builtin.copy:
        dest: ${dir}/${name}.txt
        content: "${content}\\n"
    - name: count the run
      ansible.builtin.shell: echo ${name} >> ${dir}/runs.log
`;

/** A playbook whose second task fails with `msg`. */
export const failingPlaybook = (msg: string) => `- hosts: localhost
  gather_facts: false
  tasks:
    - name: harmless
      ansible.builtin.debug:
        msg: before
    - name: check disk
      ansible.builtin.fail:
        msg: "${msg}"
`;

/** Lines of runs.log (which playbook ran, in order); [] when none ran. */
export function runsOf(dir: string): string[] {
  const p = `${dir}/runs.log`;
  return existsSync(p) ? readFileSync(p, "utf8").split("\n").filter(Boolean) : [];
}

/**
 * A playbook (`site.yml`) that uses a role with a template, a vars file and an
 * executable script next to it: files `rolePlaybook(out)` maps to, relative to targetPath.
 * Running it writes `<out>/greeting.txt` ("hello <who> from the template") and `<out>/script.txt`.
 */
export const rolePlaybook = (out: string): Record<string, string> => ({
  "site.yml": `- hosts: localhost
  gather_facts: false
  vars_files: [vars/main.yml]
  roles: [greet]
`,
  "vars/main.yml": "who: edge\n",
  "roles/greet/tasks/main.yml": `- name: render the template
  ansible.builtin.template:
    src: greeting.j2
    dest: ${out}/greeting.txt
- name: run the script shipped with the role
  ansible.builtin.script: run.sh ${out}/script.txt
`,
  "roles/greet/templates/greeting.j2": "hello {{ who }} from the template\n",
  "roles/greet/files/run.sh": "#!/bin/sh\necho script ran > \"$1\"\n",
});
