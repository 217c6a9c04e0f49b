#!/usr/bin/env bash
# Run every test of vtpm. This is THE test command (README.md, docs/testing.md).
#
#   scripts/test.sh            # everything
#   scripts/test.sh --no-install   # never apt-get; fail if a tool is missing
#
# Steps, in order (all run; the exit status is non-zero if any failed):
#   tools    the Debian packages the end-to-end tests need; as root they are
#            installed with apt-get when missing, otherwise a missing tool is
#            a FAILURE (the tests never skip for lack of a tool)
#   fmt      cargo fmt --all --check (and rustfmt --check of tests/nostd-link, fuzz)
#   clippy   cargo clippy --workspace --all-targets -- -D warnings
#   build    cargo build --workspace (dev profile, includes vtpm-host-sim)
#   test     cargo test --workspace: unit tests, the end-to-end tests
#            (tests/tests/e2e_*.rs: tpm2-tools over both TCTIs, through
#            tpm2-abrmd and the --svsm route; tpm2-pytss/ESAPI), the
#            differential tests against libtpms (difftest/) and the fuzz
#            corpus replay (tests/tests/fuzz_replay.rs)
#   nostd    the no_std link check (tests/nostd-link): build it in release
#            mode, print its stripped size, run it
#   fuzz     cargo check of the fuzz crate (fuzz/), so the fuzz target keeps
#            compiling; fuzzing itself needs nightly (docs/testing.md)
#
# Logs of each step: target/test-logs/<step>.log
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

INSTALL=yes
for a in "$@"; do
    case "$a" in
        --no-install) INSTALL=no ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

LOGS=$ROOT/target/test-logs
mkdir -p "$LOGS"
# tpm2-abrmd lives in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH=$PATH:/usr/sbin ;; esac

# Debian packages: the tools the end-to-end tests and the conformance suite
# (scripts/conformance.sh) use.
PACKAGES=(
    tpm2-tools swtpm swtpm-tools libtss2-tcti-mssim0 libtss2-tcti-swtpm0
    tpm2-abrmd libtss2-tcti-tabrmd0 dbus python3-yaml xxd openssl bc
    iproute2 file libtss2-dev pkg-config python3-tpm2-pytss
    libtpms-dev libtpms0
)
# Commands that must then be on PATH.
COMMANDS=(tpm2 swtpm swtpm_setup tpm2-abrmd dbus-run-session xxd openssl bc ss file pkg-config)
# Shared libraries the TSS loads at run time (TCTIs).
LIBS=(libtss2-tcti-mssim.so.0 libtss2-tcti-swtpm.so.0 libtss2-tcti-tabrmd.so.0)

STEP_NAMES=()
STEP_STATUS=()
STEP_SECS=()
T_ALL=$SECONDS

record() { # name status secs
    STEP_NAMES+=("$1"); STEP_STATUS+=("$2"); STEP_SECS+=("$3")
}

banner() { printf '\n==== %s ====\n' "$*"; }

# run_step NAME CMD...: runs CMD with its output to the terminal and to
# target/test-logs/NAME.log; records PASS/FAIL and the time.
run_step() {
    local name=$1; shift
    local t0=$SECONDS rc
    banner "$name: $*"
    "$@" 2>&1 | tee "$LOGS/$name.log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 0 ]; then
        record "$name" PASS $((SECONDS - t0))
    else
        record "$name" "FAIL(rc=$rc)" $((SECONDS - t0))
    fi
    return "$rc"
}

# ------------------------------------------------------------------ tools

missing_packages() {
    local p st
    for p in "${PACKAGES[@]}"; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [ "$st" = "install ok installed" ] || echo "$p"
    done
}

