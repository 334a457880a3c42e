#!/usr/bin/env bash
# quadlet-testbed.sh - a real systemd (257) with Podman 5.4 inside, for the
# quadlet method's tests: the quadlet generator runs at `daemon-reload` and
# the generated units run real containers, as root and as a lingering user.
#
# Usage:
#   quadlet-testbed.sh build
#       Build the image localhost/fetchit-quadlet-testbed:latest unless it is
#       current: a Debian trixie rootfs (debootstrap; installed with apt-get if
#       missing) with systemd, dbus, logind, podman 5 (quadlet in
#       /usr/libexec/podman/quadlet), runc, conmon, netavark, aardvark-dns,
#       nftables, catatonit, uidmap, passt, busybox-static, curl and git, and a
#       user `tester` (uid 1000, lingering). The rootfs tarball is cached as
#       $QTB_CACHE/rootfs-trixie-<key>.tar, <key> being a hash of this recipe.
#   quadlet-testbed.sh start NAME [--share PATH]... [--image REF] [-- EXTRA PODMAN RUN ARGS...]
#       Build if needed, start container NAME unless it runs already, wait
#       until systemd is running and user@1000 is active, import the busybox
#       test image into the inner root store (and tester's rootless store),
#       print NAME on stdout (everything else goes to stderr).
#       --share PATH   bind-mount host PATH at the same path inside (repeatable)
#       --image REF    test image name (default localhost/fetchit-test/busybox:latest);
#                      busybox-static with all applets and /www/index.html
#   quadlet-testbed.sh stop NAME       remove the container (no error if absent)
#   quadlet-testbed.sh ip NAME         the container's IP: ports published by
#                                      inner containers are reachable there
#   quadlet-testbed.sh clean           remove all testbed containers, the image
#                                      and the cache
#   quadlet-testbed.sh rebuild         build afresh (new debootstrap)
#   quadlet-testbed.sh key             the recipe hash the image is keyed by
#
#   C=$(test/support/quadlet-testbed.sh start q-$$)
#   podman cp web.container "$C:/etc/containers/systemd/"
#   podman exec "$C" systemctl daemon-reload && podman exec "$C" systemctl start web.service
#   curl "http://$(test/support/quadlet-testbed.sh ip "$C"):8080/"
#   test/support/quadlet-testbed.sh stop q-$$
#
# Runs --privileged (podman inside needs mounts, netavark, writable cgroups)
# with a private cgroup namespace and --systemd=false: on cgroup v1,
# --systemd=always bind-mounts the host's whole name=systemd hierarchy and runc
# inside then fails ("bind mount source stat ... no such file"); the systemd
# bits (container=podman, tmpfs /run and /tmp, SIGRTMIN+3) are given by hand.
# The inner store is a tmpfs, fresh per container. Inner containers use runc
# (crun refuses cgroup v1 hybrid hosts) and 10.90.0.0/24 (the testbed itself is
# in the host's 10.88/16). Rootless podman (tester) uses vfs and pasta; on a
# cgroup v1 host user quadlets need PodmanArgs=--cgroups=enabled (quadlet's
# --cgroups=split fails rootless on v1). Generated units cannot be enabled
# (`systemctl enable` refuses them): [Install] is read by the generator.
# The testbed can reach host devices and /proc/sys: no destructive commands.
#
# Environment: PODMAN (podman command, default podman), QTB_CACHE (default
# /var/cache/fetchit-quadlet-testbed), QTB_MIRROR (default
# http://deb.debian.org/debian), QTB_TIMEOUT (seconds to boot, default 60),
# QTB_NETWORK (the host's podman network, default podman).
# Needs root. Host: podman >= 4 with runc, cgroup v1 (hybrid) or v2.
set -euo pipefail

