/**
 * A local image with a real ansible-playbook, for the container-mode tests
 * (no image can be pulled here): a rootfs made of the host's own Debian files
 * — python3.11 and its standard library, ansible-core and the Python packages
 * it depends on (from `dpkg -L`), the C.UTF-8 locale, the shared libraries they link (from
 * `ldd`), and the static busybox for /bin/sh and the shell tools ansible's
 * local connection uses, and the OpenSSH client for the ssh-to-host mode —
 * imported with `podman import`. The tarball is cached under /var/cache per
 * ansible-core version and recipe; the import is per test store.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "../support/exec.ts";
import type { TestPodman } from "../support/podman.ts";

export const ANSIBLE_TEST_IMAGE = "localhost/fetchit-test/ansible:latest";
const CACHE = process.env.FETCHIT_ANSIBLE_IMAGE_CACHE ?? "/var/cache/fetchit-ansible-test-image";
/** ansible-core and the Python packages it needs at run time (python3-cffi-backend through cryptography). */
const PACKAGES = [
  "ansible-core", "python3-cffi-backend", "python3-cryptography", "python3-jinja2", "python3-markupsafe",
  "python3-packaging", "python3-pyparsing", "python3-resolvelib", "python3-yaml",
];

const SCRIPT = String.raw`
set -euo pipefail
root=$1; out=$2; shift 2
case $root in /*/build.*) ;; *) echo "bad build dir: $root" >&2; exit 2 ;; esac
[ -s "$out" ] && exit 0 # built by another test process meanwhile
rm -rf "$root"; mkdir -p "$root"/bin "$root"/tmp "$root"/root "$root"/etc "$root"/opt
chmod 1777 "$root/tmp"
# python3.11, its standard library, and the files of ansible-core and its Python dependencies
{ echo /usr/bin/python3; echo /usr/bin/python3.11; printf '%s\n' /usr/bin/ssh /usr/bin/scp /usr/bin/sftp; find /usr/lib/python3.11 -not -type d -not -path '*/__pycache__/*';
  find /usr/lib/locale/C.utf8 -not -type d; # ansible refuses to start without a UTF-8 locale
  find /usr/lib/*/ossl-modules /etc/ssl/openssl.cnf /usr/lib/ssl -not -type d; # OpenSSL providers cryptography loads
  for p in "$@"; do dpkg -L "$p"; done | grep -E '^/usr/(lib/python3/dist-packages/|bin/ansible)' | while read -r f; do [ -d "$f" ] && [ ! -L "$f" ] || echo "$f"; done
} | sort -u > "$root.files"
tar --no-recursion -cf - -T "$root.files" | tar -C "$root" -xf -
# every shared library those binaries and extension modules link, with the loader
{ printf '%s\n' /usr/bin/python3.11 /usr/bin/ssh /usr/bin/scp /usr/bin/sftp; find "$root" -name '*.so*' -type f; } | while read -r f; do ldd "$f" 2>/dev/null || true; done |
  grep -oE '/[^ ]+\.so[^ ]*' | sort -u > "$root.libs"
tar -h --no-recursion -cf - -T "$root.libs" 2>/dev/null | tar -C "$root" -xf -
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
tar -C "$root" -cf "$out.tmp" . && mv "$out.tmp" "$out"
rm -rf "$root" "$root.files" "$root.libs"
find "$(dirname "$out")" -maxdepth 1 -name 'rootfs-*.tar' ! -name "$(basename "$out")" -delete # older recipes
`;

/** Builds (once per ansible-core version) the rootfs tarball; returns its path. */
async function tarball(): Promise<string> {
  if (!Bun.which("ansible-playbook") || !existsSync("/bin/busybox")) {
    throw new Error("ansible-core or busybox-static is missing: run `bash test/support/prepare.sh`");
  }
  const version = (await runOk(["dpkg-query", "-W", "-f=${Version}", "ansible-core"])).trim();
  const recipe = new Bun.CryptoHasher("sha256").update(SCRIPT + PACKAGES.join(" ")).digest("hex").slice(0, 12);
  const out = join(CACHE, `rootfs-${version}-${recipe}.tar`);
  if (existsSync(out)) return out;
  mkdirSync(CACHE, { recursive: true });
  const r = await run(["flock", join(CACHE, ".lock"), "bash", "-c", SCRIPT, "build-rootfs", join(CACHE, `build.${process.pid}`), out, ...PACKAGES]);
  if (r.code !== 0) throw new Error(`building the ansible test image rootfs failed (${r.code}): ${r.stderr.trim()}`);
  return out;
}

/** Imports the ansible image into the test store (once per store). */
export async function ensureAnsibleImage(podman: TestPodman): Promise<string> {
  const exists = await podman.cli(["image", "exists", ANSIBLE_TEST_IMAGE]).then(() => true, () => false);
  if (!exists) {
    await podman.cli([
      "import", "--change", "ENV PATH=/usr/bin:/bin", "--change", "ENV LANG=C.UTF-8", "--change", 'CMD ["/bin/sh"]',
      await tarball(), ANSIBLE_TEST_IMAGE,
    ]);
  }
  return ANSIBLE_TEST_IMAGE;
}
