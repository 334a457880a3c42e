/**
 * Git module: the local cache of one target's repository (fetch, diff, blobs,
 * pins) and FetchIt-compatible globs. The engine imports from here only.
 */
export { createGitSource, ORIGIN_FILE, type GitSourceOptions } from "./source.ts";
export { BlobTooLargeError, MAX_WHOLE_BLOB, pinRef, PIN_PREFIX } from "./objects.ts";
export { compileGlob, matchGlob, type GlobMatcher } from "./glob.ts";
export { remoteKind, repoDirFor, stripUserinfo, toFetchUrl, type RemoteKind } from "./remote-url.ts";
export { normalizeTargetPath, TEMPLATE_SUFFIX } from "./diff.ts";
export { HEAD_REF } from "./fetch.ts";
export { quarantineMessage, QUARANTINE_PREFIX } from "./quarantine-refs.ts";
export { archiveLimits } from "./archive-limits.ts";
export { createDisconnectedSource, disconnectedLabel, SourceUnavailableError, type DisconnectedSourceOptions } from "./disconnected.ts";
export { createCommitVerifier, type CommitVerifier, type VerifyKeys } from "./verify.ts";
export { effectiveGitAuth, httpAuthHeaders, type AuthOrigin, type TokenScheme } from "./auth.ts";
export { configSecretsWarning } from "./auth-check.ts";
export type { ChangeStatus, CommitInfo, FileChange, GitSource, PathFilter } from "./types.ts";
