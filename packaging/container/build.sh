#!/bin/bash
# Builds fetchit's container image for amd64 and arm64 from dist/ (the
# compiled binaries: bun build.ts linux-x64 linux-arm64) and joins them in a
# manifest list (an OCI index): build.sh [IMAGE]  (default localhost/fetchit:latest)
#   BASE        base image for both architectures (default: UBI 9 minimal + git, see Containerfile)
#   BASE_AMD64, BASE_ARM64  a base per architecture (win over BASE)
#   ARCHES      "amd64 arm64" (default) or one of them
# Without a BASE for a foreign architecture, its RUN step needs emulation
# (qemu-user-static with binfmt); with one, the build only copies files.
set -euo pipefail
image=${1:-localhost/fetchit:latest}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Containerfile" "$here/entrypoint.sh" "$ctx/"
podman manifest rm "$image" >/dev/null 2>&1 || true
podman manifest create "$image" >/dev/null
for arch in ${ARCHES:-amd64 arm64}; do
  case $arch in amd64) bin=x64 ;; arm64) bin=arm64 ;; *) echo "build.sh: unknown arch $arch" >&2; exit 2 ;; esac
  [ -x "$root/dist/fetchit-linux-$bin" ] || { echo "build.sh: $root/dist/fetchit-linux-$bin is missing; run: bun build.ts linux-$bin" >&2; exit 1; }
  ln "$root/dist/fetchit-linux-$bin" "$ctx/fetchit-linux-$arch" 2>/dev/null || cp "$root/dist/fetchit-linux-$bin" "$ctx/fetchit-linux-$arch"
  var=BASE_${arch^^}
  base=${!var:-${BASE:-}}
  podman build --platform "linux/$arch" ${base:+--build-arg "BASE=$base"} -t "$image-$arch" -f "$ctx/Containerfile" "$ctx" >&2
  podman manifest add "$image" "containers-storage:$image-$arch" >/dev/null
done
echo "$image"
