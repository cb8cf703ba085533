#!/usr/bin/env bash
# mimamori-keygen: writes ID.cert (0644) and ID.cert_secret (0600), refuses to overwrite without
# --force, shows a certificate without its secret, and answers bad arguments with a clear error
# and exit status 2.
set -euo pipefail
tool=$1
dir=$(mktemp -d /tmp/mm-keygen-test-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "keygen.sh: $*" >&2; exit 1; }

# Exit status of a command, without tripping set -e; its stderr goes to $dir/err.
status() { set +e; "$@" >"$dir/out" 2>"$dir/err"; local rc=$?; set -e; echo $rc; }

out="$dir/keys"   # does not exist yet: created with mode 0700
umask 000         # the modes must not depend on the umask
"$tool" --role sensor --id s-kanto-0001 --org org-0001 --region kanto --out "$out" >"$dir/out"
umask 022
[ "$(stat -c %a "$out")" = 700 ] || fail "--out directory mode $(stat -c %a "$out")"
[ "$(stat -c %a "$out/s-kanto-0001.cert_secret")" = 600 ] || fail "secret is not 0600"
[ "$(stat -c %a "$out/s-kanto-0001.cert")" = 644 ] || fail "public is not 0644"
[ "$(ls -A "$out" | wc -l)" -eq 2 ] || fail "unexpected files: $(ls -A "$out")"
grep -q 'secret-key' "$out/s-kanto-0001.cert" && fail "the public file holds the secret key"
key=$(sed -n 's/^public-key: //p' "$dir/out")
[ ${#key} -eq 40 ] || fail "no public key printed: $(cat "$dir/out")"

# show: metadata and public key, the same from both files, never the secret.
for f in "$out/s-kanto-0001.cert" "$out/s-kanto-0001.cert_secret"; do
    "$tool" show "$f" >"$dir/show"
    grep -qx 'role: sensor' "$dir/show" || fail "show: role: $(cat "$dir/show")"
    grep -qx 'id: s-kanto-0001' "$dir/show" || fail "show: id"
    grep -qx 'org: org-0001' "$dir/show" || fail "show: org"
    grep -qx 'region: kanto' "$dir/show" || fail "show: region"
    grep -qxF "public-key: $key" "$dir/show" || fail "show: key"
    grep -qi 'secret-key' "$dir/show" && fail "show printed the secret key"
done
grep -qx 'kind: secret' "$dir/show" || fail "show: kind"

# Refusal: exit 1, a message naming the file and --force, the files untouched.
before=$(cat "$out/s-kanto-0001.cert_secret")
rc=$(status "$tool" --role sensor --id s-kanto-0001 --org org-0001 --region kanto --out "$out")
[ "$rc" -eq 1 ] || fail "overwrite without --force: exit $rc"
grep -q 'exists' "$dir/err" && grep -q -- '--force' "$dir/err" || fail "refusal: $(cat "$dir/err")"
[ "$before" = "$(cat "$out/s-kanto-0001.cert_secret")" ] || fail "secret changed without --force"

# --force replaces both, modes kept.
"$tool" --role sensor --id s-kanto-0001 --org org-0001 --region kanto --out "$out" --force \
    >"$dir/out"
[ "$before" != "$(cat "$out/s-kanto-0001.cert_secret")" ] || fail "--force did not replace"
[ "$(stat -c %a "$out/s-kanto-0001.cert_secret")" = 600 ] || fail "secret mode after --force"
[ "$(ls -A "$out" | wc -l)" -eq 2 ] || fail "leftover files after --force: $(ls -A "$out")"

# Other roles.
"$tool" --role broker --id b-kanto --region kanto --out "$out" >/dev/null
"$tool" --role aggregator --id centre --out "$out" >/dev/null
"$tool" --role console --id soc-kanto --region kanto --out "$out" >/dev/null
"$tool" show "$out/centre.cert" | grep -qx 'role: aggregator' || fail "aggregator"

# Bad arguments: exit 2 and a message that says what is wrong.
check2() {
    local want=$1; shift
    local rc
    rc=$(status "$tool" "$@")
    [ "$rc" -eq 2 ] || fail "'$*': exit $rc, want 2"
    grep -q -- "$want" "$dir/err" || fail "'$*': message '$(cat "$dir/err")' lacks '$want'"
}
check2 'required' --role sensor --id s1 --org o --region r
check2 'required' --id s1 --out "$out"
check2 'must be sensor, broker' --role admin --id s1 --out "$out"
check2 'not valid' --role sensor --id ../etc/passwd --org o --region r --out "$out"
check2 'not valid' --role sensor --id 's 1' --org o --region r --out "$out"
check2 'not valid' --role sensor --id s1 --org 'o/x' --region r --out "$out"
check2 'at most 64' --role aggregator --id "$(printf 'a%.0s' {1..65})" --out "$out"
check2 "needs the field 'org'" --role sensor --id s1 --region r --out "$out"
check2 "needs the field 'region'" --role broker --id b1 --out "$out"
check2 'has no org' --role broker --id b1 --org o --region r --out "$out"
check2 'unknown option' --role sensor --bogus
check2 'unexpected argument' --role aggregator --id c --out "$out" extra
check2 'show takes one FILE' show
check2 'show takes one FILE' show a b
[ ! -e "$out/s1.cert" ] || fail "a refused command wrote a file"

# show of something that is not a certificate: exit 1 and the reason.
echo "garbage" >"$dir/garbage.cert"
rc=$(status "$tool" show "$dir/garbage.cert")
[ "$rc" -eq 1 ] || fail "show garbage: exit $rc"
rc=$(status "$tool" show "$dir/missing.cert")
[ "$rc" -eq 1 ] && grep -q 'No such file' "$dir/err" || fail "show missing: $(cat "$dir/err")"
chmod 644 "$out/b-kanto.cert_secret"
rc=$(status "$tool" show "$out/b-kanto.cert_secret")
[ "$rc" -eq 1 ] && grep -q 'readable by others' "$dir/err" || fail "lax secret: $(cat "$dir/err")"

"$tool" --help | grep -q 'usage: mimamori-keygen' || fail "--help"
"$tool" --version | grep -qE '^mimamori-keygen [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
echo "mimamori-keygen: ok"
