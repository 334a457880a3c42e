/**
 * An anonymous (or basic-auth) smart-HTTP git server for tests: Bun.serve on
 * 127.0.0.1 with a free port, running `git http-backend` as a CGI program
 * for each request. Serves exactly one repository.
 */
import { basename, dirname } from "node:path";

export interface ServeHttpOptions {
  /** Require these basic-auth credentials; answer 401 with WWW-Authenticate otherwise. */
  auth?: { username: string; password: string };
}

export interface TestHttpServer {
  /** `http://127.0.0.1:<port>/<repo basename>` — clone/fetch URL without credentials. */
  url: string;
  /** One line per request received: `METHOD /path?query status`. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves the repository at `repoDir` (bare or not) over smart HTTP. */
export async function serveHttp(repoDir: string, opts: ServeHttpOptions = {}): Promise<TestHttpServer> {
  const requests: string[] = [];
  const root = dirname(repoDir);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const url = new URL(req.url);
      const user = checkAuth(req, opts.auth);
      const res =
        user === false
          ? new Response("authentication required\n", {
              status: 401,
              headers: { "WWW-Authenticate": 'Basic realm="fetchit-test"' },
            })
          : await runBackend(req, url, root, user);
      requests.push(`${req.method} ${url.pathname}${url.search} ${res.status}`);
      return res;
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/${basename(repoDir)}`,
    requests,
    close: async () => {
      await server.stop(true);
    },
  };
}

/** The authenticated user name, undefined when no auth is required, false when the credentials are missing or wrong. */
function checkAuth(req: Request, auth: ServeHttpOptions["auth"]): string | undefined | false {
  if (!auth) return undefined;
  const header = req.headers.get("authorization") ?? "";
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  return decoded === `${auth.username}:${auth.password}` ? auth.username : false;
}

/** Runs one CGI request through `git http-backend`, streaming the body to its stdin. */
async function runBackend(req: Request, url: URL, root: string, user: string | undefined): Promise<Response> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    REQUEST_METHOD: req.method,
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers.get("content-type") ?? "",
    REMOTE_ADDR: "127.0.0.1",
  };
  const optional: Array<[string, string | null | undefined]> = [
    ["CONTENT_LENGTH", req.headers.get("content-length")],
    ["HTTP_CONTENT_ENCODING", req.headers.get("content-encoding")],
    ["HTTP_GIT_PROTOCOL", req.headers.get("git-protocol")],
    ["REMOTE_USER", user],
  ];
  for (const [key, value] of optional) if (value) env[key] = value;
  const proc = Bun.spawn(["git", "http-backend"], {
    env,
    stdin: req.body ? req : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).bytes(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0 && out.length === 0) return new Response(`git http-backend failed: ${err}`, { status: 500 });
  return parseCgiOutput(Buffer.from(out));
}

/** Splits CGI output into headers (with `Status:`) and body. */
export function parseCgiOutput(out: Buffer): Response {
  let end = out.indexOf("\r\n\r\n");
  let sepLength = 4;
  const lf = out.indexOf("\n\n");
  if (end < 0 || (lf >= 0 && lf < end)) [end, sepLength] = [lf, 2];
  if (end < 0) return new Response("malformed CGI output", { status: 502 });
  const headers = new Headers();
  let status = 200;
  for (const line of out.subarray(0, end).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
    else headers.append(name, value);
  }
  return new Response(out.subarray(end + sepLength), { status, headers });
}
