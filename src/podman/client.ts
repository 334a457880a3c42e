/**
 * The typed libpod client fetchit uses (the calls of FetchIt's
 * container.go and raw.go helpers, plus a generic `request` for kube play,
 * prune, image load). Every failure is a PodmanApiError.
 */
import type { Logger } from "../log.ts";
import * as containers from "./containers.ts";
import * as images from "./images.ts";
import * as pods from "./pods.ts";
import * as system from "./system.ts";
import * as volumes from "./volumes.ts";
import { createTransport, parseJson } from "./transport.ts";
import type {
  ContainerInspect,
  ContainerListEntry,
  ContainerSpec,
  ImageInspect,
  PlayKubeReport,
  PodListEntry,
  RawResponse,
  RequestOptions,
  SystemPruneReport,
  VersionInfo,
} from "./types.ts";

/** A typed libpod client bound to one socket. */
export interface PodmanClient {
  readonly socketPath: string;
  /** Resolves when the service answers `_ping`. */
  ping(): Promise<void>;
  version(): Promise<VersionInfo>;
  imageExists(ref: string): Promise<boolean>;
  /** Pulls `ref` (policy always) and returns the image id; errors name the image. */
  pullImage(ref: string, opts?: images.PullOptions): Promise<string>;
  /** null when the image is not in local storage. */
  inspectImage(ref: string): Promise<ImageInspect | null>;
  createContainer(spec: ContainerSpec): Promise<{ id: string; warnings: string[] }>;
  /** By full id (names and short ids are refused: Podman matches id prefixes). Starting a running container is not an error. */
  startContainer(id: string): Promise<void>;
  /** By full id. Stopped or missing containers are fine. `timeoutSeconds` before SIGKILL (default: the container's own stop timeout). */
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  /** By full id: true when removed, false when it did not exist. */
  removeContainer(id: string, opts?: containers.RemoveContainerOptions): Promise<boolean>;
  /** By full id; null when no such container. */
  inspectContainer(id: string): Promise<ContainerInspect | null>;
  /** The container named exactly `name` (never an id prefix), or null. */
  findContainer(name: string): Promise<ContainerInspect | null>;
  listContainers(opts?: containers.ListContainersOptions): Promise<ContainerListEntry[]>;
  /** `POST /libpod/play/kube`: plays a Kubernetes YAML; per-container start errors are in the report, not thrown. */
  playKube(yaml: string, opts?: pods.PlayKubeOptions): Promise<PlayKubeReport>;
  /** Pods in any state, optionally filtered by labels. */
  listPods(opts?: pods.ListPodsOptions): Promise<PodListEntry[]>;
  /** The pod named exactly `name` (never an id prefix), or null. */
  findPod(name: string): Promise<PodListEntry | null>;
  /** By full id: stops and removes a pod and its containers (never volumes): true when removed, false when it did not exist. */
  removePod(id: string, timeoutSeconds?: number): Promise<boolean>;
  /** Whether a volume named exactly `name` exists (Podman 5 would also match a name prefix). */
  volumeExists(name: string): Promise<boolean>;
  /** null when no such volume. */
  inspectVolume(name: string): Promise<volumes.VolumeInspect | null>;
  /** Volume tar into `file` through the API; false when the server has no export endpoint (then `podman volume export`). */
  exportVolume(name: string, file: string): Promise<boolean>;
  /** Tar `file` into the volume through the API; false when the server has no import endpoint (then `podman volume import`). */
  importVolume(name: string, file: string): Promise<boolean>;
  /** Removes the volume named exactly `name`, never forced: true when removed, false when absent. */
  removeVolume(name: string): Promise<boolean>;
  /** Whether a network named exactly `name` exists (never an id prefix). */
  networkExists(name: string): Promise<boolean>;
  /** `podman system prune`: unused pods, containers, networks, images (all unused with `all`), volumes with `volumes`. */
  systemPrune(opts?: system.SystemPruneOptions): Promise<SystemPruneReport>;
  /** Loads an image archive streamed as `body`; returns the loaded names (or `sha256:` ids). */
  loadImage(body: Blob | ReadableStream<Uint8Array>, opts?: system.LoadImageOptions): Promise<string[]>;
  /**
   * Any libpod call, JSON in and out; `path` is relative to `/libpod`
   * (e.g. `/play/kube`). Returns undefined for an empty body.
   */
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /** Like request, but returns status, headers and text unparsed. */
  requestRaw(method: string, path: string, opts?: RequestOptions): Promise<RawResponse>;
}

