/** Public API of the OCI module: artifact sources, push, signatures, layouts. */
export { createOciLayoutSource, createOciSource, type OciSourceOptions } from "./source.ts";
export { isLayoutUrl } from "./layout.ts";
export { isOciUrl, parseOciReference, formatOciReference, type OciReference } from "./reference.ts";
export { pushDirectory, type PushOptions, type PushResult } from "./push.ts";
export { createOciVerifier, type OciVerifierOptions } from "./verify.ts";
