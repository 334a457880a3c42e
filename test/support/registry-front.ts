/**
 * A small front for a test registry (or any HTTP server, e.g. git's smart
 * HTTP; Bun.serve on a loopback port): forwards every request upstream, counts requests and response bytes (the
 * bench and "one HEAD per tick" read them), and optionally demands Bearer
 * tokens the way Quay or Harbor do, with its own token endpoint (`/token`,
 * Basic credentials checked) as the realm of the `WWW-Authenticate` challenge.
 */
import { randomBytes } from "node:crypto";

export interface FrontOptions {
  /** Demand `Authorization: Bearer`; tokens come from `/token` with these Basic credentials. */
  bearer?: { username: string; password: string; expiresIn?: number };
}

export interface Seen {
  method: string;
  path: string;
  status: number;
  /** Response body bytes (as received from the upstream, after any content decoding). */
  bytes: number;
  /** Request body bytes. */
  up: number;
}

export interface RegistryFront {
  host: string;
  /** Every request forwarded or answered (token requests included), in order. */
  seen: Seen[];
  /** Requests since `mark` (an index into `seen`), without the token endpoint's. */
  since(mark: number): Seen[];
  stop(): void;
}

export function startFront(upstream: string, opts: FrontOptions = {}): RegistryFront {
  const seen: Seen[] = [];
  const tokens = new Set<string>();
  const record = (req: Request, status: number, bytes: number, up = 0) => seen.push({ method: req.method, path: new URL(req.url).pathname, status, bytes, up });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const self = `${url.hostname}:${url.port}`;
      if (url.pathname === "/token") return token(req, opts, tokens, record);
      if (opts.bearer && !tokens.has((req.headers.get("authorization") ?? "").replace(/^Bearer /, ""))) {
        const scope = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
        const challenge = `Bearer realm="http://${self}/token",service="fetchit-test"${scope ? `,scope="repository:${scope}:pull"` : ""}`;
        record(req, 401, 0);
        return new Response("unauthorized", { status: 401, headers: { "www-authenticate": challenge } });
      }
      const headers = new Headers(req.headers);
      headers.delete("authorization");
      headers.set("host", upstream);
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(`http://${upstream}${url.pathname}${url.search}`, { method: req.method, headers, body, redirect: "manual" });
      const out = new Headers(res.headers);
      const loc = out.get("location");
      if (loc) out.set("location", loc.replace(`http://${upstream}`, `http://${self}`));
      const bytes = req.method === "HEAD" ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
      out.delete("content-encoding");
      record(req, res.status, bytes.length, body?.byteLength ?? 0);
      return new Response(req.method === "HEAD" ? null : bytes, { status: res.status, headers: out });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    seen,
    since: (mark) => seen.slice(mark).filter((s) => s.path !== "/token"),
    stop: () => void server.stop(true),
  };
}

function token(req: Request, opts: FrontOptions, tokens: Set<string>, record: (r: Request, s: number, b: number) => void): Response {
  const b = opts.bearer;
  const want = b ? `Basic ${Buffer.from(`${b.username}:${b.password}`).toString("base64")}` : undefined;
  if (want && req.headers.get("authorization") !== want) {
    record(req, 401, 0);
    return new Response("bad credentials", { status: 401 });
  }
  const t = randomBytes(16).toString("hex");
  tokens.add(t);
  const body = JSON.stringify({ token: t, expires_in: b?.expiresIn ?? 300 });
  record(req, 200, body.length);
  return new Response(body, { headers: { "content-type": "application/json" } });
}
