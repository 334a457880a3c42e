/**
 * TypeBox schemas of the five git method entries (raw, kube, systemd,
 * filetransfer, ansible). Every entry shares FetchIt's CommonMethod keys; the
 * method `name` defaults to the kind. Descriptions end up in the JSON Schema
 * that editors show, so each says what the key does, its default and how it
 * relates to FetchIt.
 */
import { Type, type TProperties, type TSchema } from "@sinclair/typebox";
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

/** `raw`: Podman container definitions (YAML or JSON) started as containers. */
export const RawMethodSchema = methodSchema("raw", "Runs each container definition file (YAML or JSON, FetchIt's raw format) as a Podman container; a changed file replaces its container, a deleted one removes it.", {
  pullImage: Type.Optional(
    Type.Boolean({
      default: false,
      description: "true: pull the image on every apply; false: pull only when it is missing. Default: false. \"true\"/\"false\" strings are accepted.",
    }),
  ),
  selfHeal: selfHealProperty("containers"),
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
  },
);

/** `systemd`: unit files (and Quadlet files) placed and optionally enabled. */
export const SystemdMethodSchema = methodSchema("systemd", "Places systemd unit files on the host and optionally enables, starts or restarts them.", {
  root: Type.Optional(
    Type.Boolean({
      default: false,
      description: "true: system units in /etc/systemd/system; false: user units in $HOME/.config/systemd/user. Default: false (FetchIt's default too).",
    }),
  ),
  enable: Type.Optional(
    Type.Boolean({ default: false, description: "true: enable and start each unit after placing it; false: only place the files. Default: false." }),
  ),
  restart: Type.Optional(
    Type.Boolean({
      default: false,
      description: "true: restart a unit when its file changes (implies enable, as in FetchIt). Default: false.",
    }),
  ),
});

/** `filetransfer`: files copied to a host directory. */
export const FileTransferMethodSchema = methodSchema("filetransfer", "Copies files from targetPath into a directory on the host. FetchIt's README spells the key \"fileTransfer\"; both spellings are accepted.", {
  destinationDirectory: Type.String({
    description: "Absolute host directory the files are copied into; created if missing (FetchIt required it to exist). Required.",
  }),
});

/** `ansible`: playbooks run against the host. */
export const AnsibleMethodSchema = methodSchema("ansible", "Runs each Ansible playbook file found under targetPath.", {
  sshDirectory: Type.Optional(
    Type.String({
      description: "Host directory with the SSH keys and known_hosts Ansible uses (FetchIt mounted it at /root/.ssh of the ansible container). Default: none.",
    }),
  ),
});

/** The list schema of one method kind, as it appears under a target. */
export function methodListSchema<T extends TSchema>(kind: MethodKind, item: T) {
  return Type.Array(item, {
    description: `List of ${kind} method entries for this target; each runs on its own schedule. Default: none.`,
  });
}
