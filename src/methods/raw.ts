/**
 * raw: one container per spec file, created and started through the Podman
 * API. Recreated only when the generated spec changes (its hash is kept in a
 * label); the container named by a deleted or renamed file is removed when it
 * is this method's. Names are looked up exactly (never as id prefixes) and
 * containers are then acted on by id. A same-named container fetchit did not
 * create is taken over with a warning, or refused with `adopt: false`.
 */
import type { RawMethod } from "../config/types.ts";
import { MethodError, PodmanApiError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";
import type { ContainerInspect, ContainerSpec } from "../podman/index.ts";
import { rawHealthy } from "./raw-health.ts";
import { parseRawSpec, type RawSpec } from "./raw-spec.ts";
import type { DesiredFile, Method, MethodContext } from "./types.ts";

export const LABEL_OWNER = "owned-by";
export const LABEL_TARGET = "io.fetchit.target";
export const LABEL_METHOD = "io.fetchit.method";
export const LABEL_HASH = "io.fetchit.spec-hash";
export const LABEL_FILE = "io.fetchit.file";
/** "true" when the restart policy means the container should always be running (always, unless-stopped). */
export const LABEL_KEEP_RUNNING = "io.fetchit.keep-running";

function networkOf(net: string | undefined): Pick<ContainerSpec, "netns" | "Networks"> {
  if (!net) return {};
  if (["host", "none", "private", "bridge"].includes(net)) return { netns: { nsmode: net } };
  return { netns: { nsmode: "bridge" }, Networks: Object.fromEntries(net.split(",").map((n) => [n.trim(), {}])) };
}

function restartOf(restart: string): Pick<ContainerSpec, "restart_policy" | "restart_tries"> {
  const [policy, tries] = restart.split(":");
  return tries ? { restart_policy: policy!, restart_tries: Number(tries) } : { restart_policy: policy! };
}

/** The libpod SpecGenerator for a raw spec, with fetchit's labels (hash excluded). */
export function toContainerSpec(spec: RawSpec, ctx: MethodContext<RawMethod>, file: string): ContainerSpec {
  return {
    name: spec.Name,
    image: spec.Image,
    env: spec.Env,
    labels: {
      ...spec.Labels,
      [LABEL_OWNER]: "fetchit",
      [LABEL_TARGET]: ctx.target,
      [LABEL_METHOD]: `raw/${ctx.config.name}`,
      [LABEL_FILE]: file,
      [LABEL_KEEP_RUNNING]: String(/^(always|unless-stopped)$/.test(spec.Restart)),
    },
    portmappings: spec.Ports.map((p) => ({ ...p, protocol: p.protocol ?? "tcp" })),
    mounts: spec.Mounts.map((m) => ({ ...m, options: m.options ?? [] })),
    volumes: spec.Volumes.map((v) => ({ Name: v.name, Dest: v.dest, Options: v.options ?? [] })),
    cap_add: spec.CapAdd,
    cap_drop: spec.CapDrop,
    ...(spec.Command ? { command: spec.Command } : {}),
    ...(spec.User ? { user: spec.User } : {}),
    ...(spec.Pod ? { pod: spec.Pod } : {}),
    ...(spec.StopTimeout !== undefined ? { stop_timeout: spec.StopTimeout } : {}),
    devices: spec.Devices.map((d) => ({ path: d })),
    ...networkOf(spec.Network),
    ...restartOf(spec.Restart),
    ...healthOf(spec),
  };
}

const NS = 1_000_000;

/** The healthcheck with podman CLI's defaults (interval 30s, timeout 30s, 3 retries); nothing without HealthCmd. */
function healthOf(spec: RawSpec): Pick<ContainerSpec, "healthconfig"> {
  if (!spec.HealthCmd) return {};
  return {
    healthconfig: {
      Test: spec.HealthCmd,
      Interval: (spec.HealthInterval ?? 30_000) * NS,
      Timeout: (spec.HealthTimeout ?? 30_000) * NS,
      StartPeriod: (spec.HealthStartPeriod ?? 0) * NS,
      Retries: spec.HealthRetries ?? 3,
    },
  };
}

/** A stable hash of everything that defines the container. */
export function specHash(spec: ContainerSpec): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
      : Array.isArray(v) ? v.map(canon) : v;
  return sha256(JSON.stringify(canon(spec))).slice(0, 32);
}

async function desired(ctx: MethodContext<RawMethod>, file: DesiredFile) {
  const spec = parseRawSpec(await file.content(), file.path);
  const gen = toContainerSpec(spec, ctx, file.path);
  const hash = specHash(gen);
  gen.labels = { ...gen.labels, [LABEL_HASH]: hash };
  return { spec, gen, hash };
}

/** Whether fetchit created `c` (any target or method). */
export const ownedByFetchit = (c: { Config: { Labels: Record<string, string> } }) => c.Config.Labels[LABEL_OWNER] === "fetchit";

/** Whether `c` is this raw method's (owner, target and method labels). */
const ownedHere = (ctx: MethodContext<RawMethod>, c: ContainerInspect) =>
  ownedByFetchit(c) && c.Config.Labels[LABEL_TARGET] === ctx.target && c.Config.Labels[LABEL_METHOD] === `raw/${ctx.config.name}`;

/** `container db (image docker.io/library/postgres:16, id 9375ab12cd34)`: how a take-over names what it replaces. */
export const describeContainer = (c: ContainerInspect) =>
  `container ${c.Name.replace(/^\//, "")} (image ${c.ImageName || c.Image}, id ${c.Id.slice(0, 12)})`;

