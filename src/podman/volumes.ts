/**
 * Named volumes: inspect, and export/import as tar archives through the
 * libpod API where the server has those endpoints (newer than 5.4: Podman
 * 4.3 and 5.4 answer a plain-text "Not Found", the router's answer for an
 * unknown route). `null` means "this server cannot": the caller falls back
 * to `podman volume export/import`.
 */
import { PodmanApiError } from "../errors.ts";
import { API_PREFIX, type Transport } from "./transport.ts";

const seg = (s: string) => encodeURIComponent(s);

export interface VolumeInspect {
  Name: string;
  Mountpoint: string;
}

/** null when no such volume. */
export async function inspectVolume(t: Transport, name: string): Promise<VolumeInspect | null> {
  const res = await t.send("GET", `/volumes/${seg(name)}/json`, { allowStatus: [404] });
  return res.status === 404 ? null : (JSON.parse(res.text) as VolumeInspect);
}

/** The router's 404 for a route it does not have (plain text), unlike libpod's JSON "no such volume". */
const routeMissing = (res: Response) => res.status === 404 && !res.headers.get("content-type")?.includes("json");

async function call(t: Transport, method: string, path: string, body?: Blob): Promise<Response | null> {
  const endpoint = `${method} /libpod${path}`;
  let res: Response;
  try {
    res = await fetch(`http://d${API_PREFIX}${path}`, { method, body, unix: t.socketPath, signal: AbortSignal.timeout(600_000) } as RequestInit);
  } catch (err) {
    throw new PodmanApiError(`${endpoint}: ${(err as Error).message}`, 0, endpoint, { retryable: true, cause: err });
  }
  if (routeMissing(res)) return null;
  if (res.status >= 400) throw new PodmanApiError(`${endpoint}: ${res.status} ${(await res.text()).slice(0, 300)}`, res.status, endpoint, { retryable: res.status >= 500 });
  return res;
}

/** Streams the volume's tar into `file`; false when the server has no export endpoint. */
export async function exportVolume(t: Transport, name: string, file: string): Promise<boolean> {
  const res = await call(t, "GET", `/volumes/${seg(name)}/export`);
  if (!res) return false;
  await Bun.write(file, res);
  return true;
}

/** Imports the tar `file` into the volume (merged over what is there); false when the server has no import endpoint. */
export async function importVolume(t: Transport, name: string, file: string): Promise<boolean> {
  const res = await call(t, "POST", `/volumes/${seg(name)}/import`, Bun.file(file));
  if (!res) return false;
  await res.arrayBuffer();
  return true;
}
