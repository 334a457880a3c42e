/**
 * The `images:` entries' rule and their effective names (used by the
 * scheduler and `sync --method images/<name>`).
 */
import type { ConfigIssue } from "../errors.ts";
import { isEmpty, isRecord, issue } from "./path.ts";
import type { FetchitConfig } from "./types.ts";

/**
 * Effective name of an `images[]` entry: its `name`, else the file name of
 * its url (query dropped) or imagePath, e.g. `app.tar`.
 */
export function imageEntryName(img: { name?: string; url?: string; imagePath?: string }): string {
  if (img.name) return img.name;
  const source = img.url ? img.url.replace(/[?#].*$/, "") : (img.imagePath ?? "");
  return source.split("/").filter(Boolean).at(-1) ?? "image";
}

/** Rule `image-sources`: every images entry has a source, a relative imagePath has a device, names are unique. */
export function imageIssues(config: FetchitConfig): ConfigIssue[] {
  const images: unknown = config.images;
  if (!Array.isArray(images)) return [];
  const seen = new Set<string>();
  return images.flatMap((img, i): ConfigIssue[] => {
    if (!isRecord(img)) return [];
    if (isEmpty(img.url) && isEmpty(img.imagePath)) return [issue(["images", i], "needs url (an HTTP(S) image archive) or imagePath (a host path)")];
    const relative = isEmpty(img.url) && typeof img.imagePath === "string" && !img.imagePath.startsWith("/");
    if (relative && isEmpty(img.device)) {
      return [issue(["images", i, "imagePath"], "a relative path needs device (it is resolved against the device's mount point); give an absolute host path")];
    }
    const name = imageEntryName(img as { name?: string; url?: string; imagePath?: string });
    if (seen.has(name)) return [issue(["images", i, "name"], `duplicate image name "${name}"; give each images entry a unique name`)];
    seen.add(name);
    return [];
  });
}
