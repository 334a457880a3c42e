#!/usr/bin/env bash
# Installs what the integration tests need (Debian/Ubuntu, apt): a real
# Podman with runc, a static busybox for the test image, Debian's
# docker-registry for pull tests, git, and catatonit (pod infra image); for
# the packaging tests rpm (rpmbuild), rpmlint, qemu-user-static with an
# aarch64 glibc, systemd-analyze, and debootstrap, rpm2cpio and cpio.
# Idempotent and quiet when everything is there. As non-root it only says
# what is missing and fails.
set -euo pipefail

# "package:check" — check is a command name, an absolute path, or
# "static-busybox" (a busybox binary that needs no shared libraries).
needs=(
  "podman:podman"
  "netavark:/usr/lib/podman/netavark"
  "runc:runc"
  "conmon:conmon"
  "busybox-static:static-busybox"
  "docker-registry:/usr/bin/docker-registry"
  "iptables:iptables"
  "catatonit:/usr/bin/catatonit"
  "git:git"
  "python3:python3"
  "tar:tar"
  # test/git/disconnected*, verify: zip archives of repositories, GPG-signed commits
  # (ssh-keygen for SSH signatures comes with openssh-client below).
  "zip:zip"
  # test/git/disconnected-fetchit-archives: listing FetchIt-style zips; test/oci: a private CA and TLS registry.
  "unzip:unzip"
  "openssl:openssl"
  "gnupg:gpg"
  # test/packaging: rpmbuild and rpmlint for the RPMs, qemu and an aarch64
  # glibc to run the arm64 binary, systemd-analyze to check the units.
  "rpm:rpmbuild"
  "rpmlint:rpmlint"
  "qemu-user-static:qemu-aarch64-static"
  "libc6-arm64-cross:/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"
  "systemd:systemd-analyze"
  # The systemd testbed's rootfs (systemd-testbed.sh) and the RPM's files
  # unpacked for it (test/packaging/units.test.ts).
  "debootstrap:debootstrap"
  "rpm2cpio:rpm2cpio"
  "cpio:cpio"
  # test/git/auth-ssh: a real sshd on a loopback port (test/support/sshd.ts).
  "openssh-server:/usr/sbin/sshd"
  "openssh-client:ssh-keygen"
  # test/ansible, test/integration/ansible: Debian's ansible-playbook (host mode,
  # and copied with its Python into the container-mode test image).
  "ansible-core:ansible-playbook"
)

present() {
  local check=$1
  case "$check" in
    static-busybox)
      [ -x /bin/busybox ] && ! LC_ALL=C grep -qa /lib64/ld-linux <(head -c 4096 /bin/busybox) ;;
    /*) [ -x "$check" ] ;;
    *) command -v "$check" >/dev/null 2>&1 || [ -x "/usr/sbin/$check" ] || [ -x "/sbin/$check" ] ;;
  esac
}

missing=()
for entry in "${needs[@]}"; do
  pkg=${entry%%:*}
  present "${entry#*:}" || missing+=("$pkg")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "prepare.sh: missing for the tests: ${missing[*]}" >&2
  echo "prepare.sh: install as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare.sh: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi

echo "prepare.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -q && apt-get install -y -q --install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "prepare.sh: apt-get failed" >&2
  exit 1
fi
rm -f "$log"
# The package enables a system-wide registry on :5000; the tests start their own.
if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

still=()
for entry in "${needs[@]}"; do
  present "${entry#*:}" || still+=("${entry%%:*}")
done
if [ ${#still[@]} -ne 0 ]; then
  echo "prepare.sh: still missing after install: ${still[*]}" >&2
  exit 1
fi
echo "prepare.sh: installed ${missing[*]}"
