/**
 * Podman access for fetchit: a typed libpod REST client over the unix
 * socket, and where to find that socket.
 */
export { createPodmanClient, type PodmanClient, type PodmanClientOptions } from "./client.ts";
export type { ListContainersOptions, RemoveContainerOptions } from "./containers.ts";
export { PULL_TIMEOUT_MS, type PullOptions } from "./images.ts";
export type { ListPodsOptions, PlayKubeOptions, RemovePodOptions } from "./pods.ts";
export { SYSTEM_TIMEOUT_MS, type LoadImageOptions, type SystemPruneOptions } from "./system.ts";
export { resolveSocketPath, socketHint, ROOT_SOCKET, type SocketPathOptions } from "./socket.ts";
export { API_PREFIX, DEFAULT_TIMEOUT_MS, isRetryableFailure, podmanMessage } from "./transport.ts";
export type * from "./types.ts";
