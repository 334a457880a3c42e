/**
 * Builds the runnable jobs of a config: one GitSource per target (a git
 * remote, a disconnected source or an oci:// artifact; shared by
 * its methods, so one fetch per target per tick) and one job per method entry;
 * plus the scheduled tasks without git (prune, image loaders). Kinds and
 * features without an implementation yet are listed, not dropped silently.
 */
import { join } from "node:path";
import { targetKey } from "../config/index.ts";
import { resolveHealth } from "../config/health.ts";
import { resolveRollout } from "../config/rollout.ts";
import { METHOD_KINDS, type CommonMethod, type FetchitConfig } from "../config/types.ts";
import { archiveLimits, createCommitVerifier, createDisconnectedSource, createGitSource, disconnectedLabel, effectiveGitAuth, type GitSource } from "../git/index.ts";
import type { Logger } from "../log.ts";
import { createOciLayoutSource, createOciSource, createOciVerifier, isLayoutUrl, isOciUrl } from "../oci/index.ts";
import { methods } from "../methods/index.ts";
import { createImagesTask } from "../tasks/images.ts";
import { methodRef } from "../tasks/prune-select.ts";
import { createAutoUpdateTask } from "../tasks/auto-update.ts";
import { createPruneTask } from "../tasks/prune.ts";
import type { Task } from "../tasks/types.ts";
import { peerId } from "./ownership.ts";
import type { MethodJob } from "./run-method.ts";

export interface JobSet {
  jobs: MethodJob[];
  /** Scheduled tasks without git: prune, then one per images entry. */
  tasks: Task[];
  /** Human-readable notes about configured things that will not run in this version. */
  unavailable: string[];
}

export function buildJobs(config: FetchitConfig, stateDir: string, log: Logger): JobSet {
  const jobs: MethodJob[] = [];
  const unavailable: string[] = [];
  const sources = new Map<string, GitSource>();
  const globalHealth = config.health;
  config.targetConfigs.forEach((t, ti) => {
    const target = targetKey(t);
    const why = unsupportedTarget(t);
    if (why) {
      unavailable.push(`targetConfigs[${ti}] (${target}): ${why}; its methods will not run`);
      return;
    }
    const auth = isOciUrl(t.url) || isLayoutUrl(t.url) ? undefined : effectiveGitAuth(config.gitAuth, t, ti);
    const rollout = resolveRollout(config.rollout, t.rollout);
    const staged = { ...(rollout ? { rollout } : {}), ...(config.context ? { context: config.context } : {}) };
    // Targets share a source (one fetch per tick) only when they also share credentials: never fetch for one target with another's.
    const sourceKey = t.disconnected ? `disconnected\n${disconnectedLabel(t)}\n${t.branch}` : `${t.url}\n${t.branch}\n${JSON.stringify(auth?.auth ?? null)}\n${t.tlsVerify !== false}`;
    const fullHistory = config.targetConfigs.some((o) => o.url === t.url && o.branch === t.branch && verifyKeys(o));
    const source = sources.get(sourceKey) ?? createSource(t, stateDir, log.child({ target }), auth, fullHistory);
    sources.set(sourceKey, source);
    const keys = verifyKeys(t);
    const verifier = t.verifyOciSignature
      ? createOciVerifier({ url: t.url, publicKey: t.verifyOciSignature, cacheDir: join(stateDir, "oci"), tlsVerify: t.tlsVerify !== false })
      : keys
        ? createCommitVerifier(source.dir, keys, join(stateDir, "tmp"))
        : undefined;
    if (keys && t.verifyCommitsInfo?.gitsignVerify) unavailable.push(`targetConfigs[${ti}] (${target}): gitsignVerify: gitsign signatures are not checked (Sigstore/Rekor needs the network); commits must be signed by a key in gpgKeyring or sshAllowedSigners`);
    for (const kind of METHOD_KINDS) {
      const entries = (t[kind] ?? []) as (CommonMethod & Record<string, unknown>)[];
      entries.forEach((config, mi) => {
        const impl = methods[kind];
        if (!impl) {
          unavailable.push(`targetConfigs[${ti}].${kind}[${mi}] (${config.name}): the ${kind} method is not available in this version of fetchit yet; it will not run`);
          return;
        }
        // The gate lives in job.health, not in job.config: changing it re-applies nothing (job-diff still sees it).
        const { health: own, ...settings } = config;
        const health = config.health || globalHealth ? { health: resolveHealth(globalHealth, own) } : {};
        jobs.push({ key: { target, kind, method: config.name }, kind, impl, config: settings, source, ...health, ...staged, ...(verifier ? { verifier } : {}) });
      });
    }
  });
  // Every method of this config, for the ownership check (a record of a method that left the config claims nothing).
  const peers: ReadonlySet<string> = new Set(jobs.map((j) => peerId(j.key.target, j.kind, j.key.method)));
  for (const j of jobs) j.peers = peers;
  return { jobs, tasks: buildTasks(config, jobs, stateDir, unavailable), unavailable };
}

