/**
 * Podman access for fetchit: a typed libpod REST client over the unix
 * socket, and where to find that socket.
 */
export {
  createPodmanClient,
  PULL_TIMEOUT_MS,
  type ListContainersOptions,
  type PodmanClient,
  type PodmanClientOptions,
  type PullOptions,
} from "./client.ts";
export { resolveSocketPath, socketHint, ROOT_SOCKET, type SocketPathOptions } from "./socket.ts";
export { API_PREFIX, DEFAULT_TIMEOUT_MS, isRetryableFailure, podmanMessage } from "./transport.ts";
export type * from "./types.ts";
