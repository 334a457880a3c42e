/**
 * Podman objects whose id starts with a chosen hex prefix, for identity tests:
 * Podman resolves a name it does not know as a unique id prefix, so a
 * container named "db" must never reach a container whose id starts with
 * "db". Objects are created (through the API: fast) until one's id starts
 * with one of the prefixes; the others are removed again, so the prefix is
 * unique in the store.
 */
import { createPodmanClient, type PodmanClient } from "../../src/podman/index.ts";
import type { TestPodman } from "./podman.ts";

/** Two-letter hex names a person could give a service ("db", "ad", "be", "ca", …): 36 of them, so about 7 tries. */
export const HEX_NAMES = [..."abcdef"].flatMap((a) => [..."abcdef"].map((b) => a + b));

/** A user's object that fetchit must leave alone: its id and the prefix (a valid name) it starts with. */
export interface Bystander {
  id: string;
  prefix: string;
}

const MAX_TRIES = 200;
const client = (podman: TestPodman): PodmanClient => createPodmanClient(podman.socketPath);

/** Creates objects with `make` until one's id starts with a prefix of `prefixes`; `drop` removes the misses. */
async function untilPrefix(make: (i: number) => Promise<string>, drop: (id: string) => Promise<void>, prefixes: string[]): Promise<Bystander> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const id = await make(i);
    const prefix = prefixes.find((p) => id.startsWith(p));
    if (prefix) return { id, prefix };
    await drop(id);
  }
  throw new Error(`no id starting with one of ${prefixes.join(",")} after ${MAX_TRIES} tries`);
}

/**
 * A running container, named `users-own-<n>` and labelled as nobody's, whose
 * id starts with one of `prefixes` (a command that exits at once on SIGTERM).
 */
export async function containerWithIdPrefix(podman: TestPodman, prefixes = HEX_NAMES): Promise<Bystander> {
  const c = client(podman);
  const tag = Math.random().toString(36).slice(2, 8);
  const found = await untilPrefix(
    async (i) => (await c.createContainer({ image: podman.image, name: `users-own-${tag}-${i}`, command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"] })).id,
    async (id) => void (await c.removeContainer(id, { force: true })),
    prefixes,
  );
  await c.startContainer(found.id);
  return found;
}

/** A running pod (no infra container; one sleeper in it), named `users-pod-<n>`, whose id starts with one of `prefixes`. */
export async function podWithIdPrefix(podman: TestPodman, prefixes = HEX_NAMES): Promise<Bystander> {
  const c = client(podman);
  const tag = Math.random().toString(36).slice(2, 8);
  const found = await untilPrefix(
    async (i) => (await c.request<{ Id: string }>("POST", "/pods/create", { body: { name: `users-pod-${tag}-${i}`, no_infra: true } })).Id,
    async (id) => void (await c.requestRaw("DELETE", `/pods/${id}`, { query: { force: true } })),
    prefixes,
  );
  const { id } = await c.createContainer({ image: podman.image, pod: found.id, command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"] });
  await c.startContainer(id);
  return found;
}

/** A network named `users-net-<n>` whose id starts with one of `prefixes`. */
export async function networkWithIdPrefix(podman: TestPodman, prefixes = HEX_NAMES): Promise<Bystander> {
  const c = client(podman);
  const tag = Math.random().toString(36).slice(2, 8);
  return untilPrefix(
    async (i) => (await c.request<{ id: string }>("POST", "/networks/create", { body: { name: `users-net-${tag}-${i}` } })).id,
    async (id) => void (await c.requestRaw("DELETE", `/networks/${id}`)),
    prefixes,
  );
}

/** Id, state and whether it runs, of a container or pod by id (null when gone), from the podman CLI. */
export async function stateOf(podman: TestPodman, kind: "container" | "pod", id: string): Promise<{ id: string; running: boolean } | null> {
  try {
    const out = JSON.parse(await podman.cli([kind, "inspect", id]));
    const o = Array.isArray(out) ? out[0] : out;
    return { id: o.Id, running: kind === "container" ? o.State.Running === true : o.State === "Running" };
  } catch {
    return null;
  }
}
