#!/usr/bin/env bash
# QEMU end-to-end test of vtpm-host-sim as a drop-in for swtpm.
#
# QEMU (TCG, no KVM) boots Debian's kernel with a busybox initramfs built
# here; the TPM is QEMU's tpm-emulator backend talking to
#   vtpm-host-sim socket --tpm2 --ctrl type=unixio,path=$DIR/swtpm-sock ...
# the way libvirt starts swtpm (QEMU passes its data socket with
# CMD_SET_DATAFD). The guest's /init (tests/qemu/init) prints VTPM-*
# markers on the serial console, which this script checks:
#   tis      tpm-tis: /sys/class/tpm/tpm0, PCR banks, /dev/hwrng (tpm-rng),
#            a GetRandom round trip through /dev/tpmrm0
#   crb      the same with tpm-crb
#   reset    the guest reboots (QEMU: CMD_STOP, CMD_SET_BUFFERSIZE,
#            CMD_INIT); the TPM works after the reset cycle
#   migrate  `migrate` to a file and back into a new QEMU with a new
#            vtpm-host-sim on an empty state directory
#            (CMD_GET_STATEBLOB / CMD_SET_STATEBLOB); the guest carries on
#            with the same PCR values and a working TPM
#
# Usage: tests/qemu/run.sh [tis] [crb] [reset] [migrate]   (default: all)
# Environment:
#   VTPM_BIN     the vtpm-host-sim binary (default: build target/debug)
#   TPM_IMPL     vtpm (default) or swtpm (the reference, same checks)
#   KEEP=1       keep the work directory
# Missing packages (qemu-system-x86, linux-image-amd64, busybox-static,
# cpio) are installed with apt-get (needs root); if that is impossible the
# test FAILS, it never skips.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TPM_IMPL="${TPM_IMPL:-vtpm}"
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(tis crb reset migrate)
T0=$(date +%s)

log() { echo "[qemu-test +$(($(date +%s) - T0))s] $*"; }
die() {
    echo "[qemu-test] FAIL: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- setup ---

kernel_image() { ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1; }

need_install=()
command -v qemu-system-x86_64 >/dev/null || need_install+=(qemu-system-x86)
[ -n "$(kernel_image)" ] || need_install+=(linux-image-amd64)
if ! { [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; }; then
    need_install+=(busybox-static)
fi
command -v cpio >/dev/null || need_install+=(cpio)
command -v file >/dev/null || need_install+=(file)
if [ ${#need_install[@]} -gt 0 ]; then
    log "installing: ${need_install[*]}"
    [ "$(id -u)" = 0 ] || die "packages ${need_install[*]} are missing and we are not root"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null 2>&1 ||
        die "apt-get install ${need_install[*]} failed"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not available"
KERNEL="$(kernel_image)"
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || die "no readable /boot/vmlinuz-*"
file -L /bin/busybox | grep -q 'statically linked' || die "/bin/busybox is not static"

case "$TPM_IMPL" in
vtpm)
    if [ -z "${VTPM_BIN:-}" ]; then
        log "building vtpm-host-sim"
        (cd "$ROOT" && cargo build -q -p vtpm-host-sim) || die "cargo build failed"
        VTPM_BIN="$ROOT/target/debug/vtpm-host-sim"
    fi
    [ -x "$VTPM_BIN" ] || die "VTPM_BIN=$VTPM_BIN is not executable"
    TPM_CMD=("$VTPM_BIN" socket)
    ;;
swtpm)
    command -v swtpm >/dev/null || die "swtpm not installed"
    TPM_CMD=(swtpm socket)
    ;;
*) die "TPM_IMPL must be vtpm or swtpm" ;;
esac

WORK="$(mktemp -d /tmp/vtpm-qemu-test.XXXXXX)"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ] || [ "${FAILED:-0}" = 1 ]; then
        echo "[qemu-test] work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
FAILED=1

log "kernel $KERNEL, tpm: ${TPM_CMD[*]}, work dir $WORK"

