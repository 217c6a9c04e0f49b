#!/usr/bin/env bash
# Run the tpm2-tools 5.4 integration suite (92 shell tests) against
# vtpm-host-sim, through ../shared/conformance/run-tpm2-tools-suite.sh.
# Not part of scripts/test.sh yet: the engine does not implement every
# command the suite uses. See docs/testing.md.
#
# Usage: scripts/conformance.sh [options] OUTDIR
#
#   OUTDIR       results go to OUTDIR/<mode>-<tcti>/ (results.tsv, logs/)
#                and a summary to OUTDIR/summary.txt
# Options:
#   -m MODES     abrmd, direct or both (default both)
#   -t TCTIS     mssim, swtpm or both (default mssim)
#   -f REGEX     only the tests whose name matches (passed to the runner)
#   -x REGEX     skip the tests whose name matches (passed to the runner)
#   -s DIR       the tpm2-tools 5.4 source tree (holding test/integration);
#                default $TPM2_TOOLS_SRC, else /tmp/tpm2-tools-5.4, which is
#                created from Debian's source package when missing
#   -r FILE      the runner (default ../shared/conformance/run-tpm2-tools-suite.sh
#                beside the repository)
#   -T SECS      per-test timeout (default 120)
#
# How the tpm2-tools tests are obtained without network access to GitHub:
# Debian's source package tpm2-tools 5.4-1 (bookworm, the version of the
# installed tpm2 binary) has the upstream release tarball as its .orig
# tarball, and that tarball holds test/, tools/ and man/. As root this script
# adds deb-src entries that mirror the machine's own deb entries (same
# mirror and suites: /etc/apt/sources.list.d/vtpm-deb-src.*) if there are
# none, runs `apt-get update` and `apt-get source --download-only
# tpm2-tools=5.4-1` (apt checks the files against the signed Sources index),
# and unpacks the .orig tarball into /tmp/tpm2-tools-5.4. Nothing of it is
# copied into the repository.
#
# Exit status: 0 iff every test that ran passed in every mode.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODES=both
TCTIS=mssim
FILTER=
EXCLUDE=
SRC=${TPM2_TOOLS_SRC:-}
RUNNER=
TIMEOUT=120
VERSION=5.4
DEB_VERSION=5.4-1

usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

while getopts "m:t:f:x:s:r:T:h" opt; do
    case "$opt" in
        m) MODES=$OPTARG ;;
        t) TCTIS=$OPTARG ;;
        f) FILTER=$OPTARG ;;
        x) EXCLUDE=$OPTARG ;;
        s) SRC=$OPTARG ;;
        r) RUNNER=$OPTARG ;;
        T) TIMEOUT=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
mkdir -p "$1" || exit 2
OUT=$(cd "$1" && pwd)

case "$MODES" in both) MODES="abrmd direct" ;; abrmd|direct) ;; *) usage ;; esac
case "$TCTIS" in both) TCTIS="mssim swtpm" ;; mssim|swtpm) ;; *) usage ;; esac

die() { echo "conformance: $*" >&2; exit 2; }

# ------------------------------------------------------------ the runner

if [ -z "$RUNNER" ]; then
    for r in "$ROOT/../shared/conformance/run-tpm2-tools-suite.sh" \
             "$ROOT/shared/conformance/run-tpm2-tools-suite.sh"; do
        [ -f "$r" ] && { RUNNER=$r; break; }
    done
fi
[ -n "$RUNNER" ] && [ -f "$RUNNER" ] || die "run-tpm2-tools-suite.sh not found (expected ../shared/conformance/ beside the repository; use -r)"

# ------------------------------------------------------------ the tests

have_tree() { [ -d "$1/test/integration/tests" ]; }

