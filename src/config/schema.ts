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
  QuadletMethodSchema,
  RawMethodSchema,
  STRICT,
  SystemdMethodSchema,
  methodListSchema,
  scheduleSchema,
  skewSchema,
} from "./schema-methods.ts";
import { NotifyListSchema } from "./notify.ts";
import { ListenSchema } from "./listen.ts";
import { HostSchema } from "./host.ts";
import { HealthSchema } from "./health.ts";
import { RolloutSchema } from "./rollout.ts";

export {
  AnsibleMethodSchema,
  FileTransferMethodSchema,
  KubeMethodSchema,
  QuadletMethodSchema,
  RawMethodSchema,
  SystemdMethodSchema,
} from "./schema-methods.ts";

const str = (description: string) => Type.Optional(Type.String({ description }));
const bool = (description: string) => Type.Optional(Type.Boolean({ default: false, description }));

const gitAuthProperties = {
  ssh: bool("true: fetch ssh remotes (ssh://… or git@host:path; put the user in the url) with the key in sshKeyFile, the host key checked against sshKnownHosts. Applies to ssh urls only; an https url with ssh: true is an error. Default: false."),
  sshKeyFile: str("SSH private key file; required when ssh is true. An absolute path, ~/name, a bare name looked up in ~/.ssh/ of the user running fetchit (FetchIt looked names up in /opt/mount/.ssh/ and defaulted to id_rsa), or a relative path with a / (./deploy_key), resolved against the directory fetchit started in. Must not be readable by group or others. Default: none."),
  username: str("HTTP basic-auth user name; with pat or envSecret the user sent with the token (default \"fetchit\"). Default: none."),
  password: str("HTTP basic-auth password, or with ssh: true the passphrase of sshKeyFile (given to ssh through SSH_ASKPASS from the environment, never on a command line). Keep the config file chmod 600, or prefer envSecret. Default: none."),
  pat: str("Personal access token for HTTPS git, sent as basic auth with user \"fetchit\" (or username) and the token as password, as in FetchIt; works with GitHub, GitLab, Gitea and Bitbucket tokens. Default: none."),
  envSecret: str("Name (not value) of an environment variable holding the personal access token, e.g. from podman --secret NAME,type=env or a systemd EnvironmentFile=; overrides pat. An unset variable is a config error. Default: none."),
  sshKnownHosts: str("known_hosts file the server's host key is checked against (ssh -o UserKnownHostsFile); path rules as sshKeyFile. A missing file is an error that shows the ssh-keyscan command to create it. Default: known_hosts next to sshKeyFile (FetchIt: /opt/mount/.ssh/known_hosts). Not in FetchIt."),
  sshStrictHostKeyChecking: Type.Optional(
    Type.Boolean({
      default: true,
      description: "false: do NOT verify the server's host key (StrictHostKeyChecking=no, no known_hosts); logged as a warning. Only for throw-away test setups. Default: true (unknown or changed host keys are refused). Not in FetchIt.",
    }),
  ),
};

/** `gitAuth` (top level, or per target): git credentials. */
export const GitAuthSchema = Type.Object(gitAuthProperties, {
  ...STRICT,
  description:
    "Git credentials: HTTPS basic auth (username/password), a token (pat or envSecret), or an SSH key (ssh, sshKeyFile, sshKnownHosts). Secrets reach git only through its environment, never its command line, files or logs. At the top level they apply to every target; a target's own gitAuth replaces them for that target (not in FetchIt). Default: none (anonymous; credentials in an https url are used and kept out of git's command line).",
});

/** `verifyCommitsInfo` of a target: offline signature verification of every new commit. */
export const VerifyCommitsInfoSchema = Type.Object(
  {
    gitsignVerify: bool(
      "FetchIt's gitsign (Sigstore) verification against Rekor. Not supported: it needs the network and fetchit verifies offline. true without gpgKeyring or sshAllowedSigners: the target does not run (unverified content is never applied); with them: gitsign signatures are not accepted, GPG/SSH ones are. Default: false. FetchIt's example spells it \"GitsignVerify\"; keys are matched case-insensitively.",
    ),
    gitsignRekorURL: Type.Optional(
      Type.String({ default: "https://rekor.sigstore.dev", description: "FetchIt's Rekor transparency log for gitsign. Accepted for compatibility and unused (gitsign is not supported). Default: https://rekor.sigstore.dev." }),
    ),
    gpgKeyring: str(
      "Host path (a relative path is resolved against the directory fetchit started in) of a file with the OpenPGP public keys (armored or binary: gpg --export --armor KEYID > FILE) whose signatures are trusted. Every commit between the last applied one and the new head (the head alone on a first apply) must carry a good signature by one of them (git verify-commit, in a private GNUPGHOME; the host's keyrings are never used), or nothing is applied and the error names the commit and signer. Works offline. Default: none. Not in FetchIt.",
    ),
    sshAllowedSigners: str(
      "Host path (a relative path is resolved against the directory fetchit started in) of an SSH allowed signers file (git's gpg.ssh.allowedSignersFile: \"principal key-type key\" per line) whose keys are trusted; same rule as gpgKeyring, and both may be set (a commit signed by either is accepted). Needs ssh-keygen on the host. Works offline. Default: none. Not in FetchIt.",
    ),
  },
  { ...STRICT, description: "Commit signature verification for this target (gpgKeyring, sshAllowedSigners); every method of the target is guarded. Default: none (no verification)." },
);

