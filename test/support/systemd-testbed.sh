#!/usr/bin/env bash
# systemd-testbed.sh - a real systemd (252, PID 1, system bus, logind, and the
# user manager of a lingering user) in a Podman container, for the packaging
# tests: `fetchit install`, the shipped units, the RPM's files.
#
# Usage:
#   systemd-testbed.sh build
#       Build the image localhost/fetchit-systemd-testbed:latest unless it is
#       current: a Debian bookworm rootfs (debootstrap; installed with apt-get
#       if missing) with systemd, dbus, libpam-systemd, git and procps, a user
#       `tester` (uid 1000) whose user manager starts at boot (linger). The
#       rootfs tarball is cached as $SDTB_CACHE/rootfs-bookworm-<key>.tar,
#       <key> being a hash of this recipe.
#   systemd-testbed.sh start NAME [--share PATH]... [-- EXTRA PODMAN RUN ARGS...]
#       Build if needed, start container NAME unless it runs already, wait
#       until `systemctl is-system-running` says running or degraded and
#       user@1000.service is active, print NAME on stdout (everything else
#       goes to stderr).
#       --share PATH   bind-mount host PATH at the same path inside (repeatable)
#   systemd-testbed.sh stop NAME       remove the container (no error if absent)
#   systemd-testbed.sh clean           remove all testbed containers, the image
#                                      and the cache
#   systemd-testbed.sh rebuild         build afresh (new debootstrap)
#   systemd-testbed.sh key             the recipe hash the image is keyed by
#
#   C=$(test/support/systemd-testbed.sh start sd-$$ -- -v "$PWD/dist:/opt/fetchit:ro")
#   podman cp x.service "$C:/etc/systemd/system/" && podman exec "$C" systemctl daemon-reload
#   podman exec "$C" systemctl enable --now x.service
#   podman exec -u tester -e XDG_RUNTIME_DIR=/run/user/1000 "$C" systemctl --user is-active y
#   podman exec "$C" systemctl --user -M tester@ is-active y       # the same, as root
#   test/support/systemd-testbed.sh stop sd-$$
#
# Runs with `--systemd=always --cap-add SYS_ADMIN` (not privileged): podman
# mounts /run, /tmp and the cgroup hierarchy as systemd wants them, also on
# cgroup v1 hybrid hosts ("System is tainted: cgroupsv1" is harmless).
# SYS_ADMIN lets units use PrivateTmp, ProtectSystem, DynamicUser (without it
# they fail with 226/NAMESPACE). No network by default (SDTB_NETWORK); no
# Podman inside. Harmless journal noise: dbus "Failed to set fd limit"
# (no CAP_SYS_RESOURCE).
#
# Environment: PODMAN (podman command, default podman), SDTB_CACHE (default
# /var/cache/fetchit-systemd-testbed), SDTB_MIRROR (default
# http://deb.debian.org/debian), SDTB_TIMEOUT (seconds to boot, default 60),
# SDTB_NETWORK (podman --network of the testbeds, default none).
# Needs root for the first build (debootstrap). Host: podman >= 4 with runc,
# cgroup v1 (hybrid) or v2.
set -euo pipefail

read -r -a PODMAN_CMD <<<"${PODMAN:-podman}"
IMAGE=localhost/fetchit-systemd-testbed:latest
CACHE=${SDTB_CACHE:-/var/cache/fetchit-systemd-testbed}
MIRROR=${SDTB_MIRROR:-http://deb.debian.org/debian}
TIMEOUT=${SDTB_TIMEOUT:-60}
NETWORK=${SDTB_NETWORK:-none}
SUITE=bookworm
LABEL=io.fetchit.systemd-testbed
PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,procps,git
TUSER=tester
TUID=1000

log() { echo "systemd-testbed: $*" >&2; }
die() { log "error: $*"; exit 1; }
pm() { "${PODMAN_CMD[@]}" "$@"; }

# ---- the recipe: everything below up to `recipe_key` shapes the image ------

configure_rootfs() { # $1=rootfs
  local root=$1
  add_lingering_user "$root"
  mask_idle_units "$root"
  # Short stop timeouts: a unit that hangs on stop fails a test quickly
  # instead of holding `podman rm` for 90 s.
  mkdir -p "$root/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultTimeoutStopSec=20s\n' >"$root/etc/systemd/system.conf.d/50-testbed.conf"
}

IMPORT_CHANGES=(--change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3')

recipe_key() { # a hash over everything that shapes the image
  { declare -f configure_rootfs; recipe_functions; printf '%s|' "$SUITE" "$MIRROR" "$PACKAGES" "$TUSER" "$TUID" "${IMPORT_CHANGES[@]}"; } |
    sha256sum | cut -c1-16
}

# shellcheck source=testbed-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-lib.sh"

# ---- build ------------------------------------------------------------------

# ---- containers ---------------------------------------------------------------

start() { # $1=name, rest: options
  local name=$1; shift
  local -a shares=() extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --share) shares+=("$2"); shift 2 ;;
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
      --systemd=always --cap-add SYS_ADMIN --ulimit "nofile=$(limit n 65536)" --ulimit "nproc=$(limit u 32768)" \
      "${mounts[@]}" "${extra[@]}" "$IMAGE" /sbin/init >/dev/null
  fi
  wait_systemd_ready "$name"
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
  key) recipe_key ;;
  clean)
    ids=$(pm ps -aq --filter "label=$LABEL=1")
    [ -z "$ids" ] || pm rm -f -t 5 $ids >/dev/null
    pm rmi -f "$IMAGE" >/dev/null 2>&1 || true
    rm -rf "$CACHE"
    ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; [ "$cmd" = help ] || [ "$cmd" = -h ] || [ "$cmd" = --help ] ;;
esac