# Add deb-src entries mirroring the machine's own deb entries (same mirror,
# same suites), so no host name is hard-coded here.
add_deb_src() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in */vtpm-deb-src.sources) continue ;; esac
        if grep -qE '^Types:[[:space:]]*deb[[:space:]]*$' "$f"; then
            sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$f" \
                > /etc/apt/sources.list.d/vtpm-deb-src.sources
            return 0
        fi
    done
    if grep -qE '^deb[[:space:]]' /etc/apt/sources.list 2>/dev/null; then
        sed -n -E 's/^deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list \
            > /etc/apt/sources.list.d/vtpm-deb-src.list
        return 0
    fi
    return 1
}

fetch_debian_source() {
    local dest=$1 work orig
    command -v apt-get >/dev/null || die "apt-get not found; give the tpm2-tools $VERSION tree with -s"
    if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        [ "$(id -u)" -eq 0 ] || die "no deb-src entry and not root; give the tpm2-tools $VERSION tree with -s"
        add_deb_src || die "cannot derive a deb-src entry from the apt sources; give the tree with -s"
    fi
    apt-get update >/dev/null || die "apt-get update failed"
    work=$(mktemp -d /tmp/tpm2-tools-src.XXXXXX)
    # --download-only: no dpkg-dev needed; the .orig tarball is upstream's.
    if ! (cd "$work" && apt-get source --download-only "tpm2-tools=$DEB_VERSION"); then
        rm -rf "$work"
        die "apt-get source tpm2-tools=$DEB_VERSION failed; give the tpm2-tools $VERSION tree with -s"
    fi
    orig=$(ls "$work"/tpm2-tools_"$VERSION".orig.tar.* 2>/dev/null | head -n1)
    [ -n "$orig" ] || die "no .orig tarball in $(ls "$work")"
    mkdir -p "$dest.tmp" && tar -xf "$orig" -C "$dest.tmp" || die "cannot unpack $orig"
    # The tarball holds one folder tpm2-tools-5.4/.
    rm -rf "$dest"
    mv "$dest.tmp/tpm2-tools-$VERSION" "$dest" || die "unexpected layout in $orig"
    rm -rf "$dest.tmp" "$work"
}

if [ -z "$SRC" ]; then
    SRC=/tmp/tpm2-tools-$VERSION
    if ! have_tree "$SRC"; then
        echo "conformance: fetching the tpm2-tools $VERSION sources from Debian into $SRC" >&2
        fetch_debian_source "$SRC"
    fi
fi
have_tree "$SRC" || die "$SRC has no test/integration/tests"

# ------------------------------------------------------------ the simulator

echo "conformance: building vtpm-host-sim (release)" >&2
cargo build --release -p vtpm-host-sim --manifest-path "$ROOT/Cargo.toml" >&2 || die "build failed"
BIN=$ROOT/target/release/vtpm-host-sim
[ -x "$BIN" ] || die "no $BIN"

# ------------------------------------------------------------ run

args=(-t "$TIMEOUT")
[ -n "$FILTER" ] && args+=(-f "$FILTER")
[ -n "$EXCLUDE" ] && args+=(-x "$EXCLUDE")

status=0
: > "$OUT/summary.txt"
for tcti in $TCTIS; do
    sim="exec '$BIN' --protocol $tcti --port \$PORT --bind 127.0.0.1 --state \$STATE --manufacture --log-level info"
    [ "$tcti" = swtpm ] && sim="$sim --flags not-need-init"
    for mode in $MODES; do
        dir=$OUT/$mode-$tcti
        rm -rf "$dir"; mkdir -p "$dir"
        echo "==== tpm2-tools $VERSION suite: mode=$mode tcti=$tcti -> $dir" | tee -a "$OUT/summary.txt"
        bash "$RUNNER" -m "$mode" -o "$dir" "${args[@]}" "$SRC" "$sim" "$tcti" | tee "$dir/output.txt"
        rc=${PIPESTATUS[0]}
        line=$(tail -n1 "$dir/output.txt")
        echo "$mode/$tcti: $line" >> "$OUT/summary.txt"
        [ "$rc" -eq 0 ] || status=1
    done
done
echo
echo "==== summary ($OUT/summary.txt)"
grep -v '^====' "$OUT/summary.txt"
exit $status
