import { describeConformance } from "./conformance.ts";

const pod = (id: string, v: number, image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: conf-${id}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${image}
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
      env:
        - name: V
          value: "${v}"
`;

describeConformance({
  kind: "kube",
  extraYaml: () => "",
  file: (id, v, podman) => [`${id}.yaml`, pod(id, v, podman.image)],
  badFile: () => ["bad.yaml", "apiVersion: v1\nmetadata:\n  name: nokind\n", '"kind" is missing'],
  async observe(podman) {
    const out = await podman.cli(["pod", "ps", "--format", "{{.Name}} {{.Id}} {{.Status}}"]);
    const seen: Record<string, string> = {};
    for (const line of out.split("\n").filter(Boolean)) {
      const [name, id, status] = line.split(" ");
      seen[name!.replace(/^conf-/, "")] = `${id} ${status}`;
    }
    return seen;
  },
});
