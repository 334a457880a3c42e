import { describe, expect, test } from "bun:test";
import { MethodError } from "../../src/errors.ts";
import { parseRawSpec } from "../../src/methods/raw-spec.ts";

const F = "raw/app.yaml";
/** The MethodError message for `text`, or "" when it parses. */
function errorOf(text: string, file = F): string {
  try {
    parseRawSpec(text, file);
    return "";
  } catch (err) {
    expect(err).toBeInstanceOf(MethodError);
    return (err as Error).message;
  }
}

describe("parseRawSpec: accepted specs", () => {
  test("a FetchIt-style JSON spec with CRLF line endings", () => {
    const text = [
      "{",
      '    "Image":"docker.io/library/httpd:2.4-alpine",',
      '    "Name": "cap1",',
      '    "Env": {"APP_COLOR": "blue", "tree": "trunk"},',
      '    "Mounts": [],',
      '    "Volumes": [{"name": "data", "dest": "/data", "options": ["ro"]}],',
      '    "CapAdd": ["NET_ADMIN"],',
      '    "Ports": [{',
      '        "host_ip":        "127.0.0.1",',
      '        "container_port": 80,',
      '        "host_port":      7070,',
      '        "range":         0,',
      '        "protocol":      "udp"}]',
      "}",
      "",
    ].join("\r\n");
    expect(parseRawSpec(Buffer.from(text), "raw/cap.json")).toEqual({
      Image: "docker.io/library/httpd:2.4-alpine",
      Name: "cap1",
      Env: { APP_COLOR: "blue", tree: "trunk" },
      Ports: [{ host_ip: "127.0.0.1", container_port: 80, host_port: 7070, range: 0, protocol: "udp" }],
      Mounts: [],
      Volumes: [{ name: "data", dest: "/data", options: ["ro"] }],
      CapAdd: ["NET_ADMIN"],
      CapDrop: [],
      Labels: {},
      Devices: [],
      Restart: "always",
    });
  });

  test("JSON keys match case-insensitively and a BOM is ignored", () => {
    const spec = parseRawSpec('\uFEFF{"image": "busybox", "name": "b1", "capdrop": ["NET_RAW"], "ENV": {"A": "1"}}', "raw/b.json");
    expect(spec).toMatchObject({ Image: "busybox", Name: "b1", CapDrop: ["NET_RAW"], Env: { A: "1" } });
  });

  test("a YAML spec with every new field", () => {
    const spec = parseRawSpec(
      [
        "Image: docker.io/library/nginx:1.25",
        "Name: web.1",
        "Command: [nginx, -g, 'daemon off;']",
        "Labels:",
        "  app: web",
        "  tier: 1",
        "Network: host",
        "Restart: on-failure:3",
        "User: 1000",
        "Devices:",
        "  - /dev/fuse",
        "Pod: mypod",
        "Mounts:",
        "  - destination: /srv",
        "    type: bind",
        "    source: /srv/web",
      ].join("\n"),
      F,
    );
    expect(spec).toEqual({
      Image: "docker.io/library/nginx:1.25",
      Name: "web.1",
      Command: ["nginx", "-g", "daemon off;"],
      Labels: { app: "web", tier: "1" },
      Network: "host",
      Restart: "on-failure:3",
      User: "1000",
      Devices: ["/dev/fuse"],
      Pod: "mypod",
      Env: {}, Ports: [], Mounts: [{ destination: "/srv", type: "bind", source: "/srv/web" }], Volumes: [], CapAdd: [], CapDrop: [],
    });
  });

  test("a Command string runs through /bin/sh -c", () => {
    expect(parseRawSpec("Image: busybox\nName: b\nCommand: echo hi && sleep 5\n", F).Command).toEqual(["/bin/sh", "-c", "echo hi && sleep 5"]);
  });

  test("defaults: Restart always, empty lists and maps, no Command/Network/User/Pod", () => {
    const spec = parseRawSpec("Image: busybox\nName: b\n", F);
    expect(spec).toEqual({
      Image: "busybox", Name: "b", Env: {}, Ports: [], Mounts: [], Volumes: [], CapAdd: [], CapDrop: [], Labels: {}, Devices: [], Restart: "always",
    });
    expect("Command" in spec || "Network" in spec || "User" in spec || "Pod" in spec).toBe(false);
  });

  test("null and empty values fall back to defaults; Env values are stringified", () => {
    const spec = parseRawSpec("Image: busybox\nName: b\nPorts:\nCapAdd: ''\nEnv:\n  N: 5\n  B: true\n", F);
    expect(spec.Ports).toEqual([]);
    expect(spec.CapAdd).toEqual([]);
    expect(spec.Env).toEqual({ N: "5", B: "true" });
  });

  test("every Restart policy form is accepted", () => {
    for (const r of ["no", "always", "on-failure", "on-failure:10", "unless-stopped"]) {
      expect(parseRawSpec(`Image: i\nName: n\nRestart: ${r}\n`, F).Restart).toBe(r);
    }
  });
});

