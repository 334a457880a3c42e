/**
 * The blob store shared by every OCI source of a state dir:
 * `<stateDir>/oci/blobs/sha256/<hex>`. A blob is streamed from the registry
 * into a temporary file, hashed on the way, refused over the size limit or on
 * a digest mismatch, and renamed into place; a blob already held is never
 * fetched again.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { GitError } from "../errors.ts";
import type { RegistryClient } from "./client.ts";
import type { Descriptor } from "./manifest.ts";
import { digestHex } from "./reference.ts";

/** Default largest blob fetchit downloads: 512 MiB. */
export const DEFAULT_MAX_BLOB = 512 * 1024 * 1024;

/** Downloads in flight, by destination path (several methods of a target verify or import at once). */
const inflight = new Map<string, Promise<string>>();

export class BlobStore {
  constructor(readonly dir: string) {}

  path(digest: string): string {
    return join(this.dir, "sha256", digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /** Downloads `desc` from `repository` unless held; returns its path. Concurrent calls for one blob share one download. */
  fetch(client: RegistryClient, repository: string, desc: Descriptor, maxBytes = DEFAULT_MAX_BLOB): Promise<string> {
    const dest = this.path(desc.digest);
    if (existsSync(dest)) return Promise.resolve(dest);
    let p = inflight.get(dest);
    if (!p) {
      p = this.download(client, repository, desc, maxBytes, dest).finally(() => inflight.delete(dest));
      inflight.set(dest, p);
    }
    return p;
  }

  private async download(client: RegistryClient, repository: string, desc: Descriptor, maxBytes: number, dest: string): Promise<string> {
    const where = `registry ${client.registry}: blob ${desc.digest} of ${repository}`;
    if (desc.size > maxBytes) throw new GitError(`${where}: ${desc.size} bytes is over the limit of ${maxBytes}; refused`);
    const res = await client.request("GET", `/v2/${repository}/blobs/${desc.digest}`, { repository, timeoutMs: 600_000 });
    return this.ingest(res, desc, maxBytes, where);
  }

  /** Stores the body of `res` as blob `desc` once it is verified (size, digest); returns its path. */
  async ingest(res: Response, desc: Descriptor, maxBytes: number, where: string): Promise<string> {
    const dest = this.path(desc.digest);
    await mkdir(join(this.dir, "sha256"), { recursive: true });
    const tmp = `${dest}.${randomBytes(6).toString("hex")}.part`;
    try {
      await this.streamTo(res, tmp, desc, maxBytes, where);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return dest;
  }

  /** Writes `res`'s body to `file`, hashing it; throws on size or digest mismatch. */
  async streamTo(res: Response, file: string, desc: Descriptor, maxBytes: number, where: string): Promise<void> {
    const hash = createHash("sha256");
    const fh = await open(file, "w", 0o600);
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        const bytes = chunk as Uint8Array;
        size += bytes.length;
        if (size > maxBytes || size > desc.size) {
          await res.body?.cancel().catch(() => undefined);
          throw new GitError(`${where}: more bytes than the ${size > maxBytes ? `limit of ${maxBytes}` : `${desc.size} the manifest declares`}; refused`);
        }
        hash.update(bytes);
        await fh.write(bytes);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    const got = `sha256:${hash.digest("hex")}`;
    if (size !== desc.size || got !== desc.digest) {
      throw new GitError(`${where}: content does not match its digest (got ${got}, ${size} bytes; expected ${desc.size} bytes); refused, the registry or a proxy serves altered content`);
    }
  }
}
