/**
 * Issue paths such as `targetConfigs[0].raw[1].schedule`: list indexes in
 * brackets, plain keys after a dot, odd keys quoted.
 */

import type { ConfigIssue } from "../errors.ts";

/** One step into the document: a mapping key or a list index. */
export type Segment = string | number;

/** Formats segments as a dotted path; "" for the document itself. */
export function formatPath(segments: readonly Segment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * Turns a JSON pointer (as TypeBox reports it) into segments, using the value
 * to tell list indexes from mapping keys that look like numbers.
 */
export function pointerToSegments(pointer: string, root: unknown): Segment[] {
  if (pointer === "") return [];
  const out: Segment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      out.push(Number(key));
      node = node[Number(key)];
    } else {
      out.push(key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return out;
}

/** True for a plain mapping (not a list, not null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One config problem at `path` (segments, formatted as in every message). */
export const issue = (path: Segment[], message: string): ConfigIssue => ({ path: formatPath(path), message });

/** True for a key that is absent or an empty string (FetchIt treats both as unset). */
export const isEmpty = (v: unknown): boolean => v === undefined || v === "";
