/**
 * TypeBox schemas of the five git method entries (raw, kube, systemd,
 * filetransfer, ansible). Every entry shares FetchIt's CommonMethod keys; the
 * method `name` defaults to the kind. Descriptions end up in the JSON Schema
 * that editors show, so each says what the key does, its default and how it
 * relates to FetchIt.
 */
import { Type, type TProperties, type TSchema } from "@sinclair/typebox";
import { HealthSchema } from "./health.ts";
import type { MethodKind } from "./types.ts";

/** No unknown keys anywhere: a typo is an error, not silently ignored as in FetchIt. */
export const STRICT = { additionalProperties: false } as const;

/** Shared description of every `schedule` key. */
export function scheduleSchema(what: string, required: boolean) {
  return Type.String({
    description:
      `When ${what} runs. A 5-field cron pattern (minute hour day-of-month month day-of-week, minute precision as in FetchIt), ` +
      `a 6-field pattern with seconds first, a descriptor (@hourly, @daily, @weekly, @monthly, @yearly) or ` +
      `"@every <n>s|m|h" (FetchIt/robfig syntax; the interval must divide a minute, hour or day and runs aligned to the clock). ` +
      (required ? "Required; no default." : "Default: none."),
  });
}

/** Shared description of every `skew` key. */
export function skewSchema(what: string) {
  return Type.Integer({
    minimum: 1,
    description:
      `Maximum random delay in milliseconds before each ${what} run, drawn anew for every run. ` +
      `Default: none (no delay); must be at least 1. A numeric string such as "500" is accepted (FetchIt weak typing). ` +
      `FetchIt: same unit, but it drew the delay once at startup and panicked on 0.`,
  });
}

/** The CommonMethod keys, with `name` defaulting to the kind. */
function commonProperties(kind: MethodKind) {
  return {
    name: Type.Optional(
      Type.String({
        default: kind,
        description:
          `Label of this ${kind} entry, used in state records and logs. Default: "${kind}". ` +
          `Must be unique among the ${kind} entries of one target, so give each entry a name when a target has several.`,
      }),
    ),
    schedule: scheduleSchema("this method", true),
    skew: Type.Optional(skewSchema("method")),
    targetPath: Type.String({
      description:
        kind === "filetransfer"
          ? "Directory or single file inside the repository whose content is copied. Required; relative to the repository root, no leading '/' and no '..' segment ('.' is the whole repository)."
          : "Directory inside the repository that holds this method's files. Required; relative to the repository root, no leading '/' and no '..' segment ('.' is the whole repository).",
    }),
    glob: Type.Optional(
      Type.String({
        default: "**",
        description:
          "Glob matched against each file path relative to targetPath. Default: \"**\" (every file). As in FetchIt (gobwas/glob without separators), '*' also matches '/'.",
      }),
    ),
    health: Type.Optional({ ...HealthSchema, description: `Health gate of this ${kind} entry; its keys win over the top-level health block, key by key. ${HealthSchema.description}` }),
  };
}

function methodSchema<P extends TProperties>(kind: MethodKind, description: string, extra: P) {
  return Type.Object({ ...commonProperties(kind), ...extra }, { ...STRICT, description });
}

/** `selfHeal` for methods that can repair drift (raw, kube). */
export const selfHealProperty = (what: string) =>
  Type.Optional(
    Type.Boolean({
      description: `true: on every run, even without a new commit, check that the ${what} this method manages still exist and run, and recreate any that were removed, stopped or replaced out of band (one Podman list call per run). Default: true. Not in FetchIt.`,
    }),
  );

/** `snapshotVolumes` and `keepSnapshots` for methods that replace containers or pods (raw, kube). */
export const snapshotProperties = (what: string) => ({
  snapshotVolumes: Type.Optional(
    Type.Boolean({
      description: `true: before replacing a ${what}, export the named volumes it mounts into the state dir, and import them back when the commit is rolled back (a migration run against the old data is undone). Refused with an error when the free space is less than a volume's size. Default: false. Not in FetchIt.`,
    }),
  ),
  keepSnapshots: Type.Optional(
    Type.Integer({ minimum: 1, description: "How many snapshots to keep per volume (the oldest go first). Default: 3." }),
  ),
});

