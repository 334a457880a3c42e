/**
 * Typed subsets of the libpod REST API shapes fetchit uses. Field names are
 * the JSON names libpod expects or returns, checked against Podman 4.3
 * (`podman generate spec`, `podman inspect`) and pkg/specgen.
 */

/** One published port (`portmappings[]`); JSON names are snake_case. */
export interface PortMapping {
  /** Host address to bind; "" or absent = all addresses. */
  host_ip?: string;
  container_port: number;
  /** Host port; 0 or absent lets Podman choose (same as container_port for `-p N`). */
  host_port?: number;
  /** Number of consecutive ports mapped, starting at the ports above. Default 1. */
  range?: number;
  /** "tcp" (default), "udp", "sctp", or a comma-separated mix. */
  protocol?: string;
}

/** An OCI mount (`mounts[]`), e.g. `{type: "bind", source: "/srv", destination: "/data", options: ["ro"]}`. */
export interface Mount {
  destination: string;
  /** "bind", "tmpfs", "devpts", …; Podman treats absent as "bind". */
  type?: string;
  source?: string;
  options?: string[];
}

/** A named volume (`volumes[]`). Go field names without JSON tags: capitalised. */
export interface NamedVolume {
  /** Volume name; created when missing. "" = anonymous volume. */
  Name: string;
  /** Absolute path inside the container. */
  Dest: string;
  /** e.g. ["ro"], ["rw", "z"]. */
  Options?: string[];
}

/** A host device (`devices[]`); `path` may be `host:container[:perms]`. */
export interface Device {
  path: string;
}

/** A namespace choice such as `{nsmode: "host"}` or `{nsmode: "bridge"}`. */
export interface Namespace {
  /** "host", "private", "bridge", "none", "slirp4netns", "pod", "container", "path", "default". */
  nsmode: string;
  /** Path or container id for nsmode "path"/"container". */
  value?: string;
}

/** Per-network options under `Networks` (all optional; `{}` joins with defaults). */
export interface PerNetworkOptions {
  aliases?: string[];
  interface_name?: string;
  static_ips?: string[];
  static_mac?: string;
}

/**
 * A typed subset of libpod's SpecGenerator, the body of
 * `POST /libpod/containers/create`. Keys are libpod's JSON names (checked
 * with `podman generate spec` on Podman 4.3). No index signature, so typos
 * fail to compile; other SpecGenerator keys can be sent with an
 * intersection type such as `ContainerSpec & { read_only_filesystem: boolean }`.
 */
export interface ContainerSpec {
  /** Image reference or id (required). */
  image: string;
  /** Container name; random when absent. */
  name?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Replaces the image's CMD. */
  command?: string[];
  /** Replaces the image's ENTRYPOINT. */
  entrypoint?: string[];
  portmappings?: PortMapping[];
  mounts?: Mount[];
  volumes?: NamedVolume[];
  devices?: Device[];
  cap_add?: string[];
  cap_drop?: string[];
  privileged?: boolean;
  /** "no", "always", "on-failure", "unless-stopped". */
  restart_policy?: string;
  /** Retries for "on-failure". */
  restart_tries?: number;
  /** UID, user name or `uid:gid`. */
  user?: string;
  /** Pod name or id to join. */
  pod?: string;
  netns?: Namespace;
  pidns?: Namespace;
  /** Network name → options, e.g. `{ podman: {} }`. Only with netns bridge. */
  Networks?: Record<string, PerNetworkOptions>;
  hostname?: string;
  work_dir?: string;
  /** Remove the container when it exits. */
  remove?: boolean;
  /** Seconds between SIGTERM and SIGKILL on stop. */
  stop_timeout?: number;
  /** The container's healthcheck (Go's manifest.Schema2HealthConfig; durations in nanoseconds). */
  healthconfig?: HealthConfig;
}

/** A healthcheck as libpod's SpecGenerator takes it (`healthconfig`); durations in nanoseconds, 0 = Podman's default. */
export interface HealthConfig {
  /** ["CMD-SHELL", "cmd"] or ["CMD", "argv0", ...]. */
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  /** Consecutive failures before `unhealthy`. */
  Retries?: number;
}

