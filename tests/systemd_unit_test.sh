#!/bin/bash
# Checks tools/systemd/swiftd.service with systemd-analyze verify, against
# the swiftd binary this build produced (the unit names the installed path).
# systemd-analyze only warns (exit 0) on many mistakes, so any output fails.
set -euo pipefail
unit_src="$1"
swiftd="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze not found: run tools/setup (package systemd)" >&2
  exit 1
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed "s|/usr/local/sbin/swiftd|$swiftd|" "$unit_src" >"$work/swiftd.service"
if ! systemd-analyze verify "$work/swiftd.service" >"$work/out" 2>&1 ||
    [ -s "$work/out" ]; then
  echo "FAIL: systemd-analyze verify swiftd.service:" >&2
  cat "$work/out" >&2
  exit 1
fi
# TasksMax and LimitNOFILE bound what a flood of connections can cost
# (issue 10); swiftd's connection caps are set to fit inside them.
for directive in 'Type=notify' 'LimitMEMLOCK=infinity' 'RuntimeDirectory=swift' 'StateDirectory=swift' \
    'ExecStart=/usr/local/sbin/swiftd' 'ExecReload=' 'TasksMax=' 'LimitNOFILE='; do
  grep -q "^$directive" "$unit_src" || {
    echo "FAIL: swiftd.service lacks $directive" >&2
    exit 1
  }
done
# The caps' threads (1024 + 256 by default) must fit under TasksMax with
# room for gRPC and the workers.
tasks_max="$(sed -n 's/^TasksMax=//p' "$unit_src")"
if ! [[ "$tasks_max" =~ ^[0-9]+$ ]] || ((tasks_max < 2048)); then
  echo "FAIL: swiftd.service TasksMax=$tasks_max leaves no room above the" \
    "connection caps (1280 threads)" >&2
  exit 1
fi
echo "PASS: swiftd.service verifies cleanly"
