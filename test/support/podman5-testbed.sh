#!/usr/bin/env bash
# podman5-testbed.sh - a Podman 5 API service for fetchit's tests, on hosts
# whose own podman is older (Debian 12 ships 4.3).
#
# Usage:
#   podman5-testbed.sh build
#       Build the image localhost/fetchit-podman5-testbed:latest unless it is
#       current: a Debian trixie rootfs (debootstrap; installed with apt-get if
#       missing) with podman 5, runc, conmon, netavark, aardvark-dns, nftables,
#       catatonit and busybox-static. The rootfs tarball is cached as
#       $P5TB_CACHE/rootfs-<key>.tar, <key> being a hash of this recipe.
#   podman5-testbed.sh start NAME [OPTIONS] [-- EXTRA PODMAN RUN ARGS...]
#       Build if needed, start container NAME (privileged; `podman system
#       service` under catatonit, no systemd), wait for the API, import the
#       test image, print the host path of the API socket on stdout.
#       --run-dir DIR            host directory mounted at /run/podman; the
#                                socket is DIR/podman.sock
#                                (default /run/fetchit-podman5-testbed/NAME)
#       --insecure-registry H:P  a plain-HTTP registry (repeatable); written to
#                                the inner registries.conf.d before the
#                                service starts
#       --share PATH             bind-mount host PATH at the same path inside
#                                (repeatable), so host paths in bind mounts of
#                                inner containers resolve
#       --image REF              name of the busybox test image imported
#                                inside (default
#                                localhost/fetchit-test/busybox:latest)
#   podman5-testbed.sh stop NAME       remove the container (no error if absent)
#   podman5-testbed.sh ip NAME         the container's IP: ports published by
#                                      inner containers on 127.0.0.1 or on all
#                                      addresses are reachable from the host
#                                      at this address
#   podman5-testbed.sh gateway         the host's address on the network the
#                                      testbed is on (bind test services there
#                                      to reach them from inside)
#   podman5-testbed.sh clean           remove all testbed containers, the
#                                      image and the cache
#   podman5-testbed.sh rebuild         build afresh (new debootstrap)
#   podman5-testbed.sh key             the recipe hash the image is keyed by
#
#   S=$(test/support/podman5-testbed.sh start p5-$$)
#   podman --url "unix://$S" ps              # the host's podman 4 as a remote client
#   curl --unix-socket "$S" http://d/v5.0.0/libpod/version
#   test/support/podman5-testbed.sh stop p5-$$
#
# Inside: the store is overlay on a tmpfs (fresh per container), cgroupfs
# manager, runc (crun rejects cgroup v1 hybrid hosts), file events logger,
# default network "fetchit-test" (10.90.0.0/24, not the host's 10.88/16; no
# DNS), no registry but the insecure ones given. The testbed maps TCP/UDP
# arriving on its eth0 address onto its loopback (nftables, in its own network
# namespace), so a port an inner container publishes on 127.0.0.1 is reachable
# from the host at `ip NAME` as it would be at 127.0.0.1 on a real host.
#
# Environment: PODMAN (podman command, default podman), P5TB_CACHE (default
# /var/cache/fetchit-podman5-testbed), P5TB_MIRROR (default
# http://deb.debian.org/debian), P5TB_TIMEOUT (seconds for the API, default 30),
# P5TB_NETWORK (the host's podman network the testbeds join, default podman).
# Needs root. Host side: podman >= 4 with runc, on cgroup v1 or v2.
set -euo pipefail

