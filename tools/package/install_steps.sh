#!/bin/bash
# tools/package/install_steps.sh: what tools/package/install_check runs
# inside its private copy of the host (never on a real host: it deletes
# the group 'swift' and /etc/swift first, to start like a fresh machine).
# The package is /swift-check/swift.deb. One PASS or FAIL line per step;
# exits 1 if any failed.
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
SOCKET=/run/swift-check/swiftd.sock

# A fresh host: no group, no config, no state, no earlier swift package.
getent group swift >/dev/null && groupdel swift
rm -rf /etc/swift /var/lib/swift
dpkg-query -W swift >/dev/null 2>&1 && dpkg --purge swift >/dev/null

# ---- dpkg -i -------------------------------------------------------------
if dpkg -i /swift-check/swift.deb >/tmp/dpkg.out 2>&1 &&
    [ "$(dpkg-query -W -f '${Status}' swift)" = "install ok installed" ]; then
  pass "dpkg -i ($(dpkg-query -W -f '${Version}' swift))"
else
  fail "dpkg -i" "$(tr '\n' ' ' </tmp/dpkg.out)"
  exit 1
fi
gid=$(getent group swift | cut -d: -f3)
if [ -n "$gid" ] && [ "$gid" -lt 1000 ]; then
  pass "postinst made the system group swift (gid $gid)"
else
  fail group "no system group swift after install ('$(getent group swift)')"
fi
if [ "$(man -w swiftd 2>/dev/null)" = /usr/share/man/man8/swiftd.8.gz ] &&
    [ "$(man -w swiftctl 2>/dev/null)" = /usr/share/man/man8/swiftctl.8.gz ]; then
  pass "man finds swiftd(8) and swiftctl(8)"
else
  fail man "man -w swiftd: '$(man -w swiftd 2>&1)'"
fi
if systemd-analyze verify /lib/systemd/system/swiftd.service >/tmp/verify.out 2>&1 &&
    [ ! -s /tmp/verify.out ]; then
  pass "systemd-analyze verify swiftd.service"
else
  fail unit "$(tr '\n' ' ' </tmp/verify.out)"
fi

# ---- swiftd serves with the packaged config --------------------------------
# /etc/swift/swiftd.conf is read (its default); metrics off: the host's
# network is shared.
mkdir -p /run/swift-check
/usr/sbin/swiftd --socket="$SOCKET" --socket_group=swift --metrics_address= \
  >/tmp/swiftd.log 2>&1 &
swiftd_pid=$!
for _ in $(seq 100); do
  [ -S "$SOCKET" ] && swiftctl --socket="$SOCKET" status >/dev/null 2>&1 && break
  sleep 0.1
done
if swiftctl --socket="$SOCKET" status >/tmp/status.out 2>&1; then
  pass "swiftd serves; swiftctl status: $(head -1 /tmp/status.out)"
else
  fail swiftd "swiftctl status: $(tr '\n' ' ' </tmp/status.out); log: $(tail -5 /tmp/swiftd.log | tr '\n' ' ')"
fi
if [ "$(stat -c %G "$SOCKET" 2>/dev/null)" = swift ]; then
  pass "socket group swift"
else
  fail socket "$SOCKET group is '$(stat -c %G "$SOCKET" 2>&1)'"
fi
# An application built against the installed package, with pkg-config.
if read -ra flags <<<"$(pkg-config --cflags --libs swift 2>&1)" &&
    g++ -std=c++17 -o /tmp/link_check /swift-check/link_check.cc "${flags[@]}" \
      >/tmp/cc.out 2>&1 &&
    /tmp/link_check status "$SOCKET" >/tmp/app.out 2>&1; then
  pass "an application built with pkg-config swift: $(cat /tmp/app.out)"
else
  fail application "$(head -c 1500 /tmp/cc.out) $(cat /tmp/app.out 2>/dev/null)"
fi
kill -TERM "$swiftd_pid" 2>/dev/null
wait "$swiftd_pid" 2>/dev/null

# ---- dpkg -r, dpkg -P ------------------------------------------------------
mkdir -p /var/lib/swift  # what the unit's StateDirectory= would have made
if dpkg -r swift >/tmp/dpkg.out 2>&1 && [ ! -e /usr/sbin/swiftd ] &&
    [ ! -e /usr/lib/x86_64-linux-gnu/libswift.a ] && [ -f /etc/swift/swiftd.conf ] &&
    [ "$(dpkg-query -W -f '${Status}' swift)" = "deinstall ok config-files" ]; then
  pass "dpkg -r: files gone, conffile kept"
else
  fail "dpkg -r" "$(tr '\n' ' ' </tmp/dpkg.out); status '$(dpkg-query -W -f '${Status}' swift 2>&1)'"
fi
if dpkg -P swift >/tmp/dpkg.out 2>&1 && [ ! -e /etc/swift/swiftd.conf ] &&
    [ ! -e /var/lib/swift ] && ! dpkg-query -W -f '${Status}' swift 2>/dev/null | grep -q installed; then
  pass "dpkg -P: config and /var/lib/swift gone (group kept: $(getent group swift | cut -d: -f1))"
else
  fail "dpkg -P" "$(tr '\n' ' ' </tmp/dpkg.out); left: $(ls -d /etc/swift/swiftd.conf /var/lib/swift 2>/dev/null)"
fi
exit "$failed"
