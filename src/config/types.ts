/**
 * The normalised config, as the rest of fetchit sees it after loading:
 * canonical key names, defaults applied, validated. (Contract; the TypeBox
 * schema in schema.ts must produce exactly these shapes.)
 */
import type { HostBlock, TemplateContext } from "../fleet/context.ts";

/** Keys every method entry shares (FetchIt's CommonMethod). */
export interface CommonMethod {
  /** Unique within the target and kind; defaults to the kind (e.g. "raw"). */
  name: string;
  /** Cron: 5 fields (minute precision, like FetchIt) or 6 fields with seconds; also @hourly etc. */
  schedule: string;
  /** Max random delay in milliseconds, drawn anew for each run. Absent = none. */
  skew?: number;
  /** Directory (or single file, for filetransfer) inside the repository; relative, no "..". */
  targetPath: string;
  /** Glob relative to targetPath; `*` also matches `/` as in FetchIt. Absent = "**". */
  glob?: string;
  /** This method's health gate; wins over the top-level `health` key by key (src/config/health.ts). */
  health?: HealthConfig;
}

/** `health:` (top level or per method): the health gate of each apply (src/config/health.ts). */
export interface HealthConfig {
  /** Seconds, or a duration string ("10s", "2m"); 0 = nothing watched. Absent = 10s. */
  window?: number | string;
  /** Roll back when the gate fails (default true). */
  rollback?: boolean;
  /** Host command run after the window (argv list, or a string for /bin/sh -c); "" / [] = none. */
  command?: string | string[];
  /** How long command may run: seconds or a duration string. Absent = 60s. */
  timeout?: number | string;
  /** URL that must answer 2xx by the end of the window; "" = none. */
  http?: string;
}

/** raw and kube: volume snapshots taken before a container or pod is replaced, restored on rollback. */
export interface SnapshotOptions {
  snapshotVolumes?: boolean;
  /** Snapshots kept per volume (default 3). */
  keepSnapshots?: number;
}

export interface RawMethod extends CommonMethod, SnapshotOptions {
  /** true: pull the image on every apply; false: pull only when missing. */
  pullImage?: boolean;
  /** Recreate managed containers removed, stopped or replaced out of band (default true). */
  selfHeal?: boolean;
  /** false: refuse to replace a same-named container fetchit did not create (default true: taken over, with a warning). */
  adopt?: boolean;
}
export interface KubeMethod extends CommonMethod, SnapshotOptions {
  /** Network name or mode for the pods (`--network`); absent = Podman's default kube network. */
  network?: string;
  /** false: create the pods without starting them; absent = true. */
  start?: boolean;
  /** User namespace mode (`--userns`); needs Podman 4.7+. */
  userns?: string;
  /** Recreate managed pods removed, stopped or replaced out of band (default true). */
  selfHeal?: boolean;
  /** false: refuse to replace a same-named pod fetchit did not create (default true: taken over, with a warning). */
  adopt?: boolean;
}
export interface SystemdMethod extends CommonMethod {
  root?: boolean;
  enable?: boolean;
  restart?: boolean;
  /** Absolute directory the unit files go to; absent = /etc/systemd/system (root) or ~/.config/systemd/user. */
  unitDirectory?: string;
}
/** `quadlet`: Podman Quadlet files placed for the systemd generator (src/methods/quadlet.ts). */
export interface QuadletMethod extends CommonMethod {
  /** true: /etc/containers/systemd and the system manager; false: the user's. Absent = true when fetchit runs as root. */
  root?: boolean;
  /** Restart the generated service when its file changes (default true). */
  restart?: boolean;
  /** Absolute directory the files go to instead of the default one (tests, OSTree layouts). */
  unitDirectory?: string;
}
export interface FileTransferMethod extends CommonMethod {
  /** Host directory the files are copied into; created if missing. */
  destinationDirectory: string;
}
export interface AnsibleMethod extends CommonMethod {
  /** Container mode: host directory mounted at /root/.ssh; playbooks then reach the host over ssh (FetchIt). */
  sshDirectory?: string;
  /** Run playbooks in a container of this image even if the host has ansible-playbook. */
  image?: string;
  /** Seconds one playbook may run (default 600). */
  timeout?: number;
}

export interface GitAuth {
  ssh?: boolean;
  sshKeyFile?: string;
  username?: string;
  password?: string;
  pat?: string;
  envSecret?: string;
  /** known_hosts file; default known_hosts next to sshKeyFile. */
  sshKnownHosts?: string;
  /** false: host keys are not verified (default true). */
  sshStrictHostKeyChecking?: boolean;
}

export interface VerifyCommitsInfo {
  /** Not supported (needs Sigstore/Rekor online); a target with it and no keys does not run. */
  gitsignVerify?: boolean;
  gitsignRekorURL?: string;
  /** Host path of trusted OpenPGP public keys: every new commit must be signed by one of them. */
  gpgKeyring?: string;
  /** Host path of an SSH allowed signers file: every new commit must be signed by one of its keys. */
  sshAllowedSigners?: string;
}

