/**
 * OCI image layouts as disconnected sources through the real CLI: a layout
 * directory written by `fetchit push DIR oci:/PATH:TAG`, the same layout as a
 * tar (`oci-archive:`), a new version detected by its digest, the media gone
 * (last content kept), and a damaged blob refused.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harness, type Harness } from "../support/fetchit.ts";
import { tempDir } from "../support/git.ts";
import { runOk } from "../support/exec.ts";
import { tree } from "./support.ts";

const config = (url: string, dest: string) =>
  `targetConfigs:\n  - name: usb\n    url: ${url}\n    disconnected: true\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n`;
const status = async (h: Harness) => JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0] as { appliedCommit?: string; lastError?: { message: string } };

async function pushTo(h: Harness, dir: string, url: string): Promise<string> {
  const r = await h.cli("push", dir, url);
  expect(r.code).toBe(0);
  return r.out.at(-1)!;
}

describe("OCI layouts (air gap)", () => {
  test("a layout directory: applied, a new version applied, kept while the media is absent", async () => {
    const media = tempDir("fetchit-media-");
    const layout = join(media, "layout");
    const dest = join(tempDir("fetchit-oci-dest-"), "etc");
    const h = harness(undefined, config(`oci:${layout}:prod`, dest));
    const dir = tree({ "files/a.conf": "a=1\n", "files/b.conf": "b\n" });
    const d1 = await pushTo(h, dir, `oci:${layout}:prod`);
    await pushTo(h, tree({ "files/a.conf": "other tag\n" }), `oci:${layout}:staging`);
    expect(existsSync(join(layout, "oci-layout"))).toBe(true);
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");
    expect((await status(h)).appliedCommit).toBe(d1);

    writeFileSync(join(dir, "files/a.conf"), "a=2\n");
    rmSync(join(dir, "files/b.conf"));
    const d2 = await pushTo(h, dir, `oci:${layout}:prod`);
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=2\n");
    expect(existsSync(join(dest, "b.conf"))).toBe(false);

    renameSync(layout, `${layout}.away`);
    expect((await h.cli("sync")).code).toBe(0);
    expect((await status(h)).appliedCommit).toBe(d2);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=2\n");
  });

  test("the same layout as a tar (oci-archive:); a damaged blob is refused", async () => {
    const media = tempDir("fetchit-media-");
    const layout = join(media, "layout");
    const archive = join(media, "config.tar");
    const dest = join(tempDir("fetchit-oci-dest-"), "etc");
    const h = harness(undefined, config(`oci-archive:${archive}:prod`, dest));
    const d1 = await pushTo(h, tree({ "files/a.conf": "from tar\n" }), `oci:${layout}:prod`);
    await runOk(["tar", "-C", layout, "-cf", archive, "."]);
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("from tar\n");
    expect((await status(h)).appliedCommit).toBe(d1);

    const d2 = await pushTo(h, tree({ "files/a.conf": "tampered later\n" }), `oci:${layout}:prod`);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(readFileSync(join(layout, "blobs/sha256", d2.slice(7)), "utf8")) as { layers: { digest: string }[] };
    writeFileSync(join(layout, "blobs/sha256", manifest.layers[0]!.digest.slice(7)), "not the layer");
    expect(index.manifests.length).toBe(1);
    await runOk(["tar", "-C", layout, "-cf", archive, "."]);
    expect((await h.cli("sync")).code).toBe(1);
    const st = await status(h);
    expect(st.appliedCommit).toBe(d1);
    expect(st.lastError?.message).toContain("does not match its digest");
    expect(readdirSync(dest)).toEqual(["a.conf"]);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("from tar\n");
  });
});