/** Options of {@link createPodmanClient}. */
export interface PodmanClientOptions {
  /** Debug line per request. Default: none. */
  log?: Logger;
  /** Default request timeout in ms. Default 30 000. */
  timeoutMs?: number;
}

interface VersionBody {
  Version: string;
  ApiVersion: string;
  Components?: { Name: string; Details?: { APIVersion?: string } }[];
}

/** Creates a client for the Podman API at `socketPath`; nothing is contacted until the first call. */
export function createPodmanClient(socketPath: string, opts: PodmanClientOptions = {}): PodmanClient {
  const t = createTransport(socketPath, opts);
  const request = async <T>(method: string, path: string, req?: RequestOptions): Promise<T> =>
    parseJson<T>(`${method} /libpod${path}`, await t.send(method, path, req));
  // The server version is asked once per client (features differ between Podman 4 and 5); a failure is not cached.
  let version: Promise<VersionInfo> | undefined;
  const fetchVersion = async (): Promise<VersionInfo> => {
    const v = await request<VersionBody>("GET", "/version");
    const engine = v.Components?.find((c) => c.Name === "Podman Engine");
    return { version: v.Version, apiVersion: engine?.Details?.APIVersion ?? v.ApiVersion };
  };
  const client: PodmanClient = {
    socketPath,
    async ping() {
      await t.send("GET", "/_ping");
    },
    version() {
      version ??= fetchVersion().catch((err: unknown) => {
        version = undefined;
        throw err;
      });
      return version;
    },
    imageExists: (ref) => images.imageExists(t, ref),
    pullImage: (ref, pullOpts) => images.pullImage(t, ref, pullOpts),
    inspectImage: (ref) => images.inspectImage(t, ref),
    createContainer: (spec) => containers.createContainer(t, spec),
    startContainer: (id) => containers.startContainer(t, id),
    stopContainer: (id, timeoutSeconds) => containers.stopContainer(t, id, timeoutSeconds),
    removeContainer: (id, rmOpts) => containers.removeContainer(t, id, rmOpts),
    inspectContainer: (id) => containers.inspectContainer(t, id),
    findContainer: (name) => containers.findContainer(t, name),
    listContainers: (listOpts) => containers.listContainers(t, listOpts),
    playKube: (yaml, playOpts) => pods.playKube(t, yaml, playOpts),
    listPods: (listOpts) => pods.listPods(t, listOpts),
    // Podman 4.3 is fast with stop-then-delete and slow with a forced delete of a running pod; Podman 5 the other way round.
    findPod: (name) => pods.findPod(t, name),
    removePod: async (id, timeoutSeconds) => {
      const stopFirst = Number.parseInt((await client.version()).version, 10) < 5;
      return pods.removePod(t, id, { timeoutSeconds, stopFirst });
    },
    volumeExists: (name) => pods.volumeExists(t, name),
    inspectVolume: (name) => volumes.inspectVolume(t, name),
    exportVolume: (name, file) => volumes.exportVolume(t, name, file),
    importVolume: (name, file) => volumes.importVolume(t, name, file),
    removeVolume: (name) => pods.removeVolume(t, name),
    networkExists: (name) => pods.networkExists(t, name),
    systemPrune: (pruneOpts) => system.systemPrune(t, pruneOpts),
    loadImage: (body, loadOpts) => system.loadImage(t, body, loadOpts),
    request,
    requestRaw: (method, path, req) => t.send(method, path, req),
  };
  return client;
}