/** One `targetConfigs[]` entry: a git repository (or disconnected source) and its methods. */
export const TargetConfigSchema = Type.Object(
  {
    name: str("Label of the target, used in logs and state. Default: the repository name from url plus \"@\" and the branch (e.g. \"fetchit@main\"). Must be unique among targets; FetchIt parsed but never used it."),
    url: str(
      "Git repository URL (https, ssh or file), the path of a local repository (a relative one is resolved against the directory fetchit started in), or an OCI artifact: oci://REGISTRY/REPO:TAG or oci://REGISTRY/REPO@sha256:DIGEST (the tree is the artifact's tar layer, or one file per layer named by org.opencontainers.image.title; see docs/oci.md). For a disconnected target: where the source is: an http(s) URL, a file:// URL or a host path (e.g. on removable media under /run/media; without device, a relative path is resolved against the directory fetchit started in), or with device a path relative to the device's mount point; the source is a git bundle, a zip or tar(.gz) of a repository (with .git) or of a plain file tree, or a directory. Required unless the target is disconnected and reads a device.",
    ),
    branch: str("Branch to follow. Required (FetchIt has no default and fails on every run without it); disconnected and oci:// targets may omit it (an oci:// url names its tag)."),
    device: str(
      "Block device (e.g. /dev/sda1, /dev/disk/by-label/REPO) of a disconnected target; its mount point is read from /proc/mounts (fetchit never mounts it: fstab, a systemd .mount unit or udisks do) and is the repository directory, or holds the url path. While it is not mounted the target waits and keeps what it applied. Ignored unless disconnected is true. Default: none.",
    ),
    disconnected: bool(
      "true: no git network access; import the source at url or device (FetchIt's disconnected mode, without helper containers). New content is detected by its hash (conditional GET, size/mtime then sha256) and applied like a new commit: changed and deleted files are handled as for a git remote. Archive entries that would escape the extraction directory refuse the archive. Default: false.",
    ),
    maxExtractedSize: Type.Optional(
      Type.String({
        pattern: "^\\s*\\d+(\\.\\d+)?\\s*[KMGTkmgt]?(i?[Bb])?\\s*$",
        description:
          "Disconnected targets: the most a zip, tar or tar.gz source may expand to, e.g. \"8G\", \"500M\" or a number of bytes; counted as bytes are written (sizes in archive headers are never trusted), and the archive is refused whole, naming the entry, when it goes past. Default: the free space of the state directory's file system, less a margin.",
      }),
    ),
    maxCompressionRatio: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Disconnected targets: the most one archive entry (or a whole tar.gz) may expand over its compressed size, as N for N:1; checked on the declared sizes before anything is written and again while inflating. Entries that expand to 1 MiB or less are never refused for their ratio. Default: 200.",
      }),
    ),
    verifyCommitsInfo: Type.Optional(VerifyCommitsInfoSchema),
    tlsVerify: Type.Optional(
      Type.Boolean({
        description:
          "oci:// targets only. false: accept any certificate from the registry and plain HTTP (a lab registry; Podman's --tls-verify=false). CA certificates for a private registry go in /etc/containers/certs.d/HOST[:PORT]/*.crt instead. Default: true. Not in FetchIt.",
      }),
    ),
    verifyOciSignature: str(
      "oci:// targets only. Absolute host path of a PEM public key (ECDSA P-256 or Ed25519): every artifact digest must carry a cosign-style simple-signing signature by this key under the tag sha256-<hex>.sig (fetchit push --sign, or cosign sign --key), checked offline before anything is applied; an unsigned or wrongly signed artifact blocks the target. Default: none (no verification). Not in FetchIt.",
    ),
    gitAuth: Type.Optional(GitAuthSchema),
    rollout: Type.Optional(RolloutSchema),
    raw: Type.Optional(methodListSchema("raw", RawMethodSchema)),
    kube: Type.Optional(methodListSchema("kube", KubeMethodSchema)),
    systemd: Type.Optional(methodListSchema("systemd", SystemdMethodSchema)),
    filetransfer: Type.Optional(methodListSchema("filetransfer", FileTransferMethodSchema)),
    ansible: Type.Optional(methodListSchema("ansible", AnsibleMethodSchema)),
    quadlet: Type.Optional(methodListSchema("quadlet", QuadletMethodSchema)),
  },
  { ...STRICT, description: "A git repository (or disconnected source) and the methods that apply its files." },
);