/** The source of one target: an OCI registry or layout, a disconnected source, or a git remote. */
function createSource(t: FetchitConfig["targetConfigs"][number], stateDir: string, log: Logger, auth: ReturnType<typeof effectiveGitAuth> | undefined, fullHistory: boolean): GitSource {
  const oci = { cacheDir: join(stateDir, "oci"), tmpDir: join(stateDir, "tmp"), log };
  if (isOciUrl(t.url)) return createOciSource({ url: t.url, ...oci, tlsVerify: t.tlsVerify !== false });
  if (isLayoutUrl(t.url)) return createOciLayoutSource({ url: t.url, device: t.device, ...oci });
  if (t.disconnected) return createDisconnectedSource({ url: t.url, device: t.device, branch: t.branch, cacheDir: join(stateDir, "repos", "disconnected"), tmpDir: join(stateDir, "tmp"), log, limits: archiveLimits(t) });
  return createGitSource({ url: t.url, branch: t.branch, cacheDir: join(stateDir, "repos"), log, ...(auth ? { auth } : {}), fullHistory });
}

/** The prune task (told which git methods are configured, for scope fetchit) and the image loaders. */
function buildTasks(config: FetchitConfig, jobs: MethodJob[], stateDir: string, notes: string[]): Task[] {
  const tasks: Task[] = [];
  if (config.prune) {
    if (config.prune.scope === "fetchit" && config.prune.all) notes.push("prune.all: has no effect with scope: fetchit (images are never pruned in that scope)");
    tasks.push(createPruneTask(config.prune, new Set(jobs.map((j) => methodRef(j.key.target, `${j.kind}/${j.key.method}`)))));
  }
  for (const img of config.images ?? []) tasks.push(createImagesTask(img, stateDir));
  const au = config.podmanAutoUpdate;
  if (au?.root || au?.user) tasks.push(createAutoUpdateTask(au));
  else if (au) notes.push("podmanAutoUpdate: neither root nor user is true; nothing to enable");
  return tasks;
}

/** Why a target cannot run in this version, or undefined. Refusing beats applying unverified or unreachable content. */
function unsupportedTarget(t: FetchitConfig["targetConfigs"][number]): string | undefined {
  if (t.verifyCommitsInfo?.gitsignVerify && !verifyKeys(t)) {
    return "gitsignVerify: gitsign (Sigstore/Rekor) verification is not supported (fetchit verifies offline); set verifyCommitsInfo.gpgKeyring or sshAllowedSigners instead, unverified commits are never applied";
  }
  return undefined;
}

/** The trusted keys of a target, or undefined when its commits are not verified. */
function verifyKeys(t: FetchitConfig["targetConfigs"][number]): { gpgKeyring?: string; sshAllowedSigners?: string } | undefined {
  const { gpgKeyring, sshAllowedSigners } = t.verifyCommitsInfo ?? {};
  if (!gpgKeyring && !sshAllowedSigners) return undefined;
  return { ...(gpgKeyring ? { gpgKeyring } : {}), ...(sshAllowedSigners ? { sshAllowedSigners } : {}) };
}

export const jobId = (j: MethodJob) => `${j.key.target}/${j.kind}/${j.key.method}`;
