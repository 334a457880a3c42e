/**
 * A minimal registry (distribution API v2) client for one registry host:
 * TLS from certs.d (or no verification, then plain HTTP when the host does not
 * speak TLS), the 401 challenge answered with Basic or with a Bearer token
 * from the realm (cached per scope until it expires), and every failure a
 * GitError that names the registry and says whether retrying can help.
 * Credentials only ever go into Authorization headers.
 */
import { GitError } from "../errors.ts";
import type { Credentials } from "./auth.ts";
import type { TlsFiles } from "./registries.ts";

/** One request as seen by `trace` (tests and the bench count them). */
export interface TraceEvent {
  method: string;
  url: string;
  status: number;
}

export interface RegistryClientOptions {
  registry: string;
  credentials?: Credentials;
  tlsVerify: boolean;
  tls?: TlsFiles;
  /** Per request (headers and body). Default 60 000 ms; blobs get `blobTimeoutMs`. */
  timeoutMs?: number;
  trace?: (e: TraceEvent) => void;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: RequestInit["body"];
  /** Repository the request is about (token scope). */
  repository: string;
  push?: boolean;
  /** Statuses that are answers, not errors (e.g. 404 for "is this blob there?"). */
  accept?: number[];
  timeoutMs?: number;
}

type Challenge = { scheme: "basic" } | { scheme: "bearer"; realm: string; service?: string };

export class RegistryClient {
  private scheme: "https" | "http" = "https";
  private challenge?: Challenge;
  private tokens = new Map<string, { token: string; until: number }>();

  constructor(readonly opts: RegistryClientOptions) {}

  get registry(): string {
    return this.opts.registry;
  }

  /** Sends `method path`, answering one auth challenge; rejects with a GitError on failure statuses. */
  async request(method: string, path: string, o: RequestOptions): Promise<Response> {
    const scope = `repository:${o.repository}:${o.push ? "pull,push" : "pull"}`;
    let res = await this.send(method, path, o, await this.authHeader(scope, false));
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get("www-authenticate"));
      await res.body?.cancel();
      if (!challenge) throw this.error(`${method} ${path}: 401 without a usable WWW-Authenticate challenge`, false);
      this.challenge = challenge;
      res = await this.send(method, path, o, await this.authHeader(scope, true));
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw this.error(`${method} ${path}: access denied (${res.status}) ${this.opts.credentials ? "with the credentials from the auth file" : "and no credentials for it in any auth file"}; run podman login ${this.registry} (or set REGISTRY_AUTH_FILE)`, false);
      }
    }
    if (res.ok || o.accept?.includes(res.status)) return res;
    const detail = (await res.text().catch(() => "")).slice(0, 300).replace(/\s+/g, " ");
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    throw this.error(`${method} ${path}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`, retryable, res.status);
  }

  private async send(method: string, path: string, o: RequestOptions, auth: string | undefined): Promise<Response> {
    const headers = { ...o.headers, ...(auth ? { authorization: auth } : {}) };
    const attempt = async (scheme: "https" | "http"): Promise<Response> => {
      const url = `${scheme}://${this.registry}${path}`;
      const res = await fetch(url, {
        method,
        headers,
        body: o.body,
        redirect: "follow",
        signal: AbortSignal.timeout(o.timeoutMs ?? this.opts.timeoutMs ?? 60_000),
        tls: { rejectUnauthorized: this.opts.tlsVerify, ...(this.opts.tls?.ca ? { ca: this.opts.tls.ca } : {}), ...(this.opts.tls?.cert && this.opts.tls.key ? { cert: this.opts.tls.cert, key: this.opts.tls.key } : {}) },
      } as RequestInit);
      this.opts.trace?.({ method, url, status: res.status });
      return res;
    };
    try {
      return await attempt(this.scheme);
    } catch (err) {
      if (this.scheme === "https" && !this.opts.tlsVerify && !(o.body instanceof ReadableStream)) {
        // tlsVerify: false also allows a registry that speaks plain HTTP (as Podman's --tls-verify=false does).
        try {
          const res = await attempt("http");
          this.scheme = "http";
          return res;
        } catch {
          // report the https failure below
        }
      }
      const msg = (err as Error).message;
      const tlsHint = /certificate|self[- ]signed|unable to verify|CERT_/i.test(`${msg} ${(err as { code?: string }).code ?? ""}`)
        ? `; its TLS certificate is not trusted: put the registry's CA in /etc/containers/certs.d/${this.registry}/ca.crt (or set tlsVerify: false for a lab registry)`
        : "";
      throw this.error(`${method} ${path}: cannot reach the registry: ${msg}${tlsHint}`, true);
    }
  }

  /** The Authorization header for `scope`: Basic, or a cached/new Bearer token; none before any challenge. */
  private async authHeader(scope: string, fresh: boolean): Promise<string | undefined> {
    const c = this.challenge;
    const creds = this.opts.credentials;
    if (!c) return undefined;
    if (c.scheme === "basic") return creds ? basic(creds) : undefined;
    const cached = this.tokens.get(scope);
    if (cached && !fresh && cached.until > Date.now()) return `Bearer ${cached.token}`;
    const url = new URL(c.realm);
    if (c.service) url.searchParams.set("service", c.service);
    url.searchParams.set("scope", scope);
    let res: Response;
    try {
      res = await fetch(url, { headers: creds ? { authorization: basic(creds) } : {}, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000), tls: { rejectUnauthorized: this.opts.tlsVerify, ...(this.opts.tls?.ca ? { ca: this.opts.tls.ca } : {}) } } as RequestInit);
    } catch (err) {
      throw this.error(`token endpoint ${url.origin}${url.pathname}: cannot reach it: ${(err as Error).message}`, true);
    }
    this.opts.trace?.({ method: "GET", url: `${url.origin}${url.pathname}`, status: res.status });
    if (!res.ok) {
      await res.body?.cancel();
      const denied = res.status === 401 || res.status === 403;
      throw this.error(`token endpoint ${url.origin}${url.pathname}: HTTP ${res.status}${denied ? `; the credentials for ${this.registry} were refused (podman login ${this.registry})` : ""}`, !denied);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw this.error(`token endpoint ${url.origin}${url.pathname}: answer without a token`, false);
    // Renew a little early; registries default to 60 s.
    this.tokens.set(scope, { token, until: Date.now() + Math.max(10, (body.expires_in ?? 60) - 10) * 1000 });
    return `Bearer ${token}`;
  }

  error(message: string, retryable: boolean, status?: number): GitError {
    const err = new GitError(`registry ${this.registry}: ${message}`, { retryable });
    if (status !== undefined) Object.assign(err, { status });
    return err;
  }
}

const basic = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;

/** `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"` → the challenge. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === "basic") return { scheme: "basic" };
  if (scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return params.realm ? { scheme: "bearer", realm: params.realm, ...(params.service ? { service: params.service } : {}) } : undefined;
}
