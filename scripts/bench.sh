#!/usr/bin/env bash
# The whole benchmark in one command (docs/benchmarks.md):
#   vtpm-core vs libtpms in process, vtpm-host-sim vs swtpm over the socket,
#   footprint (heap, no_std binary size) and scaling.
#
#   scripts/bench.sh [vtpm-bench options]     e.g. --iters 500 --mode engine
#
# Installs libtpms-dev, swtpm and eatmydata when run as root and they are
# missing. Results: target/vtpm-bench/results.json and results.md.
# Needs >= 2 CPUs for the pinning (servers on CPU 1, client on CPU 0).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -e /usr/include/libtpms/tpm_library.h ] || need+=(libtpms-dev libtpms0)
command -v swtpm >/dev/null || need+=(swtpm)
command -v eatmydata >/dev/null || need+=(eatmydata)
command -v taskset >/dev/null || need+=(util-linux)
command -v size >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
    else
        echo "bench.sh: missing ${need[*]} (run as root to install them)" >&2
        exit 1
    fi
fi

out=target/vtpm-bench
mkdir -p "$out"

cargo build --release -p vtpm-host-sim -p vtpm-bench

# The no_std build (a binary linking vtpm-core and vtpm-svsm), stripped.
nostd_args=()
if [ -f tests/nostd-link/Cargo.toml ] &&
    cargo build --release --manifest-path tests/nostd-link/Cargo.toml \
        --target-dir target/nostd-link; then
    strip -o "$out/vtpm-nostd-link.stripped" target/nostd-link/release/vtpm-nostd-link
    nostd_args=(--nostd-binary "$out/vtpm-nostd-link.stripped")
else
    echo "bench.sh: the no_std link binary did not build; its size is not reported" >&2
fi

echo "load average before: $(cat /proc/loadavg)" >&2
target/release/vtpm-bench "${nostd_args[@]}" \
    --json "$out/results.json" --markdown "$out/results.md" "$@"