# The initramfs: a static busybox and our /init.
mkdir -p "$WORK/initrd/bin" "$WORK/initrd/dev" "$WORK/initrd/proc" "$WORK/initrd/sys" "$WORK/initrd/tmp"
cp /bin/busybox "$WORK/initrd/bin/busybox"
cp "$HERE/init" "$WORK/initrd/init"
chmod 755 "$WORK/initrd/init" "$WORK/initrd/bin/busybox"
mknod -m 600 "$WORK/initrd/dev/console" c 5 1 2>/dev/null || true
(cd "$WORK/initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz"

# ------------------------------------------------------------- helpers ---

# start_tpm DIR: start the TPM on DIR/swtpm-sock with state DIR/state, as
# libvirt does; sets TPM_PID.
start_tpm() {
    local d="$1"
    mkdir -p "$d/state"
    rm -f "$d/swtpm-sock" "$d/tpm.pid"
    "${TPM_CMD[@]}" --tpm2 --ctrl "type=unixio,path=$d/swtpm-sock,mode=0600" \
        --tpmstate "dir=$d/state,mode=0600" --log "file=$d/tpm.log,level=20" \
        --pid "file=$d/tpm.pid" --terminate >"$d/tpm.out" 2>&1 &
    TPM_PID=$!
    PIDS+=("$TPM_PID")
    local i
    for i in $(seq 1 100); do
        [ -S "$d/swtpm-sock" ] && [ -s "$d/tpm.pid" ] && return 0
        kill -0 "$TPM_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$d/tpm.out" >&2 || true
    die "the TPM did not come up on $d/swtpm-sock"
}

# wait_tpm_exit: QEMU sends CMD_SHUTDOWN when it quits; the TPM exits.
wait_tpm_exit() {
    local d="$1" i
    for i in $(seq 1 100); do
        kill -0 "$TPM_PID" 2>/dev/null || {
            wait "$TPM_PID" 2>/dev/null || die "the TPM exited with an error (log: $d/tpm.log)"
            return 0
        }
        sleep 0.1
    done
    die "the TPM did not exit after QEMU quit"
}

# qemu_args DEVICE DIR MODE: the QEMU command line.
qemu_args() {
    local dev="$1" d="$2" mode="$3"
    QEMU=(qemu-system-x86_64 -machine q35 -accel tcg -m 256 -smp 1
        -nodefaults -no-user-config -display none
        -kernel "$KERNEL" -initrd "$WORK/initrd.gz"
        -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init vtpm_mode=$mode"
        -serial "file:$d/console.log"
        -chardev "socket,id=chrtpm,path=$d/swtpm-sock"
        -tpmdev emulator,id=tpm0,chardev=chrtpm
        -device "$dev,tpmdev=tpm0")
}

# norm DIR: DIR/console.txt, the serial console without its CRs.
norm() { tr -d '\r' <"$1/console.log" >"$1/console.txt"; }

# expect FILE PATTERN WHAT: FILE has a line matching PATTERN (grep -E).
expect() {
    grep -Eq "$2" "$1" || {
        echo "----- $1 -----" >&2
        cat "$1" >&2
        die "$3: no line matching /$2/ in $1"
    }
}

# check_report FILE: the markers of one successful report().
check_report() {
    local c="$1"
    expect "$c" '^VTPM-TPM0 present' "/sys/class/tpm/tpm0 exists"
    expect "$c" '^VTPM-VERSION 2$' "a TPM 2.0"
    expect "$c" '^VTPM-PCR sha256 0 [0-9A-F]{64}$' "PCR 0 of the sha256 bank read through sysfs"
    if grep -q 'tpm_crb.*Disabling hwrng' "$c"; then
        # Linux 6.1's tpm_crb turns its hwrng off (the AMD fTPM quirk,
        # applied to every CRB device there): /dev/tpmrm0 is the check.
        log "  (tpm_crb disabled its hwrng in this kernel; /dev/tpmrm0 only)"
    else
        expect "$c" '^VTPM-HWRNG-CURRENT tpm-rng' "tpm-rng is the current hwrng"
        expect "$c" '^VTPM-HWRNG [0-9a-f]{32}$' "16 octets from /dev/hwrng"
    fi
    expect "$c" '^VTPM-TPMRM-OK' "a GetRandom round trip through /dev/tpmrm0"
    if grep -q '^VTPM-HWRNG 0\{32\}$' "$c"; then die "/dev/hwrng returned zeros"; fi
}

# run_qemu DEVICE DIR MODE EXTRA...: boot and wait for QEMU to exit.
run_qemu() {
    local dev="$1" d="$2" mode="$3"
    shift 3
    qemu_args "$dev" "$d" "$mode"
    timeout 240 "${QEMU[@]}" "$@" >"$d/qemu.out" 2>&1 || {
        cat "$d/qemu.out" "$d/console.log" >&2 || true
        die "QEMU failed or timed out ($dev, $mode)"
    }
}

# --------------------------------------------------------------- cases ---

case_boot() {
    local dev="$1" d="$WORK/$1"
    mkdir -p "$d"
    start_tpm "$d"
    run_qemu "$dev" "$d" basic -no-reboot
    wait_tpm_exit "$d"
    norm "$d"
    local c="$d/console.txt"
    check_report "$c"
    expect "$c" '^VTPM-BOOTCOUNT 1$' "a fresh TPM (resetCount+restartCount 1)"
    expect "$c" '^VTPM-DONE' "the guest finished"
    log "$dev: $(grep -c '^VTPM-PCR' "$c") PCR values, $(grep '^VTPM-PCR sha256 0 ' "$c")"
}

case_reset() {
    local d="$WORK/reset"
    mkdir -p "$d"
    start_tpm "$d"
    # No -no-reboot: the guest's `reboot -f` resets the machine, and QEMU
    # resets the TPM (CMD_STOP, CMD_SET_BUFFERSIZE, CMD_INIT).
    run_qemu tpm-tis "$d" reset
    wait_tpm_exit "$d"
    norm "$d"
    local c="$d/console.txt"
    expect "$c" '^VTPM-REBOOTING' "the first boot rebooted"
    expect "$c" '^VTPM-SECOND-BOOT' "the machine came back"
    [ "$(grep -c '^VTPM-TPMRM-OK' "$c")" = 2 ] || die "reset: the TPM did not work in both boots"
    [ "$(grep -c '^VTPM-HWRNG-CURRENT tpm-rng' "$c")" = 2 ] || die "reset: no tpm-rng in both boots"
    expect "$c" '^VTPM-BOOTCOUNT 2$' "the second boot saw a second TPM startup"
    local p1 p2
    p1=$(grep '^VTPM-PCR sha256 0 ' "$c" | sed -n 1p)
    p2=$(grep '^VTPM-PCR sha256 0 ' "$c" | sed -n 2p)
    [ -n "$p1" ] && [ "$p1" = "$p2" ] || die "reset: PCR 0 differs between boots ($p1 / $p2)"
    expect "$c" '^VTPM-DONE' "the guest finished"
    log "reset: two boots, PCR 0 the same ($p1)"
}

# monitor DIR COMMAND: send a human-monitor command.
monitor() { echo "$2" >"$1/mon.in"; }

# wait_for FILE PATTERN SECONDS
wait_for() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

case_migrate() {
    local s="$WORK/mig-src" t="$WORK/mig-dst"
    mkdir -p "$s" "$t"
    start_tpm "$s"
    local src_tpm=$TPM_PID
    mkfifo "$s/mon.in" "$s/mon.out"
    qemu_args tpm-tis "$s" migrate
    timeout 300 "${QEMU[@]}" -no-reboot -chardev "pipe,id=mon0,path=$s/mon" \
        -mon chardev=mon0,mode=readline >"$s/qemu.out" 2>&1 &
    local qpid=$!
    PIDS+=("$qpid")
    cat "$s/mon.out" >"$s/monitor.log" &
    PIDS+=("$!")
    wait_for "$s/console.log" '^VTPM-LOOP 2 ' 180 || {
        cat "$s/console.log" "$s/qemu.out" >&2
        die "migrate: the source guest did not start its loop"
    }
    norm "$s"
    check_report "$s/console.txt"
    monitor "$s" "migrate \"exec:cat > $WORK/migration.bin\""
    local i
    for i in $(seq 1 600); do
        monitor "$s" "info migrate"
        sleep 0.2
        grep -q 'Migration status: completed' "$s/monitor.log" && break
        grep -q 'Migration status: failed' "$s/monitor.log" && {
            cat "$s/monitor.log" >&2
            die "migrate: migration failed"
        }
    done
    grep -q 'Migration status: completed' "$s/monitor.log" || die "migrate: did not complete"
    local last_src
    last_src=$(grep -c '^VTPM-LOOP' "$s/console.log")
    monitor "$s" "quit"
    wait "$qpid" || true
    TPM_PID=$src_tpm
    wait_tpm_exit "$s"
    log "migrate: source saved after $last_src loop iterations ($(stat -c %s "$WORK/migration.bin") octets)"

    # The destination: a new TPM on an EMPTY state directory; the state
    # arrives with the migration stream.
    start_tpm "$t"
    qemu_args tpm-tis "$t" migrate
    timeout 300 "${QEMU[@]}" -no-reboot -incoming "exec:cat $WORK/migration.bin" \
        >"$t/qemu.out" 2>&1 &
    qpid=$!
    PIDS+=("$qpid")
    wait_for "$t/console.log" '^VTPM-LOOP [0-9]+ .*$' 180 || {
        cat "$t/qemu.out" "$t/tpm.log" >&2 || true
        die "migrate: the destination guest did not carry on"
    }
    # Let it run a few iterations on the destination.
    local first
    first=$(grep '^VTPM-LOOP' "$t/console.log" | head -n 1 | awk '{print $2}')
    wait_for "$t/console.log" "^VTPM-LOOP $((first + 2)) " 60 || die "migrate: the destination loop stalled"
    kill "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    norm "$t"
    norm "$s"
    local c="$t/console.txt" pcr_src pcr_dst
    grep '^VTPM-LOOP' "$c" | grep -v 'tpmrm=ok' && die "migrate: TPM commands failed after migration"
    pcr_src=$(grep '^VTPM-PCR sha256 0 ' "$s/console.txt" | head -n 1 | awk '{print $4}')
    pcr_dst=$(grep '^VTPM-LOOP' "$c" | tail -n 1 | sed 's/.*pcr0=\([^ ]*\).*/\1/')
    [ -n "$pcr_src" ] && [ "$pcr_src" = "$pcr_dst" ] ||
        die "migrate: PCR 0 changed across migration ($pcr_src -> $pcr_dst)"
    grep '^VTPM-LOOP' "$c" | grep -q 'rng=[0-9a-f]\{16\} ' || die "migrate: no hwrng output after migration"
    grep '^VTPM-LOOP' "$c" | tail -n 1 | grep -q 'boots=1$' ||
        die "migrate: the TPM was restarted instead of resumed ($(grep '^VTPM-LOOP' "$c" | tail -n 1))"
    log "migrate: destination carried on from iteration $first; PCR 0 kept ($pcr_dst)"
    # QEMU was killed: the TPM sees its data socket close (--terminate).
    wait_tpm_exit "$t" || true
}

for c in "${CASES[@]}"; do
    log "case $c"
    case "$c" in
    tis) case_boot tpm-tis ;;
    crb) case_boot tpm-crb ;;
    reset) case_reset ;;
    migrate) case_migrate ;;
    *) die "unknown case $c" ;;
    esac
done
FAILED=0
log "PASS: ${CASES[*]} ($TPM_IMPL)"