export interface TargetConfig {
  /** Optional label; defaults to the URL's basename plus branch. Must be unique. */
  name?: string;
  url: string;
  branch: string;
  device?: string;
  disconnected?: boolean;
  /** Disconnected archives: most bytes they may expand to ("8G"); default the state dir's free space less a margin. */
  maxExtractedSize?: string;
  /** Disconnected archives: most an entry may expand over its compressed size (N:1). Default 200. */
  maxCompressionRatio?: number;
  verifyCommitsInfo?: VerifyCommitsInfo;
  /** oci:// targets: false accepts any certificate and plain HTTP. Default true. */
  tlsVerify?: boolean;
  /** oci:// targets: PEM public key whose cosign-style signatures are required. */
  verifyOciSignature?: string;
  /** This target's credentials; replaces the top-level gitAuth for it. */
  gitAuth?: GitAuth;
  /** Staged waves of this target; wins over the top-level `rollout` key by key (src/config/rollout.ts). */
  rollout?: RolloutConfig;
  raw?: RawMethod[];
  kube?: KubeMethod[];
  systemd?: SystemdMethod[];
  filetransfer?: FileTransferMethod[];
  ansible?: AnsibleMethod[];
  quadlet?: QuadletMethod[];
}

export interface ConfigReload extends GitAuth {
  configURL?: string;
  device?: string;
  configPath?: string;
  /** A targetConfigs entry (by name) whose repository holds the config file at `path`. */
  target?: string;
  path?: string;
  /** Reload when the local config file changes (default true). */
  watch?: boolean;
  schedule?: string;
  skew?: number;
}

/** What a prune removes: everything unused (FetchIt) or only fetchit's own leftovers. */
export type PruneScope = "all" | "fetchit";

export interface PruneConfig {
  all?: boolean;
  volumes?: boolean;
  /** Absent = "all" (FetchIt-compatible). */
  scope?: PruneScope;
  schedule: string;
  skew?: number;
}

export interface PodmanAutoUpdate {
  root?: boolean;
  user?: boolean;
  /** systemd OnCalendar= expression for the timer (written as a drop-in); absent = Podman's default (daily). */
  schedule?: string;
}

export interface ImageConfig {
  name?: string;
  url?: string;
  imagePath?: string;
  device?: string;
  schedule: string;
  skew?: number;
}

/** `listen:` (src/config/listen.ts): address HOST:PORT or unix socket path; token for POST /sync. */
export interface ListenConfig {
  address: string;
  token?: string;
  /** Env var holding the token; overrides token. */
  tokenEnv?: string;
}

/** One `notify[]` webhook (src/config/notify.ts). */
export interface NotifyConfig {
  url: string;
  /** Absent = every event. */
  events?: ("apply-succeeded" | "apply-failed" | "drift-repaired" | "config-reload-rejected" | "rolled_back" | "rollback_failed")[];
  /** Env var holding the Authorization header value. */
  authEnv?: string;
}

export interface FetchitConfig {
  /** Who this host is, for fleets (src/config/host.ts; not in FetchIt). */
  host?: HostBlock;
  targetConfigs: TargetConfig[];
  gitAuth?: GitAuth;
  configReload?: ConfigReload;
  prune?: PruneConfig;
  podmanAutoUpdate?: PodmanAutoUpdate;
  images?: ImageConfig[];
  /** Webhooks (not in FetchIt). */
  notify?: NotifyConfig[];
  /** The local HTTP endpoint (src/config/listen.ts; not in FetchIt). Absent = off. */
  listen?: ListenConfig;
  /** Remove what a method deployed once it is no longer in the config (default false). */
  pruneRemovedMethods?: boolean;
  /** Health gate of every method; a method's own block wins key by key. */
  health?: HealthConfig;
  /** Staged waves of every target (src/config/rollout.ts; not in FetchIt). */
  rollout?: RolloutConfig;
  /**
   * Not a config key: the template context (host facts, labels, values) the loader
   * rendered this config with; non-enumerable, so it never reaches a saved or compared config.
   */
  readonly context?: TemplateContext;
}

/** `rollout:` (top level or per target): staged waves and quarantine reports. */
export interface RolloutConfig {
  /** Number of waves (default 1). */
  waves?: number;
  /** Time between waves: seconds or a duration string. */
  interval?: number | string;
  /** Push refs/fetchit/quarantine/<sha> when this host quarantines a commit. */
  report?: boolean;
}

/** The method list keys of a target, in the order fetchit schedules them. */
export const METHOD_KINDS = ["raw", "kube", "systemd", "filetransfer", "ansible", "quadlet"] as const;
export type MethodKind = (typeof METHOD_KINDS)[number];