read -r -a PODMAN_CMD <<<"${PODMAN:-podman}"
IMAGE=localhost/fetchit-podman5-testbed:latest
CACHE=${P5TB_CACHE:-/var/cache/fetchit-podman5-testbed}
MIRROR=${P5TB_MIRROR:-http://deb.debian.org/debian}
TIMEOUT=${P5TB_TIMEOUT:-30}
SUITE=trixie
LABEL=io.fetchit.podman5-testbed
PACKAGES=podman,runc,conmon,netavark,aardvark-dns,nftables,catatonit,busybox-static,iproute2,ca-certificates
TEST_IMAGE=localhost/fetchit-test/busybox:latest
NETWORK=${P5TB_NETWORK:-podman}

log() { echo "podman5-testbed: $*" >&2; }
die() { log "error: $*"; exit 1; }
pm() { "${PODMAN_CMD[@]}" "$@"; }

# ---- the recipe: everything below up to `recipe_key` shapes the image ------

configure_rootfs() { # $1=rootfs
  local root=$1
  mkdir -p "$root/etc/containers/containers.conf.d" "$root/etc/containers/registries.conf.d"
  cat >"$root/etc/containers/containers.conf.d/50-testbed.conf" <<'EOF'
[containers]
# The host may lack CAP_SYS_RESOURCE: podman's default rlimits cannot be raised.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
# crun fails on cgroup v1 hybrid hosts ("cgroups in hybrid mode not supported").
runtime = "runc"
# No systemd and no journald in the testbed.
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
# Same name as the Podman 4 test store's network (test/support/podman.ts).
default_network = "fetchit-test"
# The testbed's own eth0 is in the host's 10.88.0.0/16; the inner bridge must
# not use the same range, or replies to the host get lost.
default_subnet = "10.90.0.0/24"
EOF
  # No search registries (as in the Podman 4 test store); insecure test
  # registries come per container in registries.conf.d.
  printf 'unqualified-search-registries = []\n' >"$root/etc/containers/registries.conf"
  cat >"$root/usr/local/sbin/testbed-service" <<'EOF'
#!/bin/sh
# PID 2 of the testbed (catatonit is PID 1 and reaps conmon's orphans).
set -e
# Ports published on 127.0.0.1 inside are reachable from the host at this
# container's address: TCP/UDP arriving on eth0 for that address gets
# 127.0.0.1 as destination after conntrack and before netavark's port DNAT
# (priority -150), so netavark's 127.0.0.1 rules forward it; replies are
# un-NATed from conntrack's original tuple, so the host sees this address.
# What no DNAT rule took gets its address back (priority -50) and is refused
# by the kernel as usual.
set -- $(ip -4 -br addr show dev eth0)
addr=${3%/*}
nft -f - <<NFT
table ip fetchit_testbed {
  chain to_loopback {
    type filter hook prerouting priority -150; policy accept;
    iifname "eth0" ip daddr $addr meta l4proto { tcp, udp } ip daddr set 127.0.0.1
  }
  chain not_published {
    type filter hook prerouting priority -50; policy accept;
    iifname "eth0" ip daddr 127.0.0.1 ip daddr set $addr
  }
}
NFT
exec podman system service --time=0 unix:///run/podman/podman.sock
EOF
  write_image_script "$root/usr/local/sbin/testbed-image"
  chmod 755 "$root/usr/local/sbin/testbed-service"
}

IMPORT_CHANGES=(--change 'ENV PODMAN_IGNORE_CGROUPSV1_WARNING=1'
  --change 'CMD ["/usr/bin/catatonit", "--", "/usr/local/sbin/testbed-service"]')

recipe_key() { # a hash over everything that shapes the image
  { declare -f configure_rootfs; recipe_functions; printf '%s|' "$SUITE" "$MIRROR" "$PACKAGES" "${IMPORT_CHANGES[@]}"; } |
    sha256sum | cut -c1-16
}

# shellcheck source=testbed-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-lib.sh"

# ---- build ------------------------------------------------------------------

# ---- containers ---------------------------------------------------------------

api_up() { # $1=socket
  [ -S "$1" ] || return 1
  if command -v curl >/dev/null; then
    [ "$(curl -s -m 5 --unix-socket "$1" http://d/v5.0.0/libpod/_ping 2>/dev/null)" = OK ]
  fi
}

start() { # $1=name, rest: options
  local name=$1 rundir="" image_ref=$TEST_IMAGE; shift
  local -a registries=() shares=() extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --run-dir) rundir=$2; shift 2 ;;
      --insecure-registry) registries+=("$2"); shift 2 ;;
      --share) shares+=("$2"); shift 2 ;;
      --image) image_ref=$2; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown option $1" ;;
    esac
  done
  rundir=${rundir:-/run/fetchit-podman5-testbed/$name}
  build
  mkdir -p "$rundir"
  local sock=$rundir/podman.sock
  if running "$name"; then
    log "reusing running container $name"
  else
    pm rm -f -t 0 "$name" >/dev/null 2>&1 || true
    rm -f "$sock"
    # Per-container registry config, in place before the service starts.
    local conf=$rundir/registries.conf
    : >"$conf"
    for r in "${registries[@]}"; do printf '[[registry]]\nlocation = "%s"\ninsecure = true\n\n' "$r" >>"$conf"; done
    local -a mounts=(-v "$rundir:/run/podman" -v "$conf:/etc/containers/registries.conf.d/50-testbed.conf:ro")
    for s in "${shares[@]}"; do mounts+=(-v "$s:$s"); done
    # --privileged: podman inside needs mounts, netavark and writable cgroups.
    # Explicit rlimits: podman's defaults (nofile 1048576) may be above what
    # this process is allowed (runc: "error setting rlimit type 7").
    # A private cgroup namespace, so that runc inside sees its cgroups at "/".
    pm run -d --name "$name" --hostname "$name" --label "$LABEL=1" --network "$NETWORK" \
      --privileged --cgroupns=private --ulimit "nofile=$(limit n 65536)" --ulimit "nproc=$(limit u 32768)" \
      --tmpfs /run:rw,exec,nosuid,nodev --tmpfs /tmp:rw,exec,nosuid,nodev \
      --tmpfs /var/lib/containers:rw,exec,suid,dev \
      "${mounts[@]}" "${extra[@]}" "$IMAGE" >/dev/null
  fi
  local deadline=$((SECONDS + TIMEOUT))
  until api_up "$sock"; do
    running "$name" || { pm logs "$name" >&2 || true; die "container $name exited"; }
    [ $SECONDS -lt $deadline ] || { pm logs "$name" >&2 || true; die "no API on $sock after ${TIMEOUT}s"; }
    sleep 0.1
  done
  pm exec "$name" testbed-image "$image_ref" || die "could not import $image_ref into $name"
  echo "$sock"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  build) build ;;
  rebuild) build force ;;
  start) [ $# -gt 0 ] || die "usage: $0 start NAME [OPTIONS]"; start "$@" ;;
  stop)
    [ $# -gt 0 ] || die "usage: $0 stop NAME"
    pm rm -f -t 0 "$1" >/dev/null 2>&1 || true
    rm -rf "/run/fetchit-podman5-testbed/$1"
    ;;
  ip) pm container inspect --format '{{.NetworkSettings.IPAddress}}' "${1:?usage: $0 ip NAME}" ;;
  gateway) pm network inspect "$NETWORK" --format '{{range .Subnets}}{{.Gateway}}{{end}}' ;;
  key) recipe_key ;;
  clean)
    ids=$(pm ps -aq --filter "label=$LABEL=1")
    [ -z "$ids" ] || pm rm -f -t 0 $ids >/dev/null
    pm rmi -f "$IMAGE" >/dev/null 2>&1 || true
    rm -rf "$CACHE" /run/fetchit-podman5-testbed
    ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; [ "$cmd" = help ] || [ "$cmd" = -h ] || [ "$cmd" = --help ] ;;
esac