describe("parseRawSpec: errors name the file and the field", () => {
  test("empty file", () => {
    expect(errorOf("  \r\n\n")).toBe(`${F}: spec file is empty; expected a container spec with at least Image and Name`);
  });

  test("missing Image / missing Name", () => {
    expect(errorOf("Name: b\n")).toBe(`${F}: Image: required field missing`);
    expect(errorOf('{"Image": "busybox"}', "raw/x.json")).toBe("raw/x.json: Name: required field missing");
  });

  test("unknown field with a suggestion", () => {
    expect(errorOf("Image: i\nName: n\nCapAd: [X]\n")).toBe(`${F}: CapAd: unknown field; did you mean "CapAdd"?`);
    expect(errorOf("Image: i\nName: n\nPorts:\n  - container_prot: 80\n")).toBe(`${F}: Ports[0].container_prot: unknown field; did you mean "container_port"?`);
  });

  test("an unknown field with nothing close lists the fields", () => {
    expect(errorOf("Image: i\nName: n\nHealthcheck: x\n")).toMatch(/^raw\/app\.yaml: Healthcheck: unknown field; expected one of Image, Name, Env, /);
  });

  test("Ports[0].container_port as a string", () => {
    expect(errorOf('{"Image": "i", "Name": "n", "Ports": [{"container_port": "80"}]}')).toBe(
      `${F}: Ports[0].container_port: expected a port number 0-65535, got string`,
    );
  });

  test("out-of-range and missing ports", () => {
    expect(errorOf("Image: i\nName: n\nPorts:\n  - container_port: 70000\n")).toContain("Ports[0].container_port: expected a port number 0-65535");
    expect(errorOf("Image: i\nName: n\nPorts:\n  - host_port: 80\n")).toBe(`${F}: Ports[0].container_port: required field missing`);
  });

  test("Env as a list", () => {
    expect(errorOf("Image: i\nName: n\nEnv:\n  - A=1\n")).toBe(`${F}: Env: expected a mapping of names to strings, got a list`);
  });

  test("nested Env value", () => {
    expect(errorOf("Image: i\nName: n\nEnv:\n  A:\n    b: 1\n")).toBe(`${F}: Env.A: expected a string, got object`);
  });

  test("invalid Restart", () => {
    expect(errorOf("Image: i\nName: n\nRestart: sometimes\n")).toBe(`${F}: Restart: expected no, always, on-failure[:N] or unless-stopped, got string`);
    expect(errorOf("Image: i\nName: n\nRestart: on-failure:x\n")).toContain("Restart: expected");
  });

  test("invalid container Name", () => {
    expect(errorOf("Image: i\nName: -web\n")).toBe(`${F}: Name: expected a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), got string`);
    expect(errorOf("Image: i\nName: my/web\n")).toContain("Name: expected a container name");
  });

  test("a list where a list of strings is expected", () => {
    expect(errorOf("Image: i\nName: n\nCapDrop: NET_RAW\n")).toBe(`${F}: CapDrop: expected a list, got string`);
    expect(errorOf("Image: i\nName: n\nDevices: [1]\n")).toBe(`${F}: Devices[0]: expected a non-empty string, got number`);
  });

  test("invalid YAML and invalid JSON", () => {
    expect(errorOf("Image: [busybox\nName: n\n")).toMatch(/^raw\/app\.yaml: not valid YAML: /);
    expect(errorOf('{"Image": "busybox",', "raw/x.json")).toMatch(/^raw\/x\.json: not valid JSON: /);
  });

  test("a document that is not a mapping", () => {
    expect(errorOf("- Image: i\n")).toBe(`${F}: spec: expected a mapping, got a list`);
    expect(errorOf("just text")).toBe(`${F}: spec: expected a mapping, got string`);
  });
});

test("FetchIt's color1.json (CRLF, empty host_ip and protocol) parses; empty means unset", () => {
  const text =
    '{\r\n "Image":"docker.io/library/httpd:2.4-alpine",\r\n "Name": "colors1",\r\n "Env": {"APP_COLOR": "blue", "tree": "trunk"},\r\n "Mounts": [],\r\n "Volumes": [],\r\n "Ports": [{\r\n "host_ip": "",\r\n "container_port": 80,\r\n "host_port": 8080,\r\n "range": 0,\r\n "protocol": ""}]\r\n}';
  expect(parseRawSpec(text, "raw/color1.json").Ports).toEqual([{ container_port: 80, host_port: 8080, range: 0 }]);
});

test("a numeric Name is a name; an empty Image says so", () => {
  expect(parseRawSpec("Image: x\nName: 42\n", "f.yaml").Name).toBe("42");
  expect(() => parseRawSpec('Image: ""\nName: a\n', "f.yaml")).toThrow("f.yaml: Image: expected a non-empty string, got an empty string");
});
