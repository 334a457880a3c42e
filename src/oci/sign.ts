/**
 * cosign-style "simple signing", verified offline with Bun's WebCrypto: the
 * payload names the manifest digest and the repository; the signature
 * (base64 in the layer annotation `dev.cosignproject.cosign/signature`) is
 * stored as an artifact under the tag `sha256-<hex>.sig`. Keys are PEM:
 * ECDSA P-256 (signatures DER-encoded, as cosign writes them) or Ed25519.
 */
import { GitError } from "../errors.ts";
import { digestHex } from "./reference.ts";

export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const TYPE = "cosign container image signature";

/** The tag that holds the signatures of `digest`. */
export const signatureTag = (digest: string) => `sha256-${digestHex(digest)}.sig`;

/** The payload for `digest` of `reference` (`registry/repository`). */
export function simpleSigningPayload(reference: string, digest: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ critical: { identity: { "docker-reference": reference }, image: { "docker-manifest-digest": digest }, type: TYPE }, optional: null }));
}

function pemBody(pem: string, kind: string, file: string): Uint8Array {
  const m = new RegExp(`-----BEGIN ${kind}-----([\\s\\S]*?)-----END ${kind}-----`).exec(pem);
  if (!m) throw new GitError(`${file}: no "BEGIN ${kind}" PEM block (expected ${kind === "PUBLIC KEY" ? "an SPKI public key: openssl pkey -pubout" : "an unencrypted PKCS#8 key: openssl genpkey -algorithm ed25519 (or EC -pkeyopt ec_paramgen_curve:P-256)"})`);
  return Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
}

/** A copy backed by a plain ArrayBuffer (what WebCrypto's types ask for). */
const ab = (u: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(u);

type Algo = { name: "ECDSA"; namedCurve: "P-256" } | { name: "Ed25519" };
const ALGOS: Algo[] = [{ name: "ECDSA", namedCurve: "P-256" }, { name: "Ed25519" }];

async function importKey(pem: string, file: string, usage: "sign" | "verify"): Promise<{ key: CryptoKey; algo: Algo }> {
  const der = pemBody(pem, usage === "sign" ? "PRIVATE KEY" : "PUBLIC KEY", file);
  for (const algo of ALGOS) {
    try {
      return { key: await crypto.subtle.importKey(usage === "sign" ? "pkcs8" : "spki", ab(der), algo, false, [usage]), algo };
    } catch {
      // try the next algorithm
    }
  }
  throw new GitError(`${file}: not an ECDSA P-256 or Ed25519 ${usage === "sign" ? "private" : "public"} key`);
}

/** Signs `payload`; ECDSA signatures are DER-encoded (cosign's form). Returns base64. */
export async function signPayload(privatePem: string, file: string, payload: Uint8Array): Promise<string> {
  const { key, algo } = await importKey(privatePem, file, "sign");
  const raw = new Uint8Array(await crypto.subtle.sign(algo.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : algo, key, ab(payload)));
  return Buffer.from(algo.name === "ECDSA" ? rawToDer(raw) : raw).toString("base64");
}

/** True when `signatureB64` is a valid signature of `payload` by the public key. */
export async function verifyPayload(publicPem: string, file: string, payload: Uint8Array, signatureB64: string): Promise<boolean> {
  const { key, algo } = await importKey(publicPem, file, "verify");
  let sig: Uint8Array = new Uint8Array(Buffer.from(signatureB64, "base64"));
  if (algo.name === "ECDSA" && sig[0] === 0x30) sig = derToRaw(sig) ?? sig;
  return crypto.subtle.verify(algo.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : algo, key, ab(sig), ab(payload)).catch(() => false);
}

/** Checks the payload names `digest` and `reference`; returns why not, or undefined. */
export function payloadProblem(payload: Uint8Array, reference: string, digest: string): string | undefined {
  let doc: { critical?: { identity?: { "docker-reference"?: string }; image?: { "docker-manifest-digest"?: string }; type?: string } };
  try {
    doc = JSON.parse(new TextDecoder().decode(payload)) as typeof doc;
  } catch {
    return "the signed payload is not JSON";
  }
  if (doc.critical?.type !== TYPE) return `the payload type is ${JSON.stringify(doc.critical?.type)}, not "${TYPE}"`;
  if (doc.critical.image?.["docker-manifest-digest"] !== digest) return `the payload names another digest (${doc.critical.image?.["docker-manifest-digest"]})`;
  const ref = doc.critical.identity?.["docker-reference"];
  if (ref !== reference) return `the payload names another repository (${ref}, not ${reference})`;
  return undefined;
}

/** r||s (32+32) → DER SEQUENCE of two INTEGERs. */
function rawToDer(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.slice(i);
    return v[0]! & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v];
  };
  const body = [...int(raw.slice(0, 32)), ...int(raw.slice(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

/** DER → r||s, or undefined when malformed. */
function derToRaw(der: Uint8Array): Uint8Array | undefined {
  if (der[0] !== 0x30 || der[2] !== 0x02) return undefined;
  const out = new Uint8Array(64);
  let at = 2;
  for (const off of [0, 32]) {
    if (der[at] !== 0x02) return undefined;
    const len = der[at + 1]!;
    let v = der.slice(at + 2, at + 2 + len);
    while (v.length > 32 && v[0] === 0) v = v.slice(1);
    if (v.length > 32) return undefined;
    out.set(v, off + 32 - v.length);
    at += 2 + len;
  }
  return out;
}
