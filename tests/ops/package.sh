#!/usr/bin/env bash
# The Debian packages (issue 8): `cpack -G DEB` makes mimamori-common, -sensor, -broker and
# -aggregator; their contents, units and maintainer scripts are checked; then, as root on a
# machine where Mimamori is not installed, they are installed with dpkg, used (each daemon's
# --check-config run as its own user, the units verified and scored by systemd-analyze),
# removed (settings, state and users kept) and purged (nothing left).
# Usage: package.sh BUILD_DIR
set -euo pipefail
build=$1
dir=$(mktemp -d /tmp/mm-package-XXXXXX)
installed=0
cleanup() {
    if [ $installed = 1 ]; then
        dpkg --purge mimamori-aggregator mimamori-broker mimamori-sensor mimamori-common >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "package.sh: $*" >&2; exit 1; }
say() { echo "package.sh: $*"; }

(cd "$build" && cpack -G DEB -B "$dir/out" >"$dir/cpack.log" 2>&1) || { cat "$dir/cpack.log" >&2; fail "cpack failed"; }
v=$(sed -n 's/^CPACK_PACKAGE_VERSION:STRING=//p; s/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt" | head -1)
for p in common sensor broker aggregator; do
    deb=$(ls "$dir"/out/mimamori-${p}_*_amd64.deb 2>/dev/null | head -1)
    [ -f "$deb" ] || fail "no mimamori-$p package"
    dpkg-deb -c "$deb" | awk '{print $6}' >"$dir/$p.files"
    dpkg-deb -I "$deb" >"$dir/$p.info"
done
need() { grep -qx "$2" "$dir/$1.files" || fail "mimamori-$1 lacks $2"; }
need common ./usr/bin/mimamori-keygen
need common ./usr/share/doc/mimamori/operations.md
need sensor ./usr/bin/mimamori-sensor
need sensor ./usr/lib/systemd/system/mimamori-sensor.service
need sensor ./etc/mimamori/sensor.ini
need broker ./usr/bin/mimamori-broker
need broker ./etc/mimamori/broker.ini
for f in mimamori-aggregator mimamori mimamori-console mimamori-stats; do need aggregator ./usr/bin/$f; done
need aggregator ./usr/lib/systemd/system/mimamori-stats.service
need aggregator ./usr/share/mimamori/allowlists/public-resolvers.list
for p in sensor broker aggregator; do
    for s in postinst prerm postrm conffiles; do grep -q " $s" "$dir/$p.info" || fail "mimamori-$p has no $s"; done
    grep -q 'Depends: mimamori-common (= ' "$dir/$p.info" || fail "mimamori-$p does not depend on mimamori-common"
done
grep -q 'libpcap' "$dir/sensor.info" || fail "the sensor's package does not depend on libpcap"
say "4 packages: programs, units, settings, maintainer scripts and dependencies in place"

if [ "$(id -u)" != 0 ]; then
    say "SKIPPED the install and removal: not root"
    exit 0
fi
if dpkg-query -W -f='${Status}' mimamori-common 2>/dev/null | grep -q installed ||
    [ -e /etc/mimamori ] || getent passwd mimamori-broker >/dev/null; then
    say "SKIPPED the install and removal: Mimamori is already installed on this machine"
    exit 0
fi

installed=1
dpkg -i "$dir"/out/*.deb >"$dir/dpkg.log" 2>&1 || { cat "$dir/dpkg.log" >&2; fail "dpkg -i failed"; }
for b in mimamori-sensor mimamori-broker mimamori-aggregator mimamori-console mimamori-stats mimamori mimamori-keygen; do
    /usr/bin/$b --version >/dev/null || fail "/usr/bin/$b --version"
done
for u in mimamori-sensor mimamori-broker mimamori-aggregator mimamori-console mimamori-stats; do
    getent passwd "$u" | grep -q ':/usr/sbin/nologin$' || fail "user $u missing or has a shell"
done
[ -f /etc/mimamori/broker.ini ] && grep -q '^cert_secret = /etc/mimamori/broker.cert_secret' /etc/mimamori/broker.ini ||
    fail "broker.ini not installed with its defaults"
say "installed: programs on the PATH, a system user per daemon (no login), settings in /etc/mimamori"

# Not configured yet: --check-config says what to do (and the units' start limit stops a
# restart loop).
rc=0
/usr/bin/mimamori-sensor -c /etc/mimamori/sensor.ini --check-config >"$dir/check" || rc=$?
[ $rc = 2 ] && grep -q 'FIX  \[capture\] interface: not set' "$dir/check" || { cat "$dir/check"; fail "an unconfigured sensor passes its check"; }
grep -q '^StartLimitBurst=5' /usr/lib/systemd/system/mimamori-sensor.service || fail "no start limit"
rc=0
/usr/bin/mimamori-broker -c /etc/mimamori/broker.ini --check-config >"$dir/check" || rc=$?
[ $rc = 2 ] && grep -q 'FIX  \[keys\] cert_secret: .*mimamori-keygen' "$dir/check" || { cat "$dir/check"; fail "an unconfigured broker is not explained"; }
# Configured: keys made as docs/operations.md says, owned by the daemon's user; its check,
# run as that user, passes.
mimamori-keygen --role broker --id b-kanto --region kanto --out /etc/mimamori >/dev/null
mimamori-keygen --role aggregator --id centre --out /etc/mimamori >/dev/null
install -d -o mimamori-broker -m 0750 /etc/mimamori/sensors
chown mimamori-broker /etc/mimamori/b-kanto.cert_secret
sed -i 's|^cert_secret = .*|cert_secret = /etc/mimamori/b-kanto.cert_secret|; s|^endpoint = $|endpoint = tcp://127.0.0.1:7100|; s|^aggregator_cert = .*|aggregator_cert = /etc/mimamori/centre.cert|' /etc/mimamori/broker.ini
install -d -o mimamori-broker -m 0700 /var/lib/mimamori/broker
runuser -u mimamori-broker -- /usr/bin/mimamori-broker -c /etc/mimamori/broker.ini --check-config >"$dir/check" ||
    { cat "$dir/check"; fail "a configured broker's --check-config, as its user"; }
say "configured as docs/operations.md says: the broker's check passes as its own user"

# Upgrade in place (the same packages again: prerm upgrade, postinst configure with the old
# version): the scripts succeed, the edited settings and the keys stay.
dpkg -i "$dir"/out/*.deb >"$dir/dpkg.log" 2>&1 || { cat "$dir/dpkg.log" >&2; fail "upgrade (dpkg -i again) failed"; }
grep -q '^cert_secret = /etc/mimamori/b-kanto.cert_secret' /etc/mimamori/broker.ini ||
    fail "an upgrade replaced the edited broker.ini"
[ -f /etc/mimamori/b-kanto.cert_secret ] || fail "an upgrade lost a key"
say "upgraded in place: settings and keys kept"

# Units: systemd-analyze verifies them and scores their exposure (0 best, 10 worst).
if command -v systemd-analyze >/dev/null; then
    for u in /usr/lib/systemd/system/mimamori-*.service; do
        systemd-analyze verify "$u" >"$dir/verify" 2>&1 || { cat "$dir/verify"; fail "systemd-analyze verify $u"; }
        score=$(systemd-analyze security --offline=true "$u" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "$u: exposure $score (> 2.5)"
        say "$(basename "$u"): verified, exposure $score"
    done
else
    fail "systemd-analyze is not installed (ops/bootstrap installs systemd)"
fi

# Remove: programs and units go; settings, keys, state and users stay for a reinstall.
dpkg -r mimamori-aggregator mimamori-broker mimamori-sensor mimamori-common >"$dir/dpkg.log" 2>&1 ||
    { cat "$dir/dpkg.log" >&2; fail "dpkg -r failed"; }
[ ! -e /usr/bin/mimamori-broker ] && [ ! -e /usr/lib/systemd/system/mimamori-broker.service ] || fail "remove left programs or units"
[ -f /etc/mimamori/broker.ini ] && [ -d /var/lib/mimamori/broker ] && getent passwd mimamori-broker >/dev/null ||
    fail "remove took settings, state or users"
# Purge: the rest goes: the daemon's own files (its secret key, its allow-list directory)
# with its user; what root made by hand (public certificates) is root's to delete.
rm -f /etc/mimamori/*.cert /etc/mimamori/centre.cert_secret
dpkg --purge mimamori-aggregator mimamori-broker mimamori-sensor mimamori-common >"$dir/dpkg.log" 2>&1 ||
    { cat "$dir/dpkg.log" >&2; fail "dpkg --purge failed"; }
installed=0
[ ! -e /etc/mimamori ] || fail "purge left /etc/mimamori: $(ls -A /etc/mimamori) (the broker's secret key must go with its user)"
[ ! -e /var/lib/mimamori ] || fail "purge left /var/lib/mimamori"
for u in mimamori-sensor mimamori-broker mimamori-aggregator mimamori-console mimamori-stats; do
    ! getent passwd "$u" >/dev/null || fail "purge left user $u"
done
say "removed (settings, state, users kept) then purged (nothing left)"
say "ok"
