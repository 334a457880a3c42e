/**
 * Running one playbook in a container through the Podman API (FetchIt's way,
 * used when the method sets `image` or the host has no ansible-playbook):
 * host network and PID namespace as in FetchIt, `sshDirectory` bind-mounted at
 * /root/.ssh, the playbook copied in with the archive endpoint (no host
 * directory has to be visible to the Podman service), started, waited for
 * with a deadline, its log read, and the container removed. The name is
 * looked up exactly and the container acted on by id; a leftover of that name
 * is removed only when fetchit created it.
 *
 * Connection: with `sshDirectory`, FetchIt's ssh-to-host mode
 * (`-e ansible_connection=ssh`, host key checking off as in FetchIt's image);
 * without it, connection local, which acts inside the container only.
 */
import { MethodError, PodmanApiError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ContainerSpec, PodmanClient } from "../podman/index.ts";
import { ANSIBLE_ENV, type PlaybookRun } from "./ansible-host.ts";
import { filesWithParents, tarArchive } from "./ansible-tar.ts";
import { ownedByFetchit } from "./raw.ts";

/** Where the playbook lands inside the container. */
export const PLAYBOOK_DIR = "/opt/fetchit";

/** One file of a playbook run, relative to targetPath (the playbook itself, a role, a template). */
export interface PlaybookFile {
  relPath: string;
  data: Uint8Array;
  mode: number;
}
const POLL_MS = 500;

export interface ContainerRunOptions {
  image: string;
  /** Container name (a leftover of a crashed run with this name is removed first). */
  name: string;
  labels: Record<string, string>;
  /** Playbook path relative to PLAYBOOK_DIR. */
  playbook: string;
  /** The playbook and the files next to it, copied under PLAYBOOK_DIR. */
  files: PlaybookFile[];
  sshDirectory?: string;
  timeoutSeconds: number;
}

/** The container spec: a terminal (so the log is one plain stream), no restart, FetchIt's namespaces and mount. */
export function ansibleContainerSpec(o: ContainerRunOptions): ContainerSpec & { terminal: boolean } {
  const connection = o.sshDirectory ? ["-e", "ansible_connection=ssh"] : ["-c", "local"];
  return {
    image: o.image,
    name: o.name,
    labels: o.labels,
    command: ["ansible-playbook", "-i", "localhost,", ...connection, "--", `${PLAYBOOK_DIR}/${o.playbook}`],
    env: { ...ANSIBLE_ENV, ...(o.sshDirectory ? { ANSIBLE_HOST_KEY_CHECKING: "False" } : {}) },
    work_dir: PLAYBOOK_DIR,
    netns: { nsmode: "host" },
    pidns: { nsmode: "host" },
    mounts: o.sshDirectory ? [{ destination: "/root/.ssh", type: "bind", source: o.sshDirectory, options: ["rbind"] }] : [],
    restart_policy: "no",
    terminal: true,
  };
}

/**
 * The log as text. The logs endpoint frames every chunk with an 8-byte header
 * (stream 1 or 2, three zero bytes, a 4-byte big-endian length), terminal or
 * not; the client hands the body over as decoded text, in which each header
 * is still 8 characters (the length bytes that are not ASCII each decode to
 * one replacement character, as the payload after them starts a valid UTF-8
 * sequence). The headers are removed; text without them is returned as is.
 */
export function logText(body: string): string {
  return body.replace(/[\x01\x02]\x00\x00\x00[\s\S]{4}/g, "");
}

/** Polls until the container stops; false when the deadline passed first. */
async function waitStopped(podman: PodmanClient, id: string, deadline: number): Promise<boolean> {
  for (;;) {
    const c = await podman.inspectContainer(id);
    if (!c || !c.State.Running && c.State.Status !== "created" && c.State.Status !== "initialized") return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
}

/** Removes a leftover of an interrupted run (exact name, fetchit's only); another container of that name is an error. */
async function removeLeftover(podman: PodmanClient, o: ContainerRunOptions, log: Logger): Promise<void> {
  const c = await podman.findContainer(o.name);
  if (!c) return;
  if (!ownedByFetchit(c)) {
    throw new MethodError(
      `container ${o.name} (image ${c.ImageName || c.Image}) exists and was not created by fetchit; it is left alone. Remove or rename it so the playbook can run`,
      o.playbook,
    );
  }
  if (await podman.removeContainer(c.Id, { force: true, timeoutSeconds: 0 })) {
    log.info("removed a leftover ansible container of an interrupted run", { container: o.name });
  }
}

/** Creates, fills, starts and waits for the container; always removes it. */
export async function runInContainer(podman: PodmanClient, o: ContainerRunOptions, log: Logger): Promise<PlaybookRun> {
  const start = Date.now();
  await removeLeftover(podman, o, log);
  const { id } = await podman.createContainer(ansibleContainerSpec(o));
  try {
    const tar = tarArchive(filesWithParents(PLAYBOOK_DIR, o.files));
    await podman.requestRaw("PUT", `/containers/${id}/archive`, {
      query: { path: "/" },
      body: tar,
      headers: { "content-type": "application/x-tar" },
    });
    await podman.startContainer(id);
    const stopped = await waitStopped(podman, id, start + o.timeoutSeconds * 1000);
    if (!stopped) await podman.stopContainer(id, 5);
    const info = await podman.inspectContainer(id);
    const logs = await podman.requestRaw("GET", `/containers/${id}/logs`, {
      query: { stdout: true, stderr: true },
    });
    return { code: info?.State.ExitCode ?? -1, output: logText(logs.text), timedOut: !stopped, ms: Date.now() - start };
  } finally {
    await podman.removeContainer(id, { force: true, timeoutSeconds: 0 }).catch((err: unknown) => {
      log.warn("could not remove the ansible container; prune (scope fetchit) or the next run removes it", {
        container: o.name, err: err instanceof PodmanApiError ? err.message : String(err),
      });
    });
  }
}
