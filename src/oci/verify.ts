/**
 * `verifyOciSignature`: the CommitVerifier of an OCI target. The manifest
 * digest about to be applied must carry, under its `sha256-<hex>.sig` tag, a
 * simple-signing payload naming that digest and this repository, signed by
 * the configured public key. Verification is offline (no Rekor, no Fulcio);
 * only the signature artifact is read from the registry (blobs cached).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GitError } from "../errors.ts";
import type { CommitVerifier } from "../git/index.ts";
import { BlobStore } from "./blobs.ts";
import { parseManifest } from "./manifest.ts";
import { parseOciReference, type OciReference } from "./reference.ts";
import { OciRemote, type RemoteOptions } from "./remote.ts";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING, payloadProblem, signatureTag, verifyPayload } from "./sign.ts";

export interface OciVerifierOptions extends RemoteOptions {
  url: string;
  /** PEM public key file (ECDSA P-256 or Ed25519). */
  publicKey: string;
  /** The state dir's `oci` directory (signature blobs go in its blob store). */
  cacheDir: string;
}

export function createOciVerifier(o: OciVerifierOptions): CommitVerifier {
  const ref = parseOciReference(o.url);
  const store = new BlobStore(join(o.cacheDir, "blobs"));
  const identity = `${ref.registry}/${ref.repository}`;
  // The methods of a target verify the same digest together: one check, its result shared.
  const checks = new Map<string, Promise<void>>();
  const check = (digest: string) => verifyDigest(o, ref, store, identity, digest);
  return {
    async verify(_from, digest) {
      let p = checks.get(digest);
      if (!p) {
        p = check(digest);
        checks.set(digest, p);
        // Keep a success; forget a failure after it settles, so a signature pushed later is seen.
        p.catch(() => setTimeout(() => checks.delete(digest), 2000));
      }
      return p;
    },
  };
}

async function verifyDigest(o: OciVerifierOptions, ref: OciReference, store: BlobStore, identity: string, digest: string): Promise<void> {
  const pem = readKey(o.publicKey);
  const remote = new OciRemote({ registry: ref.registry, repository: ref.repository, tag: signatureTag(digest) }, o);
  let sigDigest: string;
  try {
    sigDigest = await remote.resolve();
  } catch (err) {
    if ((err as GitError).retryable) throw err;
    throw new GitError(`${identity}@${digest} is not signed (no ${signatureTag(digest)} tag); it is not applied. Sign it (fetchit push --sign KEY) or fix verifyOciSignature`, { cause: err });
  }
  const parsed = parseManifest((await remote.manifest(sigDigest)).bytes, `${identity}:${signatureTag(digest)}`);
  const layers = parsed.kind === "manifest" ? parsed.m.layers.filter((l) => l.mediaType === SIMPLE_SIGNING && l.annotations?.[SIGNATURE_ANNOTATION]) : [];
  const problems: string[] = [];
  for (const layer of layers) {
    const payload = new Uint8Array(readFileSync(await remote.blob(store, layer)));
    const problem = payloadProblem(payload, identity, digest);
    if (problem) problems.push(problem);
    else if (await verifyPayload(pem, o.publicKey, payload, layer.annotations![SIGNATURE_ANNOTATION]!)) return;
    else problems.push(`a signature does not verify with the key in ${o.publicKey}`);
  }
  const why = problems.length ? problems.join("; ") : "the signature artifact holds no simple-signing layer";
  throw new GitError(`${identity}@${digest} is not signed by the key in verifyOciSignature (${why}); it is not applied`);
}

function readKey(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new GitError(`verifyOciSignature: cannot read ${file}: ${(err as Error).message}; fix the path`);
  }
}
