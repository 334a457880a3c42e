import { SLEEPER } from "../support/fetchit.ts";
import { describeConformance } from "./conformance.ts";

describeConformance({
  kind: "raw",
  extraYaml: () => "",
  file: (id, v, podman) => [`${id}.json`, JSON.stringify({ Image: podman.image, Name: `conf-${id}`, Env: { V: String(v) }, Command: SLEEPER })],
  badFile: () => ["bad.json", JSON.stringify({ Name: "no-image" }), "Image: required field missing"],
  async observe(podman) {
    const out = await podman.cli(["ps", "-a", "--format", "{{.Names}} {{.ID}} {{.State}}"]);
    const seen: Record<string, string> = {};
    for (const line of out.split("\n").filter(Boolean)) {
      const [name, id, state] = line.split(" ");
      seen[name!.replace(/^conf-/, "")] = `${id} ${state}`;
    }
    return seen;
  },
});