/** Stops (with its own stop timeout: StopTimeout, default 10 s) and removes one container, by id. */
async function stopAndRemove(ctx: MethodContext, c: ContainerInspect): Promise<boolean> {
  await ctx.podman.stopContainer(c.Id, c.Config.StopTimeout);
  return ctx.podman.removeContainer(c.Id, { force: true });
}

/** Removes the container named `name` if it is this method's; anything else of that name is left alone. */
async function removeOwned(ctx: MethodContext<RawMethod>, name: string, what: string, fields: Record<string, unknown>): Promise<void> {
  const c = await ctx.podman.findContainer(name);
  if (!c) return;
  if (!ownedHere(ctx, c)) {
    ctx.log.warn(`${describeContainer(c)} was not created by this method: left alone`, { ...fields, container: name });
    return;
  }
  if (await stopAndRemove(ctx, c)) ctx.log.info(what, { ...fields, container: name });
}

/** A same-named container fetchit did not create: refused with `adopt: false`, else taken over with a warning. */
function takeOver(ctx: MethodContext<RawMethod>, c: ContainerInspect, path: string): void {
  if (ctx.config.adopt === false) {
    throw new MethodError(
      `${describeContainer(c)} exists and was not created by fetchit; this method has adopt: false, so it is left alone. Remove or rename that container, or set adopt: true to let fetchit replace it`,
      path,
    );
  }
  ctx.log.warn(`taking over ${describeContainer(c)}: it was not created by fetchit and is replaced`, {
    file: path, container: c.Name.replace(/^\//, ""), image: c.ImageName || c.Image,
  });
}

/**
 * The spec with its pod and networks resolved exactly (Podman would take an
 * unknown name as an id prefix and join someone else's pod or network): the
 * pod by id; a missing one is an error naming the field.
 */
async function resolveRefs(ctx: MethodContext<RawMethod>, gen: ContainerSpec, path: string): Promise<ContainerSpec> {
  const missing = (what: string, name: string) =>
    new MethodError(`${what}: ${what === "Pod" ? "pod" : "network"} "${name}" does not exist (names are matched exactly, never as id prefixes); create it first`, path);
  for (const net of Object.keys(gen.Networks ?? {})) if (!(await ctx.podman.networkExists(net))) throw missing("Network", net);
  if (!gen.pod) return gen;
  const pod = await ctx.podman.findPod(gen.pod);
  if (!pod) throw missing("Pod", gen.pod);
  return { ...gen, pod: pod.Id };
}

/** Creates and starts the container (in the small pool of heavy work), starting it by the id the create returned. */
async function createAndStart(ctx: MethodContext<RawMethod>, gen: ContainerSpec, name: string, path: string): Promise<void> {
  const heavy = ctx.limitHeavy ?? (<T>(fn: () => Promise<T>) => fn());
  try {
    await heavy(async () => {
      const { id } = await ctx.podman.createContainer(gen);
      await ctx.podman.startContainer(id);
    });
  } catch (err) {
    if (err instanceof PodmanApiError) throw new MethodError(`container ${name}: ${err.message}`, path, { cause: err, retryable: err.retryable });
    throw err;
  }
}

export const raw: Method<RawMethod> = {
  kind: "raw",
  usesPodman: true,
  extensions: [".json", ".yaml", ".yml"],

  async identify(ctx, file) {
    const { spec, hash } = await desired(ctx, file);
    return { name: spec.Name, hash };
  },

  async apply(ctx, file, previous) {
    const { spec, gen, hash } = await desired(ctx, file);
    const log = ctx.log.child({ file: file.path, container: spec.Name });
    if (previous && previous.name !== spec.Name) {
      await removeOwned(ctx, previous.name, "removed container renamed away in the spec", { file: file.path, old: previous.name });
    }
    const existing = await ctx.podman.findContainer(spec.Name);
    const pull = ctx.config.pullImage === true;
    if (existing && ownedByFetchit(existing) && existing.Config.Labels[LABEL_HASH] === hash && existing.State.Running && !pull) {
      log.debug("container already matches its spec");
      return { resource: { name: spec.Name, hash }, changed: false };
    }
    if (existing && !ownedByFetchit(existing)) takeOver(ctx, existing, file.path);
    const resolved = await resolveRefs(ctx, gen, file.path); // before the old container goes
    await ctx.ensureImage(spec.Image, pull);
    if (existing) await stopAndRemove(ctx, existing);
    await createAndStart(ctx, resolved, spec.Name, file.path);
    log.info(existing ? "container recreated" : "container created and started", { image: spec.Image });
    return { resource: { name: spec.Name, hash }, changed: true };
  },

  async remove(ctx, previous, relPath) {
    await removeOwned(ctx, previous.name, "container removed", { file: relPath });
  },

  healthy: rawHealthy,

  async takeovers(ctx, resource) {
    const c = await ctx.podman.findContainer(resource.name);
    return c && !ownedByFetchit(c) ? [describeContainer(c)] : [];
  },

  boundsHeavyWork: true,
  selfHealDefault: true,
  async drifted(ctx, resources) {
    const labels = [`${LABEL_TARGET}=${ctx.target}`, `${LABEL_METHOD}=raw/${ctx.config.name}`];
    const seen = new Map<string, { ok: boolean; hash?: string }>();
    for (const c of await ctx.podman.listContainers({ all: true, labels })) {
      // one-shot containers (Restart: no / on-failure) may have exited; that is not drift
      const ok = c.State === "running" || c.Labels[LABEL_KEEP_RUNNING] === "false";
      for (const n of c.Names) seen.set(n.replace(/^\//, ""), { ok, hash: c.Labels[LABEL_HASH] });
    }
    return Object.entries(resources)
      .filter(([, r]) => {
        const c = seen.get(r.name);
        return !c || !c.ok || c.hash !== r.hash;
      })
      .map(([rel]) => rel);
  },
};
