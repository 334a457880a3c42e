/**
 * Blobs of any size from a real repository: size without reading, chunks,
 * git writing straight into a file descriptor, and the 32 MiB cap of whole
 * reads, named by file when a method asks for a big file's content.
 */
import { expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { desiredFile } from "../../src/engine/apply-plan.ts";
import { BlobTooLargeError, MAX_WHOLE_BLOB } from "../../src/git/index.ts";
import { raw } from "../../src/methods/raw.ts";
import { bigFile } from "../support/big-files.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { methodJob } from "../unit/helpers.ts";
import { tracedSource } from "./source-fixture.ts";

test("a 40 MiB blob: size, chunks and a descriptor copy give its bytes; a whole read is refused, naming the file", async () => {
  const remote = await createRemote({ "raw/small.json": "{}" });
  await bigFile(join(remote.dir, "raw", "huge.json"), 40 * 1024 * 1024);
  const head = await remote.commit({}, "huge");
  const { source } = tracedSource(remote.url);
  expect(await source.fetch()).toBe(head);
  const [change] = (await source.diff(null, head, { targetPath: "raw" })).filter((c) => c.relPath === "huge.json");
  const blob = change!.blob!;
  const want = readFileSync(join(remote.dir, "raw", "huge.json"));

  expect(await source.blobSize(blob)).toBe(want.length);
  let n = 0;
  let biggest = 0;
  for await (const chunk of source.streamBlob(blob)) {
    n += chunk.length;
    biggest = Math.max(biggest, chunk.length);
  }
  expect(n).toBe(want.length);
  expect(biggest).toBeLessThanOrEqual(1024 * 1024);

  const out = join(tempDir("fetchit-blob-"), "copy");
  const fd = openSync(out, "w");
  await source.copyBlobTo(blob, fd);
  closeSync(fd);
  expect(readFileSync(out).equals(want)).toBe(true);

  const err = await source.readBlob(blob).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BlobTooLargeError);
  expect(MAX_WHOLE_BLOB).toBe(32 * 1024 * 1024);

  const file = await desiredFile(methodJob(source, raw), { relPath: "huge.json", path: "raw/huge.json", blob, mode: "100644" });
  await expect(file.content()).rejects.toThrow("raw/huge.json: is larger than 32 MiB, the most the raw method reads into memory; big files belong to filetransfer, which streams them");
  expect((await source.readBlob((await source.diff(null, head, { targetPath: "raw" })).find((c) => c.relPath === "small.json")!.blob!)).toString()).toBe("{}");
}, 120_000);

test("a blob id that is not in the repository fails the stream with git's message", async () => {
  const remote = await createRemote({ "a.txt": "a" });
  const { source } = tracedSource(remote.url);
  await source.fetch();
  const read = async () => {
    for await (const _ of source.streamBlob("0123456789abcdef0123456789abcdef01234567")) void _;
  };
  await expect(read()).rejects.toThrow(/git cat-file: fatal: .*0123456789abcdef0123456789abcdef01234567/);
});
