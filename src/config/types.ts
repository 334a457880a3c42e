/**
 * The normalised config, as the rest of fetchit sees it after loading:
 * canonical key names, defaults applied, validated. (Contract; the TypeBox
 * schema in schema.ts must produce exactly these shapes.)
 */

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
}

export interface RawMethod extends CommonMethod {
  /** true: pull the image on every apply; false: pull only when missing. */
  pullImage?: boolean;
  /** Recreate managed containers removed, stopped or replaced out of band (default true). */
  selfHeal?: boolean;
}
export interface KubeMethod extends CommonMethod {
  /** Network name or mode for the pods (`--network`); absent = Podman's default kube network. */
  network?: string;
  /** false: create the pods without starting them; absent = true. */
  start?: boolean;
  /** User namespace mode (`--userns`); needs Podman 4.7+. */
  userns?: string;
  /** Recreate managed pods removed, stopped or replaced out of band (default true). */
  selfHeal?: boolean;
}
export interface SystemdMethod extends CommonMethod {
  root?: boolean;
  enable?: boolean;
  restart?: boolean;
}
export interface FileTransferMethod extends CommonMethod {
  /** Host directory the files are copied into; created if missing. */
  destinationDirectory: string;
}
export interface AnsibleMethod extends CommonMethod {
  sshDirectory?: string;
}

export interface GitAuth {
  ssh?: boolean;
  sshKeyFile?: string;
  username?: string;
  password?: string;
  pat?: string;
  envSecret?: string;
}

export interface VerifyCommitsInfo {
  gitsignVerify?: boolean;
  gitsignRekorURL?: string;
}

export interface TargetConfig {
  /** Optional label; defaults to the URL's basename plus branch. Must be unique. */
  name?: string;
  url: string;
  branch: string;
  device?: string;
  disconnected?: boolean;
  verifyCommitsInfo?: VerifyCommitsInfo;
  raw?: RawMethod[];
  kube?: KubeMethod[];
  systemd?: SystemdMethod[];
  filetransfer?: FileTransferMethod[];
  ansible?: AnsibleMethod[];
}

export interface ConfigReload extends GitAuth {
  configURL?: string;
  device?: string;
  configPath?: string;
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
}

export interface ImageConfig {
  name?: string;
  url?: string;
  imagePath?: string;
  device?: string;
  schedule: string;
  skew?: number;
}

export interface FetchitConfig {
  targetConfigs: TargetConfig[];
  gitAuth?: GitAuth;
  configReload?: ConfigReload;
  prune?: PruneConfig;
  podmanAutoUpdate?: PodmanAutoUpdate;
  images?: ImageConfig[];
  /** Remove what a method deployed once it is no longer in the config (default false). */
  pruneRemovedMethods?: boolean;
}

/** The method list keys of a target, in the order fetchit schedules them. */
export const METHOD_KINDS = ["raw", "kube", "systemd", "filetransfer", "ansible"] as const;
export type MethodKind = (typeof METHOD_KINDS)[number];