/** `adopt` for methods that replace same-named Podman objects (raw, kube). */
export const adoptProperty = (what: string) =>
  Type.Optional(
    Type.Boolean({
      description:
        `What to do when a ${what} with the name a file asks for exists but was not created by fetchit (no owned-by=fetchit label): ` +
        `true: take it over (stop and replace it, as FetchIt does), with a warning naming it; false: refuse, and report the file as failed until the ${what} is removed or renamed. ` +
        `Default: true. \"true\"/\"false\" strings are accepted. Not in FetchIt. See docs/ownership.md.`,
    }),
  );

/** `raw`: Podman container definitions (YAML or JSON) started as containers. */
export const RawMethodSchema = methodSchema("raw", "Runs each container definition file (YAML or JSON, FetchIt's raw format) as a Podman container; a changed file replaces its container, a deleted one removes it.", {
  pullImage: Type.Optional(
    Type.Boolean({
      default: false,
      description: "true: pull the image on every apply; false: pull only when it is missing. Default: false. \"true\"/\"false\" strings are accepted.",
    }),
  ),
  selfHeal: selfHealProperty("containers"),
  ...snapshotProperties("container"),
  adopt: adoptProperty("container"),
});

/** `kube`: Kubernetes YAML played with `podman kube play`. */
export const KubeMethodSchema = methodSchema(
  "kube",
  "Plays each Kubernetes YAML file (pods, deployments, config maps, persistent volume claims; several documents per file) with Podman's kube play; a changed file replaces the pods it made, a deleted one removes them (volumes are kept).",
  {
    network: Type.Optional(
      Type.String({
        description:
          "Network for every pod of this entry, as `podman kube play --network`: a network name (created beforehand with `podman network create`) or a mode such as \"host\". Default: none (Podman's podman-default-kube-network). Not in FetchIt (its issue #280).",
      }),
    ),
    start: Type.Optional(
      Type.Boolean({
        description:
          "true: start the pods after creating them; false: create them without starting (`podman kube play --start=false`). Default: true. \"true\"/\"false\" strings are accepted. Not in FetchIt.",
      }),
    ),
    userns: Type.Optional(
      Type.String({
        description:
          "User namespace for the pods, as `podman kube play --userns` (e.g. \"auto\", \"host\"). Needs Podman 4.7 or later: older Podman APIs ignore it, so fetchit refuses to apply the file there. Default: none (Podman's default). Not in FetchIt.",
      }),
    ),
    selfHeal: selfHealProperty("pods"),
    ...snapshotProperties("pod"),
    adopt: adoptProperty("pod"),
  },
);

/** `systemd`: unit files placed and optionally enabled. */
export const SystemdMethodSchema = methodSchema(
  "systemd",
  "Places systemd unit files (.service, .timer, .socket, .path, .target, .mount, .automount, .slice and drop-ins <unit>.d/*.conf; FetchIt: .service only) on the host with systemctl run directly (no helper container): one daemon-reload per apply, optionally enable/start or restart, and a deleted file's unit is disabled and stopped.",
  {
    root: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "true: system units in /etc/systemd/system, managed with systemctl; false: units of the user fetchit runs as, in $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user), managed with systemctl --user (keep that user's manager running with loginctl enable-linger). Default: false (FetchIt's default too).",
      }),
    ),
    enable: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "true: enable and start (systemctl enable --now) each unit whose file or drop-in is added or changed, then check it is active; a unit that fails to start fails its file, with the last lines of its journal. false: only place the files (and daemon-reload). Default: false.",
      }),
    ),
    restart: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "true: restart a unit when its file or one of its drop-ins changes, and check it comes back (implies enable, as in FetchIt, which also restarted only on a file change). Default: false.",
      }),
    ),
    unitDirectory: Type.Optional(
      Type.String({
        description:
          "Absolute host directory the unit files are written to, instead of /etc/systemd/system (root: true) or ~/.config/systemd/user (root: false); for tests and image-based (OSTree) layouts. It must be a directory systemd reads units from (e.g. /run/systemd/system, /etc/systemd/user), or daemon-reload will not see them. Default: none (the standard directory). Not in FetchIt.",
      }),
    ),
  },
);

