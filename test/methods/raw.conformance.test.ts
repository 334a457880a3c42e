import { SLEEPER } from "../support/fetchit.ts";
import { describeConformance, observeListing } from "./conformance.ts";

describeConformance({
  kind: "raw",
  extraYaml: () => "",
  file: (id, v, podman) => [`${id}.json`, JSON.stringify({ Image: podman.image, Name: `conf-${id}`, Env: { V: String(v) }, Command: SLEEPER })],
  badFile: () => ["bad.json", JSON.stringify({ Name: "no-image" }), "Image: required field missing"],
  observe: (podman) => observeListing(podman, ["ps", "-a", "--format", "{{.Names}} {{.ID}} {{.State}}"]),
});
