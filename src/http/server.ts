/**
 * The local HTTP endpoint on Bun's built-in server: TCP HOST:PORT or a unix
 * socket (mode 0600, a stale socket file replaced). Off unless `listen:` or
 * `fetchit run --listen` sets an address.
 */
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { isLocal, MIN_TOKEN_LENGTH, parseListen, type ListenAddress } from "../config/listen.ts";
import type { ListenConfig } from "../config/types.ts";
import { errorMessage, ExitError } from "../errors.ts";
import { route, type RouteDeps } from "./routes.ts";

export interface HttpEndpoint {
  /** `http://HOST:PORT` or `unix:PATH`, for logs and tests. */
  url: string;
  address: ListenAddress;
  stop(): Promise<void>;
}

export interface ListenSettings {
  address: ListenAddress;
  token?: string;
}

/**
 * The effective address and token: `--listen` overrides `listen.address`;
 * tokenEnv overrides token. Throws an ExitError naming the flag or key.
 */
export function listenSettings(flag: string | undefined, cfg: ListenConfig | undefined, env: Record<string, string | undefined>): ListenSettings | undefined {
  const raw = flag ?? cfg?.address;
  if (!raw) return undefined;
  const where = flag ? "--listen" : "listen.address";
  const address = parseListen(raw);
  if (typeof address === "string") throw new ExitError(`${where}: ${address}`, 2);
  let token = cfg?.token;
  if (cfg?.tokenEnv) {
    token = env[cfg.tokenEnv];
    if (!token) throw new ExitError(`listen.tokenEnv: the environment variable ${cfg.tokenEnv} is not set or empty; set it (e.g. Environment= or a credential in the unit) or drop tokenEnv`, 2);
    if (token.length < MIN_TOKEN_LENGTH) throw new ExitError(`listen.tokenEnv: the token in ${cfg.tokenEnv} is too short: use at least ${MIN_TOKEN_LENGTH} random characters`, 2);
  }
  if (!isLocal(address) && !token) {
    throw new ExitError(`${where}: ${raw} is not a loopback address, so POST /sync needs a token: set listen.tokenEnv (or listen.token) in the config, or listen on 127.0.0.1 or a unix socket`, 2);
  }
  return { address, token };
}

function clearStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new ExitError(`listen: ${path} exists and is not a socket; remove it or choose another path`, 2);
  unlinkSync(path);
}

export function startHttp(settings: ListenSettings, deps: Omit<RouteDeps, "token">): HttpEndpoint {
  const { address } = settings;
  const routeDeps: RouteDeps = { ...deps, token: settings.token };
  const fetch = async (req: Request) => {
    try {
      return await route(req, routeDeps);
    } catch (err) {
      deps.log.error("HTTP request failed", { path: new URL(req.url).pathname, err });
      return new Response(JSON.stringify({ error: errorMessage(err) }) + "\n", { status: 500, headers: { "content-type": "application/json" } });
    }
  };
  let server: ReturnType<typeof Bun.serve>;
  try {
    if (address.kind === "unix") {
      clearStaleSocket(address.path);
      server = Bun.serve({ unix: address.path, fetch });
      chmodSync(address.path, 0o600);
    } else {
      server = Bun.serve({ hostname: address.host, port: address.port, fetch });
    }
  } catch (err) {
    if (err instanceof ExitError) throw err;
    const where = address.kind === "unix" ? address.path : `${address.host}:${address.port}`;
    throw new ExitError(`listen: cannot listen on ${where}: ${errorMessage(err)} (another process on that port? choose another address)`, 1);
  }
  const url = address.kind === "unix" ? `unix:${address.path}` : `http://${address.host.includes(":") ? `[${address.host}]` : address.host}:${server.port}`;
  deps.log.info("HTTP endpoint listening", { url, auth: settings.token ? "bearer token for POST /sync" : "none" });
  return {
    url,
    address,
    async stop() {
      await server.stop(true);
      if (address.kind === "unix") clearStaleSocket(address.path);
    },
  };
}