/** Top-level `configReload`: re-download the config and restart with it. */
export const ConfigReloadSchema = Type.Object(
  {
    configURL: str("URL the config is downloaded from on each schedule; a changed config replaces the current one. Default: $FETCHIT_CONFIG_URL. FetchIt docs spell it \"configUrl\"; keys are matched case-insensitively."),
    device: str("Block device (e.g. /dev/sdb1 or /dev/disk/by-label/FLEET) whose mounted file system holds the config: on each schedule, while the device is mounted (fetchit never mounts it: fstab, a systemd .mount unit or udisks do), the file at configPath under its mount point (read from /proc/mounts) is the candidate config, as in FetchIt's USB reload. While it is not mounted the running config stays. Needs configPath and schedule; not with configURL or target. Default: none."),
    configPath: str("Path of the config file on device, relative to its mount point (a leading / is ignored, as FetchIt read /mnt/<configPath>). Required with device. Default: none."),
    target: str("Name of a targetConfigs entry whose repository holds the config (read from its branch head), instead of configURL. Needs path. The target may have no methods. Default: none. Not in FetchIt."),
    path: str("File in the repository of target that holds the config, e.g. fetchit/config.yaml. Default: none. Not in FetchIt."),
    watch: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          "true: reload when the local config file changes (checked with one stat a second; a change is read once the file held still). Applies even without configURL or target. Default: true. Not in FetchIt.",
      }),
    ),
    schedule: Type.Optional(scheduleSchema("the config check", false)),
    skew: Type.Optional(skewSchema("config check")),
    ...gitAuthProperties,
  },
  {
    ...STRICT,
    description:
      "Periodically re-reads the config from configURL (else $FETCHIT_CONFIG_URL), from configPath on a mounted device, or from path in a git target; a valid, changed config replaces the local file (the previous one kept as <file>.bak) and is swapped in: methods whose definition did not change keep their schedule and state and do not run again; changed ones re-apply, removed ones stop, new ones start. An invalid config, an unreachable source or an answer other than HTTP 200 leaves the running config in place and is logged (FetchIt wrote error pages as the config and restarted every method). URL downloads authenticate with the top-level gitAuth (pat: \"Authorization: token <pat>\"; username and password: basic auth). SIGHUP and edits of the local file (see watch) reload the same way. The gitAuth keys are accepted here for FetchIt compatibility (FetchIt parsed them but used the top-level gitAuth).",
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
    root: bool("true: enable and start the system podman-auto-update.timer (systemctl enable --now). Default: false."),
    user: bool("true: enable and start the podman-auto-update.timer of the user fetchit runs as (systemctl --user). Default: false."),
    schedule: str(
      "When the timer fires, as a systemd OnCalendar= expression (e.g. \"Sun *-*-* 03:00\", \"daily\"; check it with systemd-analyze calendar), written as the drop-in podman-auto-update.timer.d/fetchit-schedule.conf so operators can set a maintenance window; removing the key removes the drop-in. Default: none (Podman's timer default, daily). Not in FetchIt (which left the schedule to a hand-made drop-in).",
    ),
  },
  {
    ...STRICT,
    description:
      "Enables Podman's own auto-update timer (podman-auto-update.timer) for root and/or the user fetchit runs as, with systemctl on the host; checked at start and every hour, and changed only when it is not enabled and active (idempotent). Default: none.",
  },
);

/** One top-level `images[]` entry: an image archive loaded into Podman. */
export const ImageConfigSchema = Type.Object(
  {
    name: str("Label of the image loader, used in logs, state and sync --method images/<name>. Default: the file name of url or imagePath. Must be unique among images."),
    url: str("HTTP(S) URL of an image archive (podman save: docker-archive or oci-archive, optionally gzip-compressed). Checked with a conditional GET (ETag/Last-Modified) on every run and loaded again when it changed; while the URL is unreachable or answers 404 the loaded image stays. Takes precedence over imagePath. Default: none."),
    imagePath: str("Host path of an image archive (same formats as url), e.g. on mounted removable media; loaded again when its content changes (size, mtime, then sha256); while it is absent the loaded image stays. A relative path is resolved against the mount point of device, without device against the directory fetchit started in. Default: none."),
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
    host: Type.Optional(HostSchema),
    notify: Type.Optional(NotifyListSchema),
    listen: Type.Optional(ListenSchema),
    pruneRemovedMethods: Type.Optional(
      Type.Boolean({
        description:
          "true: when a method (or a whole target) disappears from the config, remove what it deployed (containers, files) at the next start. false: leave it in place and say so in the log. Default: false. Not in FetchIt (its issue #252).",
      }),
    ),
    health: Type.Optional(HealthSchema),
    rollout: Type.Optional(RolloutSchema),
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
