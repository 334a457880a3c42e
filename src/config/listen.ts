/**
 * The `listen:` block (the local HTTP endpoint; not in FetchIt): its schema,
 * address parsing and its rule. A non-loopback TCP address needs a token.
 */
import { Type } from "@sinclair/typebox";
import type { ConfigIssue } from "../errors.ts";
import { isRecord } from "./path.ts";
import { STRICT } from "./schema-methods.ts";
import type { FetchitConfig } from "./types.ts";

export const ListenSchema = Type.Object(
  {
    address: Type.String({
      description:
        "Where the HTTP endpoint listens: HOST:PORT (127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464) or an absolute unix socket path (/run/fetchit/http.sock, created mode 0600). Serves GET /healthz, GET /status, GET /metrics (Prometheus) and POST /sync. `fetchit run --listen` overrides it. Required.",
    }),
    token: Type.Optional(
      Type.String({
        description:
          "Bearer token POST /sync requires (Authorization: Bearer TOKEN), at least 16 characters. Required (this or tokenEnv) when address is not a loopback address or a unix socket. Prefer tokenEnv: a token in the file is readable by whoever reads the config. Default: none (POST /sync open to local clients).",
      }),
    ),
    tokenEnv: Type.Optional(
      Type.String({
        description:
          "Name of an environment variable holding the bearer token (e.g. from a systemd credential or podman --secret NAME,type=env); overrides token. The value never appears in logs, state or errors. Default: none.",
      }),
    ),
  },
  {
    ...STRICT,
    description:
      "Local HTTP endpoint for health checks, status, Prometheus metrics and a sync webhook. Default: none (off). Not in FetchIt.",
  },
);

export type ListenAddress = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

/** Parses `HOST:PORT`, `[IPv6]:PORT` or an absolute socket path; a string is the problem. */
export function parseListen(address: string): ListenAddress | string {
  if (address.startsWith("/")) return { kind: "unix", path: address };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(address);
  if (!m) return `"${address}" is neither HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464) nor an absolute unix socket path`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `port ${m[3]} is out of range (1-65535)`;
  return { kind: "tcp", host: m[1] ?? m[2]!, port };
}

/** Loopback hosts and unix sockets are local; anything else is reachable from the network. */
export function isLocal(addr: ListenAddress): boolean {
  if (addr.kind === "unix") return true;
  return addr.host === "localhost" || addr.host === "::1" || /^127(\.\d{1,3}){3}$/.test(addr.host);
}

export const MIN_TOKEN_LENGTH = 16;

/** Rule `listen`: a parseable address, a token for non-local addresses, tokens long enough. */
export function listenIssues(config: FetchitConfig): ConfigIssue[] {
  const l: unknown = config.listen;
  if (!isRecord(l) || typeof l.address !== "string") return [];
  const addr = parseListen(l.address);
  if (typeof addr === "string") return [{ path: "listen.address", message: `${addr}` }];
  const out: ConfigIssue[] = [];
  if (typeof l.token === "string" && l.token.length < MIN_TOKEN_LENGTH) {
    out.push({ path: "listen.token", message: `too short: use at least ${MIN_TOKEN_LENGTH} random characters (e.g. \`openssl rand -hex 32\`)` });
  }
  if (!isLocal(addr) && !l.token && !l.tokenEnv) {
    out.push({
      path: "listen.token",
      message: `required when listen.address (${l.address}) is not a loopback address: anyone who can reach it could trigger POST /sync; set tokenEnv (preferred) or token, or listen on 127.0.0.1 or a unix socket`,
    });
  }
  return out;
}
