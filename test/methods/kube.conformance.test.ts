import { describeConformance, observeListing } from "./conformance.ts";

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
  observe: (podman) => observeListing(podman, ["pod", "ps", "--format", "{{.Name}} {{.Id}} {{.Status}}"]),
});