read -r -a PODMAN_CMD <<<"${PODMAN:-podman}"
IMAGE=localhost/fetchit-quadlet-testbed:latest
CACHE=${QTB_CACHE:-/var/cache/fetchit-quadlet-testbed}
MIRROR=${QTB_MIRROR:-http://deb.debian.org/debian}
TIMEOUT=${QTB_TIMEOUT:-60}
NETWORK=${QTB_NETWORK:-podman}
SUITE=trixie
LABEL=io.fetchit.quadlet-testbed
PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,procps,git,podman,runc,conmon,netavark,aardvark-dns,catatonit,nftables,uidmap,passt,busybox-static,curl,ca-certificates
TEST_IMAGE=localhost/fetchit-test/busybox:latest
TUSER=tester
TUID=1000

log() { echo "quadlet-testbed: $*" >&2; }
die() { log "error: $*"; exit 1; }
pm() { "${PODMAN_CMD[@]}" "$@"; }

# ---- the recipe: everything below up to `recipe_key` shapes the image ------

configure_rootfs() { # $1=rootfs
  local root=$1
  add_lingering_user "$root"
  # --privileged leaves /proc/sys writable: sysctl.d would change the host's
  # kernel.pid_max/core_pattern; modules cannot be loaded in a container.
  mask_idle_units "$root" systemd-sysctl.service systemd-modules-load.service
  mkdir -p "$root/etc/systemd/system.conf.d" "$root/etc/systemd/user.conf.d" "$root/etc/containers/containers.conf.d"
  # Short stop timeouts; no cgroup v1 deprecation warning in every podman call.
  printf '[Manager]\nDefaultTimeoutStopSec=20s\nDefaultEnvironment=PODMAN_IGNORE_CGROUPSV1_WARNING=1\n' |
    tee "$root/etc/systemd/system.conf.d/50-testbed.conf" >"$root/etc/systemd/user.conf.d/50-testbed.conf"
  cat >"$root/etc/containers/containers.conf.d/50-testbed.conf" <<'EOF'
[containers]
# The host may lack CAP_SYS_RESOURCE: podman's default rlimits cannot be raised.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
# crun fails on cgroup v1 hybrid hosts ("cgroups in hybrid mode not supported").
runtime = "runc"
[network]
# The testbed's own eth0 is in the host's 10.88.0.0/16; the inner bridge must
# not use the same range, or replies to the host get lost.
default_subnet = "10.90.0.0/24"
EOF
  printf 'unqualified-search-registries = []\n' >"$root/etc/containers/registries.conf"
  chroot "$root" systemctl enable podman.socket >/dev/null 2>&1
  # Rootless podman as tester: pasta needs /dev/net/tun (0600 under
  # --privileged); overlay cannot sit on the container's overlay root.
  echo 'z /dev/net/tun 0666 - - -' >"$root/etc/tmpfiles.d/testbed-tun.conf"
  mkdir -p "$root/home/$TUSER/.config/containers"
  printf '[storage]\ndriver = "vfs"\n' >"$root/home/$TUSER/.config/containers/storage.conf"
  chroot "$root" chown -R "$TUSER:" "/home/$TUSER/.config"
  write_image_script "$root/usr/local/bin/testbed-image"
}

IMPORT_CHANGES=(--change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3'
  --change 'ENV PODMAN_IGNORE_CGROUPSV1_WARNING=1')

recipe_key() { # a hash over everything that shapes the image
  { declare -f configure_rootfs; recipe_functions; printf '%s|' "$SUITE" "$MIRROR" "$PACKAGES" "$TUSER" "$TUID" "${IMPORT_CHANGES[@]}"; } |
    sha256sum | cut -c1-16
}

# shellcheck source=testbed-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-lib.sh"

# ---- containers ---------------------------------------------------------------

start() { # $1=name, rest: options
  local name=$1 image_ref=$TEST_IMAGE; shift
  local -a shares=() extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --share) shares+=("$2"); shift 2 ;;
      --image) image_ref=$2; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown option $1" ;;
    esac
  done
  build
  if running "$name"; then
    log "reusing running container $name"
  else
    pm rm -f -t 0 "$name" >/dev/null 2>&1 || true
    local -a mounts=()
    for s in "${shares[@]}"; do mounts+=(-v "$s:$s"); done
    # Explicit rlimits: podman's defaults (nofile 1048576) may be above what
    # this process is allowed (runc: "error setting rlimit type 7").
    pm run -d --name "$name" --hostname "$name" --label "$LABEL=1" --network "$NETWORK" \
      --privileged --cgroupns=private --systemd=false -e container=podman --stop-signal SIGRTMIN+3 \
      --ulimit "nofile=$(limit n 65536)" --ulimit "nproc=$(limit u 32768)" \
      --tmpfs /run:rw,exec,nosuid,nodev --tmpfs /tmp:rw,exec,nosuid,nodev \
      --tmpfs /var/lib/containers:rw,exec,suid,dev \
      "${mounts[@]}" "${extra[@]}" "$IMAGE" /sbin/init >/dev/null
  fi
  wait_systemd_ready "$name"
  pm exec "$name" testbed-image "$image_ref" || die "could not import $image_ref into the root store of $name"
  pm exec -u "$TUSER" -w "/home/$TUSER" -e "XDG_RUNTIME_DIR=/run/user/$TUID" "$name" testbed-image "$image_ref" ||
    die "could not import $image_ref into $TUSER's store in $name"
  echo "$name"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  build) build ;;
  rebuild) build force ;;
  start) [ $# -gt 0 ] || die "usage: $0 start NAME [OPTIONS]"; start "$@" ;;
  stop)
    [ $# -gt 0 ] || die "usage: $0 stop NAME"
    pm rm -f -t 5 "$1" >/dev/null 2>&1 || true
    ;;
  ip) pm container inspect --format '{{.NetworkSettings.IPAddress}}' "${1:?usage: $0 ip NAME}" ;;
  key) recipe_key ;;
  clean)
    ids=$(pm ps -aq --filter "label=$LABEL=1")
    [ -z "$ids" ] || pm rm -f -t 5 $ids >/dev/null
    pm rmi -f "$IMAGE" >/dev/null 2>&1 || true
    rm -rf "$CACHE"
    ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; [ "$cmd" = help ] || [ "$cmd" = -h ] || [ "$cmd" = --help ] ;;
esac