/** `quadlet`: Podman Quadlet files placed for systemd's quadlet generator (src/methods/quadlet.ts). */
export const QuadletMethodSchema = methodSchema(
  "quadlet",
  "Places Podman Quadlet files (.container, .pod, .kube, .network, .volume, .image, .build) where systemd's quadlet generator reads them, checks each with the generator's dry run first (a file it rejects is reported with the generator's message and not placed), runs daemon-reload, starts the generated service of a new file, restarts it when its file changes and stops it when the file is deleted. Other files under targetPath (the YAML of a .kube, environment files) are placed next to them. Needs Podman 4.4 or later on the host. Not in FetchIt (its issue #311).",
  {
    root: Type.Optional(
      Type.Boolean({
        description:
          "true: /etc/containers/systemd and the system manager (systemctl); false: $XDG_CONFIG_HOME/containers/systemd (~/.config/containers/systemd) and the user's manager (systemctl --user; keep it running with `loginctl enable-linger`). Default: true when fetchit runs as root, false otherwise. \"true\"/\"false\" strings are accepted.",
      }),
    ),
    restart: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          "true: restart the generated service when its file changes; false: only daemon-reload (the change takes effect at the service's next start). New files are always started and deleted ones stopped. Default: true.",
      }),
    ),
    unitDirectory: Type.Optional(
      Type.String({
        description:
          "Absolute directory the files are placed in instead of the default one of root (e.g. /run/containers/systemd for files that must not survive a reboot, /etc/containers/systemd/users/UID for one user, or a test root). It must be a directory the quadlet generator reads for that manager, or nothing starts. Default: none (see root).",
      }),
    ),
  },
);

/** `filetransfer`: files copied to a host directory. */
export const FileTransferMethodSchema = methodSchema("filetransfer", "Copies files from targetPath into a directory on the host. FetchIt's README spells the key \"fileTransfer\"; both spellings are accepted.", {
  destinationDirectory: Type.String({
    description: "Host directory the files are copied into (a relative path is resolved against the directory fetchit started in); created if missing (FetchIt required it to exist). Required.",
  }),
});

/** `ansible`: playbooks run against the host. */
export const AnsibleMethodSchema = methodSchema("ansible", "Runs each playbook (*.yaml, *.yml under targetPath) that is added or changed, once, against this host: with the host's ansible-playbook (connection local) when installed, else in a container. A failed playbook fails its file and the commit is not retried; a deleted one has nothing to undo.", {
  sshDirectory: Type.Optional(
    Type.String({
      description: "Container mode only: host directory (a relative path is resolved against the directory fetchit started in) with the SSH key, known_hosts and config used to reach this host over SSH as root, mounted at /root/.ssh and used with ansible_connection=ssh (FetchIt's only mode). Without it, a container run uses connection local inside the container. Default: none.",
    }),
  ),
  image: Type.Optional(
    Type.String({
      minLength: 1,
      description: "Image with ansible-playbook: run every playbook in a container of this image through the Podman API (pulled when missing) even if the host has ansible. Default: none: the host's ansible-playbook, or FetchIt's quay.io/fetchit/fetchit-ansible:latest when the host has none (FetchIt always used that image and pulled it on every run).",
    }),
  ),
  timeout: Type.Optional(
    Type.Integer({
      minimum: 1,
      default: 600,
      description: "Seconds one playbook may run; then ansible-playbook and every process it started are killed and the file fails. Default: 600. Not in FetchIt (no limit).",
    }),
  ),
});

/** The list schema of one method kind, as it appears under a target. */
export function methodListSchema<T extends TSchema>(kind: MethodKind, item: T) {
  return Type.Array(item, {
    description: `List of ${kind} method entries for this target; each runs on its own schedule. Default: none.`,
  });
}
