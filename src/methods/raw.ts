/**
 * raw: one container per spec file, created and started through the Podman
 * API. Recreated only when the generated spec changes (its hash is kept in a
 * label); the container named by a deleted or renamed file is removed.
 */
import type { RawMethod } from "../config/types.ts";
import { MethodError, PodmanApiError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";
import type { ContainerSpec } from "../podman/index.ts";
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

async function removeContainer(ctx: MethodContext, name: string): Promise<boolean> {
  await ctx.podman.stopContainer(name, 10);
  return ctx.podman.removeContainer(name, { force: true });
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
    if (previous && previous.name !== spec.Name && (await removeContainer(ctx, previous.name))) {
      log.info("removed container renamed away in the spec", { old: previous.name });
    }
    const existing = await ctx.podman.inspectContainer(spec.Name);
    const pull = ctx.config.pullImage === true;
    if (existing && existing.Config.Labels?.[LABEL_HASH] === hash && existing.State.Running && !pull) {
      log.debug("container already matches its spec");
      return { resource: { name: spec.Name, hash }, changed: false };
    }
    await ctx.ensureImage(spec.Image, pull);
    if (existing) await removeContainer(ctx, spec.Name);
    try {
      await ctx.podman.createContainer(gen);
      await ctx.podman.startContainer(spec.Name);
    } catch (err) {
      if (err instanceof PodmanApiError) {
        throw new MethodError(`container ${spec.Name}: ${err.message}`, file.path, { cause: err, retryable: err.retryable });
      }
      throw err;
    }
    log.info(existing ? "container recreated" : "container created and started", { image: spec.Image });
    return { resource: { name: spec.Name, hash }, changed: true };
  },

  async remove(ctx, previous, relPath) {
    if (await removeContainer(ctx, previous.name)) ctx.log.info("container removed", { container: previous.name, file: relPath });
  },

  healthy: rawHealthy,

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
