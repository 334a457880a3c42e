# testbed-lib.sh - what the container testbeds (podman5-testbed.sh,
# systemd-testbed.sh) share: building their image once from a cached
# debootstrap tarball, and small container helpers. Sourced, not run.
# Expects from the including script: IMAGE, CACHE, LABEL, SUITE,
# IMPORT_CHANGES (podman import --change args), PACKAGES, MIRROR,
# configure_rootfs, recipe_key, and log/die/pm; for wait_systemd_ready
# (systemd testbeds) also TIMEOUT and TUID.

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return
  command -v apt-get >/dev/null || die "debootstrap is missing and there is no apt-get to install it"
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q --no-install-recommends debootstrap ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends debootstrap; }; } >"$CACHE/apt.log" 2>&1 ||
    { tail -20 "$CACHE/apt.log" >&2; die "could not install debootstrap (log: $CACHE/apt.log)"; }
}

image_current() { # $1=key
  [ "$(pm image inspect --format "{{index .Labels \"$LABEL.key\"}}" "$IMAGE" 2>/dev/null)" = "$1" ]
}

build() { # $1=force
  mkdir -p "$CACHE"
  local key; key=$(recipe_key)
  image_current "$key" && [ "${1:-}" != force ] && return 0
  ( # one builder at a time: parallel test processes share the cache and the image
    flock 9
    image_current "$key" && [ "${1:-}" != force ] && exit 0
    local tarball="$CACHE/rootfs-$SUITE-$key.tar"
    [ "${1:-}" = force ] && rm -f "$tarball"
    [ -s "$tarball" ] || make_tarball "$tarball"
    # older recipes' tarballs
    find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' ! -name "${tarball##*/}" -delete
    log "importing $IMAGE"
    local old new
    old=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    pm import -q "${IMPORT_CHANGES[@]}" --change "LABEL $LABEL.key=$key" "$tarball" "$IMAGE" >/dev/null
    new=$(pm image inspect --format '{{.Id}}' "$IMAGE")
    [ -z "$old" ] || [ "$old" = "$new" ] || pm rmi "$old" >/dev/null 2>&1 || true # superseded, if unused
  ) 9>"$CACHE/.lock" >&2
}

limit() { # $1=ulimit letter, $2=cap: "N:N" with N = min(hard limit, cap)
  local n; n=$(ulimit -H"$1")
  [ "$n" = unlimited ] || [ "$n" -gt "$2" ] && n=$2
  echo "$n:$n"
}

running() { [ "$(pm container inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

wait_systemd_ready() { # $1=name: systemd inside is running (or degraded) and user@TUID is active
  local name=$1 deadline=$((SECONDS + TIMEOUT)) state=""
  # A systemctl call right after `podman run` fails (no bus yet): poll.
  while :; do
    running "$name" || { pm logs "$name" >&2 || true; die "container $name exited during boot"; }
    state=$(pm exec "$name" systemctl is-system-running 2>/dev/null || true)
    case $state in
      running | degraded) break ;;
      maintenance | stopping) die "systemd in $name is $state" ;;
    esac
    [ $SECONDS -lt $deadline ] || { pm exec "$name" systemctl --failed --no-pager >&2 || true; die "timeout: $name is '$state' after ${TIMEOUT}s"; }
    sleep 0.2
  done
  if [ "$state" = degraded ]; then
    log "warning: $name is degraded:"
    pm exec "$name" systemctl --failed --no-pager --plain >&2 || true
  fi
  # logind starts the lingering user's manager just after boot.
  until [ "$(pm exec "$name" systemctl is-active "user@$TUID.service" 2>/dev/null)" = active ]; do
    [ $SECONDS -lt $deadline ] || die "timeout: user@$TUID.service not active in $name"
    sleep 0.2
  done
}

make_tarball() { # $1=output
  [ "$(id -u)" = 0 ] || die "building the rootfs needs root (debootstrap)"
  ensure_debootstrap
  local root="$CACHE/rootfs.$$"
  rm -rf "$root"
  trap "rm -rf '$root' '$1.tmp'" EXIT
  log "debootstrap $SUITE ($PACKAGES), about a minute"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  configure_rootfs "$root"
  # Empty machine-id: systemd makes a fresh transient one per container.
  : >"$root/etc/machine-id"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  tar --numeric-owner --xattrs -C "$root" -cf "$1.tmp" .
  mv "$1.tmp" "$1"
  rm -rf "$root"
  trap - EXIT
}

# ---- recipe helpers: part of every testbed's recipe (see recipe_functions) ---

add_lingering_user() { # $1=rootfs: $TUSER (uid $TUID), whose user manager logind starts at boot (as after `loginctl enable-linger`)
  chroot "$1" useradd -m -u "$TUID" -s /bin/bash "$TUSER"
  mkdir -p "$1/var/lib/systemd/linger"
  touch "$1/var/lib/systemd/linger/$TUSER"
}

mask_idle_units() { # $1=rootfs, rest: more units. No periodic job may fire during a test; no getty in a container.
  local root=$1; shift
  chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer getty@tty1.service "$@" >/dev/null 2>&1
}

write_image_script() { # $1=path of the script to write inside the rootfs
  # `testbed-image REF`: the busybox test image (all applets, /www/index.html),
  # laid out as buildImage() in test/support/podman.ts does it for the Podman 4
  # store, imported as REF into the caller's store; no-op if present.
  cat >"$1" <<'SCRIPT'
#!/bin/sh
set -e
ref=$1
podman image exists "$ref" && exit 0
d=$(mktemp -d)
mkdir -p "$d/bin" "$d/tmp" "$d/etc" "$d/var/www" "$d/www" "$d/root"
cp /bin/busybox "$d/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
chmod 1777 "$d/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
echo 'root:x:0:' >"$d/etc/group"
echo "hello from busybox" >"$d/www/index.html"
tar -C "$d" -cf "$d.tar" .
podman import -q --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' "$d.tar" "$ref" >/dev/null
rm -rf "$d" "$d.tar"
SCRIPT
  chmod 755 "$1"
}

recipe_functions() { # the bodies of the shared functions that shape an image, for recipe_key
  declare -f make_tarball add_lingering_user mask_idle_units write_image_script
}
