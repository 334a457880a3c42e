/** Pure parts of the ansible container mode: the log framing, the archive, the container spec. */
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { ansibleContainerSpec, logText } from "../../src/methods/ansible-container.ts";
import { filesWithParents, tarArchive } from "../../src/methods/ansible-tar.ts";
import { run } from "../support/exec.ts";
import { tempDir } from "../support/git.ts";

/** A logs-endpoint frame as the client hands it over: the bytes decoded as UTF-8. */
function frame(stream: 1 | 2, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const h = new Uint8Array(8);
  h[0] = stream;
  new DataView(h.buffer).setUint32(4, payload.length);
  return new Uint8Array([...h, ...payload]);
}

describe("ansible container mode", () => {
  test("log frames are removed, whatever their length (length bytes above 127 included)", () => {
    const long = `${"x".repeat(200)} é\n`;
    const bytes = new Uint8Array([...frame(1, "PLAY [localhost] ***\r\n"), ...frame(1, long), ...frame(2, "ERROR! bad\n")]);
    expect(logText(new TextDecoder().decode(bytes))).toBe(`PLAY [localhost] ***\r\n${long}ERROR! bad\n`);
    expect(logText("plain text\n")).toBe("plain text\n");
  });

  test("the archive extracts with tar: parents first, content and modes kept, long paths split", async () => {
    const deep = `${"d".repeat(60)}/${"e".repeat(60)}/site.yml`;
    const data = new TextEncoder().encode("- hosts: localhost\n");
    const dir = tempDir("fetchit-tar-");
    const script = new TextEncoder().encode("#!/bin/sh\n");
    const files = [{ relPath: deep, data }, { relPath: "roles/r/tasks/main.yml", data }, { relPath: "roles/r/files/run.sh", data: script, mode: 0o700 }];
    await Bun.write(`${dir}/a.tar`, tarArchive(filesWithParents("/opt/fetchit", files)));
    const r = await run(["tar", "-C", dir, "-xvf", `${dir}/a.tar`]);
    expect(r.code).toBe(0);
    expect(await Bun.file(`${dir}/opt/fetchit/${deep}`).text()).toBe("- hosts: localhost\n");
    expect(await Bun.file(`${dir}/opt/fetchit/roles/r/tasks/main.yml`).text()).toBe("- hosts: localhost\n");
    expect(statSync(`${dir}/opt/fetchit/roles/r/files/run.sh`).mode & 0o777).toBe(0o700);
    expect(r.stdout.split("\n").filter(Boolean)).toEqual([
      "opt/", "opt/fetchit/", `opt/fetchit/${"d".repeat(60)}/`, `opt/fetchit/${"d".repeat(60)}/${"e".repeat(60)}/`, `opt/fetchit/${deep}`,
      "opt/fetchit/roles/", "opt/fetchit/roles/r/", "opt/fetchit/roles/r/tasks/", "opt/fetchit/roles/r/tasks/main.yml",
      "opt/fetchit/roles/r/files/", "opt/fetchit/roles/r/files/run.sh",
    ]);
  });

  test("the spec: FetchIt's namespaces, ssh mode only with sshDirectory, no restart, a terminal", () => {
    const base = { image: "img", name: "n", labels: {}, playbook: "sub/site.yml", files: [], timeoutSeconds: 5 };
    const local = ansibleContainerSpec(base);
    expect(local.command).toEqual(["ansible-playbook", "-i", "localhost,", "-c", "local", "--", "/opt/fetchit/sub/site.yml"]);
    expect(local.mounts).toEqual([]);
    expect({ net: local.netns, pid: local.pidns, restart: local.restart_policy, tty: local.terminal }).toEqual({
      net: { nsmode: "host" }, pid: { nsmode: "host" }, restart: "no", tty: true,
    });
    const ssh = ansibleContainerSpec({ ...base, sshDirectory: "/root/.ssh" });
    expect(ssh.command).toContain("ansible_connection=ssh");
    expect(ssh.env?.ANSIBLE_HOST_KEY_CHECKING).toBe("False");
    expect(ssh.mounts).toEqual([{ destination: "/root/.ssh", type: "bind", source: "/root/.ssh", options: ["rbind"] }]);
  });
});