/** The fields of `GET /libpod/containers/{name}/json` fetchit reads. */
export interface ContainerInspect {
  Id: string;
  /** Name without a leading slash. */
  Name: string;
  Created: string;
  /** Image id. */
  Image: string;
  /** Image reference the container was created from. */
  ImageName: string;
  State: {
    /** "created", "running", "exited", "stopped", "paused", … */
    Status: string;
    Running: boolean;
    ExitCode: number;
    Pid: number;
    Error?: string;
    StartedAt?: string;
    FinishedAt?: string;
  };
  Config: {
    /** Never null here: normalised to `{}`. */
    Labels: Record<string, string>;
    Image: string;
    /** Seconds between SIGTERM and SIGKILL when stopped. */
    StopTimeout?: number;
    Env?: string[];
    Cmd?: string[] | null;
  };
  HostConfig?: {
    RestartPolicy?: { Name: string; MaximumRetryCount: number };
  };
  /** Restarts by the restart policy since the container was started (kube pods restart "always" by default). */
  RestartCount?: number;
}

/** One entry of `GET /libpod/containers/json`. */
export interface ContainerListEntry {
  Id: string;
  Names: string[];
  /** "created", "running", "exited", … */
  State: string;
  /** Never null here: normalised to `{}`. */
  Labels: Record<string, string>;
  Image: string;
  ImageID?: string;
  Pod?: string;
  PodName?: string;
  Created?: string;
  /** True for a pod's infra (pause) container. */
  IsInfra?: boolean;
  ExitCode?: number;
  /** Unix seconds of the last start. */
  StartedAt?: number;
  /** Unix seconds of the last exit; negative (Go's zero time) while it never exited. */
  ExitedAt?: number;
  /** Restarts by the restart policy (Podman 5; absent on 4.3). */
  Restarts?: number;
  /** The healthcheck status ("starting", "healthy", "unhealthy"); "" without a healthcheck. */
  Status?: string;
}

/** One entry of `GET /libpod/pods/json`. */
export interface PodListEntry {
  Id: string;
  Name: string;
  /** "Created", "Running", "Degraded" (some containers not running), "Stopped", "Exited", "Paused", "Error". */
  Status: string;
  /** Never null here: normalised to `{}`. */
  Labels: Record<string, string>;
  /** Id of the infra (pause) container, when the pod has one. */
  InfraId?: string;
  /** Never null here: normalised to `[]`. Includes the infra container. */
  Containers: { Id: string; Names: string; Status: string }[];
  Networks?: string[] | null;
}

/** The report of `POST /libpod/play/kube` (fields fetchit reads; lists never null here). */
export interface PlayKubeReport {
  Pods: {
    ID: string;
    Containers: string[] | null;
    /** Containers that were created but failed to start, with Podman's message. */
    ContainerErrors?: string[] | null;
  }[];
  /** Volumes created for PersistentVolumeClaims (Podman 5 also lists reused ones). */
  Volumes: { Name: string }[];
}

/** The fields of `GET /libpod/images/{name}/json` fetchit reads. */
export interface ImageInspect {
  Id: string;
  Digest?: string;
  RepoTags: string[];
  RepoDigests?: string[];
  Created?: string;
  Size?: number;
  Labels?: Record<string, string> | null;
}

/** What `version()` returns. */
export interface VersionInfo {
  /** Podman version, e.g. "4.3.1". */
  version: string;
  /** Libpod API version, e.g. "4.3.1". */
  apiVersion: string;
}

/** A JSON-able value, or a raw body sent as-is. */
export type RequestBody = unknown;

/** Options of one API request. */
export interface RequestOptions {
  /** Query parameters; arrays repeat the key; undefined values are dropped. */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /**
   * Body: string, Uint8Array, Blob or ReadableStream are sent as-is;
   * anything else is JSON-encoded with `content-type: application/json`.
   */
  body?: RequestBody;
  headers?: Record<string, string>;
  /** Abort after this many milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** HTTP statuses >= 400 that are returned instead of thrown (e.g. 404). */
  allowStatus?: number[];
}

/** A response whose status was success or listed in `allowStatus`. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** One object a prune removed (or failed to remove). */
export interface PruneItem {
  /** Id, or name for networks and volumes. */
  id: string;
  /** Bytes reclaimed; 0 when Podman does not say. */
  size: number;
  /** Set when this object could not be removed. */
  error?: string;
}

/** What `POST /libpod/system/prune` removed, normalised across Podman 4 and 5. */
export interface SystemPruneReport {
  pods: PruneItem[];
  containers: PruneItem[];
  images: PruneItem[];
  networks: PruneItem[];
  volumes: PruneItem[];
  /** Podman's total, else the sum of the item sizes. */
  reclaimedBytes: number;
}
