/**
 * TypeBox schema of the whole fetchit config (FetchIt's format, canonical key
 * spellings). No unknown keys are allowed anywhere and every key carries a
 * description; `configJsonSchema()` exports it as JSON Schema for editors.
 */
import { Type } from "@sinclair/typebox";
import {
  AnsibleMethodSchema,
  FileTransferMethodSchema,
  KubeMethodSchema,
  RawMethodSchema,
  STRICT,
  SystemdMethodSchema,
  methodListSchema,
  scheduleSchema,
  skewSchema,
} from "./schema-methods.ts";

export {
  AnsibleMethodSchema,
  FileTransferMethodSchema,
  KubeMethodSchema,
  RawMethodSchema,
  SystemdMethodSchema,
} from "./schema-methods.ts";

const str = (description: string) => Type.Optional(Type.String({ description }));
const bool = (description: string) => Type.Optional(Type.Boolean({ default: false, description }));

const gitAuthProperties = {
  ssh: bool("true: clone and fetch over SSH with the key in sshKeyFile. Default: false."),
  sshKeyFile: str("SSH private key file used when ssh is true. Default: none (FetchIt: /opt/mount/.ssh/id_rsa, names relative to /opt/mount/.ssh/)."),
  username: str("HTTP basic-auth user name. With ssh: true FetchIt used password as the key passphrase. Default: none."),
  password: str("HTTP basic-auth password, or the SSH key passphrase when ssh is true. Default: none."),
  pat: str("Personal access token for HTTPS git (sent as user \"fetchit\" with the token as password, as in FetchIt). Default: none."),
  envSecret: str("Name of an environment variable that holds the personal access token (e.g. from podman --secret NAME,type=env); overrides pat. Default: none."),
};

/** Top-level `gitAuth`: credentials applied to every target. */
export const GitAuthSchema = Type.Object(gitAuthProperties, {
  ...STRICT,
  description: "Git credentials applied to every target (FetchIt has no per-target credentials). Default: none (anonymous).",
});

/** `verifyCommitsInfo` of a target: gitsign verification of the head commit. */
export const VerifyCommitsInfoSchema = Type.Object(
  {
    gitsignVerify: bool("true: refuse to apply a head commit that is not signed with gitsign. Default: false. FetchIt's example spells it \"GitsignVerify\"; keys are matched case-insensitively."),
    gitsignRekorURL: Type.Optional(
      Type.String({ default: "https://rekor.sigstore.dev", description: "Rekor transparency log used to verify gitsign signatures. Default: https://rekor.sigstore.dev." }),
    ),
  },
  { ...STRICT, description: "Commit signature verification for this target. Default: none (no verification)." },
);

/** One `targetConfigs[]` entry: a git repository (or disconnected source) and its methods. */
export const TargetConfigSchema = Type.Object(
  {
    name: str("Label of the target, used in logs and state. Default: the repository name from url plus \"@\" and the branch (e.g. \"fetchit@main\"). Must be unique among targets; FetchIt parsed but never used it."),
    url: str("Git repository URL (https, ssh or file). For a disconnected target: URL of a zip holding a git repository. Required unless the target is disconnected and reads a device."),
    branch: str("Branch to follow. Required (FetchIt has no default and fails on every run without it); disconnected targets may omit it."),
    device: str("Block device (e.g. /dev/sda1) holding the repository, for disconnected targets. Ignored unless disconnected is true. Default: none."),
    disconnected: bool("true: do not fetch over the network; read a zip at url or the repository on device (FetchIt's disconnected mode). Default: false."),
    verifyCommitsInfo: Type.Optional(VerifyCommitsInfoSchema),
    raw: Type.Optional(methodListSchema("raw", RawMethodSchema)),
    kube: Type.Optional(methodListSchema("kube", KubeMethodSchema)),
    systemd: Type.Optional(methodListSchema("systemd", SystemdMethodSchema)),
    filetransfer: Type.Optional(methodListSchema("filetransfer", FileTransferMethodSchema)),
    ansible: Type.Optional(methodListSchema("ansible", AnsibleMethodSchema)),
  },
  { ...STRICT, description: "A git repository (or disconnected source) and the methods that apply its files." },
);

/** Top-level `configReload`: re-download the config and restart with it. */
export const ConfigReloadSchema = Type.Object(
  {
    configURL: str("URL the config is downloaded from on each schedule; a changed config replaces the current one. Default: $FETCHIT_CONFIG_URL. FetchIt docs spell it \"configUrl\"; keys are matched case-insensitively."),
    device: str("Block device holding the config, read when present (disconnected reload). Default: none."),
    configPath: str("Path of the config file on device. Default: none."),
    schedule: Type.Optional(scheduleSchema("the config check", false)),
    skew: Type.Optional(skewSchema("config check")),
    ...gitAuthProperties,
  },
  {
    ...STRICT,
    description:
      "Periodically re-reads the config from configURL or device and restarts with it when it changed. Only active when configURL or device is set. The gitAuth keys are accepted here for FetchIt compatibility (FetchIt parsed them but used the top-level gitAuth).",
  },
);