check_tools() {
    local missing=() c l
    for c in "${COMMANDS[@]}"; do
        command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("command $c")
    done
    for l in "${LIBS[@]}"; do
        if ! ldconfig -p 2>/dev/null | grep -q "$l"; then
            ls /usr/lib/*/"$l" >/dev/null 2>&1 || missing+=("library $l")
        fi
    done
    command -v cargo >/dev/null || missing+=("cargo")
    cargo fmt --version >/dev/null 2>&1 || missing+=("rustfmt (rustup component add rustfmt)")
    cargo clippy --version >/dev/null 2>&1 || missing+=("clippy (rustup component add clippy)")
    if [ ${#missing[@]} -gt 0 ]; then
        printf 'MISSING: %s\n' "${missing[@]}"
        return 1
    fi
    echo "tpm2-tools: $(tpm2 --version 2>&1 | head -n1)"
    echo "swtpm:      $(swtpm --version 2>&1 | head -n1)"
    echo "rust:       $(rustc --version)"
    return 0
}

# Python packages: independent FIPS 203/204 implementations that check the
# TPM's ML-KEM and ML-DSA outputs (vtpm-core/tests/pqc.rs, tests/pqc/).
PY_PACKAGES=(kyber-py==1.2.0 dilithium-py==1.5.1)

install_python_packages() {
    if python3 -c 'import kyber_py, dilithium_py' 2>/dev/null; then
        echo "python packages present: ${PY_PACKAGES[*]}"
        return 0
    fi
    if [ "$INSTALL" = yes ]; then
        echo "installing: ${PY_PACKAGES[*]}"
        python3 -m pip install "${PY_PACKAGES[@]}" || return 1
        python3 -c 'import kyber_py, dilithium_py' || return 1
    else
        echo "missing python packages: ${PY_PACKAGES[*]} (python3 -m pip install ${PY_PACKAGES[*]})"
        return 1
    fi
}

install_tools() {
    local missing
    mapfile -t missing < <(command -v dpkg-query >/dev/null && missing_packages)
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all Debian packages present: ${PACKAGES[*]}"
    elif [ "$INSTALL" = yes ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update || return 1
        apt-get install -y --no-install-recommends "${missing[@]}" || return 1
    else
        echo "missing Debian packages: ${missing[*]}"
        echo "install them (as root: apt-get install -y ${missing[*]}) and run again"
        return 1
    fi
    install_python_packages || return 1
    check_tools
}

run_step tools install_tools
TOOLS_OK=$?

# ------------------------------------------------------------------ cargo

fmt_check() {
    cargo fmt --all -- --check || return 1
    # The crates outside the workspace (no_std link check, fuzz targets).
    rustfmt --check --edition 2021 tests/nostd-link/src/main.rs tests/nostd-link/build.rs \
        fuzz/fuzz_targets/*.rs
}
run_step fmt fmt_check
run_step clippy cargo clippy --workspace --all-targets -- -D warnings
run_step build cargo build --workspace
BUILD_OK=$?

if [ "$TOOLS_OK" -ne 0 ]; then
    echo "NOTE: tools are missing: the end-to-end tests will fail (they never skip)" >&2
fi
run_step test cargo test --workspace --no-fail-fast

# ------------------------------------------------------------------ no_std

nostd_check() {
    local dir=$ROOT/tests/nostd-link target=$ROOT/target/nostd-link bin size rc
    ( cd "$dir" && CARGO_TARGET_DIR=$target cargo build --release ) || return 1
    bin=$target/release/vtpm-nostd-link
    [ -x "$bin" ] || { echo "no binary at $bin"; return 1; }
    # The release profile strips symbols; strip again in case a toolchain
    # ignores that, and report the size of the stripped file.
    if command -v strip >/dev/null; then
        strip -o "$target/vtpm-nostd-link.stripped" "$bin" || return 1
        size=$(stat -c %s "$target/vtpm-nostd-link.stripped")
    else
        size=$(stat -c %s "$bin")
    fi
    file "$bin" 2>/dev/null || true
    echo "no_std link check: stripped size $size bytes ($((size / 1024)) KiB)"
    "$bin"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "no_std binary failed at step $rc (see tests/nostd-link/src/main.rs)"
        return 1
    fi
    echo "no_std binary ran: manufacture, Startup, GetRandom, reload: ok"
}
run_step nostd nostd_check

# ------------------------------------------------------------------ fuzz

fuzz_check() {
    CARGO_TARGET_DIR=$ROOT/target/fuzz-check cargo check --manifest-path "$ROOT/fuzz/Cargo.toml" --bins
}
run_step fuzz fuzz_check

# ------------------------------------------------------------------ summary

# Sum the "test result:" lines of cargo test.
passed=0; failed=0; ignored=0
if [ -f "$LOGS/test.log" ]; then
    while read -r p f i; do
        passed=$((passed + p)); failed=$((failed + f)); ignored=$((ignored + i))
    done < <(sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$LOGS/test.log")
    # The "test result:" line that follows each end-to-end test binary
    # (tests/tests/e2e_*.rs), one line per binary.
    e2e=$(awk '/Running tests\/e2e_[a-z_0-9]*\.rs/ { name = $2; sub(/^tests\//, "", name); f = 1 }
               f && /test result:/ { printf "    %-22s %s passed, %s failed\n", name, $4, $6; f = 0 }' "$LOGS/test.log")
fi

banner "summary"
nfail=0
for i in "${!STEP_NAMES[@]}"; do
    printf '  %-8s %-12s %5ss\n' "${STEP_NAMES[$i]}" "${STEP_STATUS[$i]}" "${STEP_SECS[$i]}"
    [ "${STEP_STATUS[$i]}" = PASS ] || nfail=$((nfail + 1))
done
echo "  end-to-end tests (tpm2-tools, tpm2-abrmd, tpm2-pytss over mssim, swtpm, SVSM route):"
echo "${e2e:-    did not run}"
nostd_size=$(sed -n 's/^no_std link check: stripped size \([0-9]*\) bytes.*/\1/p' "$LOGS/nostd.log" 2>/dev/null)
[ -n "$nostd_size" ] && echo "  no_std link binary, stripped: $nostd_size bytes"
echo "  wall time: $((SECONDS - T_ALL))s; logs: $LOGS"
if [ "$nfail" -ne 0 ]; then
    echo "  FAILED steps: $nfail"
fi
# The closing line (cargo test's counts over all test binaries).
echo "tests: $passed passed, $failed failed, $ignored skipped"
[ "$nfail" -eq 0 ] && [ "$failed" -eq 0 ]
