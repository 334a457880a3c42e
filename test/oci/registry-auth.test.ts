/**
 * Registry conventions against the real docker-registry: htpasswd Basic with
 * credentials from an auth file (REGISTRY_AUTH_FILE, --authfile), the Bearer
 * token flow through the test support's token endpoint (one HEAD per tick
 * once a token is held), registries.conf mirrors tried before the primary,
 * and a private CA from certs.d against a registry serving HTTPS.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pushDirectory } from "../../src/oci/index.ts";
import { runOk } from "../support/exec.ts";
import { tempDir } from "../support/git.ts";
import { startFront, type RegistryFront } from "../support/registry-front.ts";
import { startRegistry, type OwnRegistry } from "../support/registry.ts";
import { tracedOciSource, tree } from "./support.ts";

const registries: OwnRegistry[] = [];
const fronts: RegistryFront[] = [];
afterAll(async () => {
  fronts.forEach((f) => f.stop());
  for (const r of registries) await r.stop();
});
const registry = async (opts: Parameters<typeof startRegistry>[0] = {}) => {
  const r = await startRegistry(opts);
  registries.push(r);
  return r;
};

/** An auth file (containers-auth.json) with one entry per host. */
function authFile(entries: Record<string, [string, string]>): string {
  const file = join(tempDir("fetchit-oci-auth-"), "auth.json");
  const auths = Object.fromEntries(Object.entries(entries).map(([host, [u, p]]) => [host, { auth: Buffer.from(`${u}:${p}`).toString("base64") }]));
  writeFileSync(file, JSON.stringify({ auths }), { mode: 0o600 });
  return file;
}

describe("credentials", () => {
  test("htpasswd Basic: credentials from $REGISTRY_AUTH_FILE; none or wrong ones give a clear, permanent error", async () => {
    const r = await registry({ basic: { username: "ci", password: "s3cret pass" } });
    const url = `oci://${r.host}/private/cfg:v1`;
    const digest = (await pushDirectory(tree({ "a.txt": "a\n" }), url, { tlsVerify: false, authFile: authFile({ [r.host]: ["ci", "s3cret pass"] }) })).digest;
    const good = tracedOciSource(url, { env: { HOME: tempDir("h-"), REGISTRY_AUTH_FILE: authFile({ [`${r.host}/private`]: ["ci", "s3cret pass"] }) } });
    expect(await good.source.fetch()).toBe(digest);
    for (const env of [{ HOME: tempDir("h-") }, { HOME: tempDir("h-"), REGISTRY_AUTH_FILE: authFile({ [r.host]: ["ci", "wrong"] }) }]) {
      const err = (await tracedOciSource(url, { env }).source.fetch().catch((e: unknown) => e)) as Error & { retryable: boolean };
      expect(err.message).toContain("access denied (401)");
      expect(err.message).toContain(`podman login ${r.host}`);
      expect(err.message).not.toContain("wrong");
      expect(err.retryable).toBe(false);
    }
  });

  test("Bearer: a token from the realm with Basic credentials, reused; a no-change tick is one HEAD", async () => {
    const r = await registry();
    const front = startFront(r.host, { bearer: { username: "robot", password: "tok-pass" } });
    fronts.push(front);
    const url = `oci://${front.host}/team/cfg:prod`;
    const auth = authFile({ [front.host]: ["robot", "tok-pass"] });
    const digest = (await pushDirectory(tree({ "a.txt": "a\n" }), url, { tlsVerify: false, authFile: auth })).digest;
    const s = tracedOciSource(url, { env: { HOME: tempDir("h-"), REGISTRY_AUTH_FILE: auth } });
    expect(await s.source.fetch()).toBe(digest);
    const mark = front.seen.length;
    expect(await s.source.fetch()).toBe(digest);
    expect(front.seen.slice(mark).map((x) => `${x.method} ${x.status}`)).toEqual(["HEAD 200"]);
    const denied = (await tracedOciSource(url, { env: { HOME: tempDir("h-"), REGISTRY_AUTH_FILE: authFile({ [front.host]: ["robot", "nope"] }) } }).source.fetch().catch((e: unknown) => e)) as Error;
    expect(denied.message).toContain("token endpoint");
    expect(denied.message).toContain("were refused");
  });
});

describe("registries.conf mirrors", () => {
  test("the mirror is asked first; when it is down, the primary answers", async () => {
    const [primary, mirror] = [await registry(), await registry()];
    const [pf, mf] = [startFront(primary.host), startFront(mirror.host)];
    fronts.push(pf, mf);
    const conf = join(tempDir("fetchit-oci-conf-"), "registries.conf");
    writeFileSync(conf, `[[registry]]\nlocation = "${pf.host}/site"\ninsecure = true\n\n[[registry.mirror]]\nlocation = "${mf.host}/cache/site"\ninsecure = true\n`);
    const dir = tree({ "a.txt": "from both\n" });
    const d1 = (await pushDirectory(dir, `oci://${pf.host}/site/cfg:v1`, { tlsVerify: false })).digest;
    expect((await pushDirectory(dir, `oci://${mf.host}/cache/site/cfg:v1`, { tlsVerify: false })).digest).toBe(d1);
    const [pm, mm] = [pf.seen.length, mf.seen.length];
    const s = tracedOciSource(`oci://${pf.host}/site/cfg:v1`, { env: { HOME: tempDir("h-"), CONTAINERS_REGISTRIES_CONF: conf } });
    expect(await s.source.fetch()).toBe(d1);
    expect(pf.since(pm)).toEqual([]);
    expect(mf.since(mm).map((x) => `${x.method} ${x.path}`)).toContain(`HEAD /v2/cache/site/cfg/manifests/v1`);
    mf.stop();
    writeFileSync(join(dir, "a.txt"), "primary only\n");
    const d2 = (await pushDirectory(dir, `oci://${pf.host}/site/cfg:v1`, { tlsVerify: false })).digest;
    expect(await s.source.fetch()).toBe(d2);
    const [change] = await s.source.diff(d1, d2, { targetPath: "" });
    expect((await s.source.readBlob(change!.blob!)).toString()).toBe("primary only\n");
  });
});

describe("TLS", () => {
  test("a private CA from certs.d/HOST:PORT/ca.crt is trusted; without it, a clear error", async () => {
    const dir = tempDir("fetchit-oci-tls-");
    const ssl = (...args: string[]) => runOk(["openssl", ...args], { cwd: dir });
    await ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=fetchit test CA", "-keyout", "ca.key", "-out", "ca.crt");
    await ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
    writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
    await ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
    const r = await registry({ tls: { cert: join(dir, "server.crt"), key: join(dir, "server.key") } });
    const url = `oci://${r.host}/tls/cfg:v1`;
    const digest = (await pushDirectory(tree({ "a.txt": "over TLS\n" }), url, { tlsVerify: false })).digest;
    const certsD = join(dir, "certs.d");
    mkdirSync(join(certsD, r.host), { recursive: true });
    copyFileSync(join(dir, "ca.crt"), join(certsD, r.host, "ca.crt"));
    const trusted = tracedOciSource(url, { tlsVerify: true, certsDirs: [certsD] });
    expect(await trusted.source.fetch()).toBe(digest);
    expect(trusted.calls.every((c) => c.url.startsWith("https://"))).toBe(true);
    const err = (await tracedOciSource(url, { tlsVerify: true, certsDirs: [join(dir, "empty")] }).source.fetch().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`put the registry's CA in /etc/containers/certs.d/${r.host}/ca.crt`);
  });
});