/** Top-level `prune`: periodic `podman system prune`. */
export const PruneSchema = Type.Object(
  {
    all: bool("true: also remove every unused image, not only dangling ones. Default: false. FetchIt's example spells it \"All\"."),
    volumes: bool("true: also remove unused volumes. Default: false. FetchIt's example spells it \"Volumes\"."),
    scope: Type.Optional(
      Type.Union([Type.Literal("all"), Type.Literal("fetchit")], {
        description:
          "What is pruned. \"all\": everything unused on the host (podman system prune: stopped containers, unused pods and networks, dangling images or with all every unused image, unused volumes with volumes), as in FetchIt. \"fetchit\": only what fetchit created and no longer manages: containers and pods labelled owned-by=fetchit that are not running and that no state record manages (never one an apply in progress may have just created), and with volumes unused volumes labelled owned-by=fetchit; images are never removed in this scope (they carry no owner), so all has no effect. Default: all. Not in FetchIt.",
      }),
    ),
    schedule: scheduleSchema("the prune", true),
    skew: Type.Optional(skewSchema("prune")),
  },
  { ...STRICT, description: "Periodically prunes unused objects on the host: everything unused, as in FetchIt, or with scope fetchit only what fetchit created. Default: none (no pruning)." },
);

/** Top-level `podmanAutoUpdate`: enable podman-auto-update timers. */
export const PodmanAutoUpdateSchema = Type.Object(
  {
    root: bool("true: enable the system podman-auto-update.timer. Default: false."),
    user: bool("true: enable the user podman-auto-update.timer. Default: false."),
  },
  { ...STRICT, description: "Enables Podman's own auto-update timers once at startup. Default: none." },
);

/** One top-level `images[]` entry: an image archive loaded into Podman. */
export const ImageConfigSchema = Type.Object(
  {
    name: str("Label of the image loader, used in logs, state and sync --method images/<name>. Default: the file name of url or imagePath. Must be unique among images."),
    url: str("HTTP(S) URL of an image archive (podman save: docker-archive or oci-archive, optionally gzip-compressed). Checked with a conditional GET (ETag/Last-Modified) on every run and loaded again when it changed; while the URL is unreachable or answers 404 the loaded image stays. Takes precedence over imagePath. Default: none."),
    imagePath: str("Host path of an image archive (same formats as url), e.g. on mounted removable media; loaded again when its content changes (size, mtime, then sha256); while it is absent the loaded image stays. A relative path is resolved against the mount point of device. Default: none."),
    device: str("Block device (e.g. /dev/sdb1) whose mount point a relative imagePath is resolved against (read from /proc/mounts). fetchit never mounts it: let the OS do that (fstab, a systemd .mount unit, udisks); while it is not mounted the image check waits. Accepted for FetchIt compatibility. Default: none."),
    schedule: scheduleSchema("the image check", true),
    skew: Type.Optional(skewSchema("image check")),
  },
  { ...STRICT, description: "Loads an image archive from a URL or a host path into Podman, again whenever it changes." },
);

/** The whole config file. */
export const FetchitConfigSchema = Type.Object(
  {
    targetConfigs: Type.Optional(
      Type.Array(TargetConfigSchema, { default: [], description: "Git (or disconnected) targets to keep the host in step with. Default: [] (no targets)." }),
    ),
    gitAuth: Type.Optional(GitAuthSchema),
    configReload: Type.Optional(ConfigReloadSchema),
    prune: Type.Optional(PruneSchema),
    podmanAutoUpdate: Type.Optional(PodmanAutoUpdateSchema),
    images: Type.Optional(
      Type.Array(ImageConfigSchema, { description: "Image archives to load into Podman, each on its own schedule. Default: none." }),
    ),
    pruneRemovedMethods: Type.Optional(
      Type.Boolean({
        description:
          "true: when a method (or a whole target) disappears from the config, remove what it deployed (containers, files) at the next start. false: leave it in place and say so in the log. Default: false. Not in FetchIt (its issue #252).",
      }),
    ),
  },
  {
    ...STRICT,
    description: "fetchit configuration (containers/fetchit format). Keys are matched case-insensitively like FetchIt, but unknown keys are errors.",
  },
);

/**
 * The config schema as a plain JSON Schema (draft-07) object, for
 * yaml-language-server (`# yaml-language-server: $schema=...`) and `fetchit schema`.
 */
export function configJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(FetchitConfigSchema)) as Record<string, unknown>;
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "fetchit configuration",
    ...plain,
  };
}
