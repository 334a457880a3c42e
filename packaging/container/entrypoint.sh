#!/bin/sh
# fetchit's container entrypoint, with FetchIt's paths: $FETCHIT_CONFIG (the
# YAML text itself) wins; else /opt/mount/config.yaml when it exists; else
# fetchit's own discovery ($FETCHIT_CONFIG_URL downloads a config at start).
# State goes to /opt/fetchit (FetchIt's fetchit-volume is mounted at /opt).
# Arguments are passed to `fetchit run` (e.g. --listen 0.0.0.0:9090);
# `fetchit-entrypoint sync` or `… status` run that command instead.
set -eu
cmd=run
case "${1:-}" in
  run | sync | plan | status | validate | version) cmd=$1; shift ;;
esac
[ "$cmd" = version ] && exec /usr/local/bin/fetchit version
if [ -z "${FETCHIT_CONFIG:-}" ] && [ -f /opt/mount/config.yaml ]; then
  set -- --config /opt/mount/config.yaml "$@"
fi
exec /usr/local/bin/fetchit "$cmd" --state-dir "${FETCHIT_STATE_DIR:-/opt/fetchit}" "$@"
