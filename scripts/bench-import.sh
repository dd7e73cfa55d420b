#!/usr/bin/env bash
# Imports one generated OpenMetrics history (with exemplars) into Prometheus blocks with
# `promtool tsdb create-blocks-from openmetrics` and into cairn with `cairn import`, and
# prints the rates, the ratio, the bytes on disk of each, and whether both hold the same
# samples (`promtool tsdb dump` against `cairn dump`, byte for byte).
#
#   scripts/bench-import.sh [SERIES] [STEPS]
#
# SERIES is gen_history's `--series`: series per metric family, so 17 series in all per unit
# (a counter, a histogram of 14 series, two gauges); STEPS is samples per series, 15 s apart.
# The defaults (100 and 3000: 5.1 M samples, 58 k exemplars, 12.5 h, about 600 MB of text)
# take promtool 2.42 about 20 s per run on a 2-core EPYC guest. The whole script takes about
# 90 s there after the build; the temporary directory needs about 2 GB (the file, two dumps).
#
# Environment: RUNS (default 3) runs of each tool, interleaved (promtool, cairn, promtool,
# ...), each into a fresh output directory; CARGO_TARGET_DIR is honoured; TMPDIR says where
# the temporary directory goes. Needs promtool on PATH (scripts/prometheus-tools.sh installs
# it) and jq or python3 to read `cairn stats --json`.
set -euo pipefail
cd "$(dirname "$0")/.."

SERIES=${1:-100}
STEPS=${2:-3000}
RUNS=${RUNS:-3}

die() {
  {
    echo
    echo "ERROR: $*"
    echo
  } >&2
  exit 1
}

[[ $SERIES =~ ^[1-9][0-9]*$ ]] || die "SERIES must be a positive integer, not '$SERIES'"
[[ $STEPS =~ ^[1-9][0-9]*$ ]] || die "STEPS must be a positive integer, not '$STEPS'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
command -v promtool >/dev/null 2>&1 ||
  die "promtool is not on PATH: this bench compares with it. Run scripts/prometheus-tools.sh (as root) or: sudo apt-get install --no-install-recommends prometheus"
if command -v jq >/dev/null 2>&1; then
  json_get() { jq -er "$2" "$1"; }
elif command -v python3 >/dev/null 2>&1; then
  # `.a.b` paths only, as used below.
  json_get() {
    python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].strip(".").split("."):
    v = v[k]
print(v)' "$1" "$2"
  }
else
  die "neither jq nor python3 is on PATH (needed to read cairn stats --json)"
fi

echo "== building (release)"
cargo build --release --locked -p cairn --bin cairn -p cairn-benches --bin gen_history
target=${CARGO_TARGET_DIR:-target}
cairn=$target/release/cairn
gen_history=$target/release/gen_history
[ -x "$cairn" ] && [ -x "$gen_history" ] || die "built binaries not found under $target/release"

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-import.XXXXXX")
trap 'rm -rf "$work"' EXIT
# So that an interrupted run still removes the temporary directory (through the EXIT trap).
trap 'exit 130' INT
trap 'exit 143' TERM

# Seconds since the epoch, with microseconds.
now() { echo "$EPOCHREALTIME"; }
# a / b, or a * b, with `digits` decimals.
div() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, a / b }'; }
# The median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Bytes of the regular files under the given paths.
file_bytes() { find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# Runs a command with its output going to the log file $1; writes "peak-RSS-KiB cpu-seconds"
# (user + system) to $work/usage, or "0 0" when /usr/bin/time is missing.
timed() {
  local log=$1
  shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M %U %S' -o "$work/time" "$@" >"$log" 2>&1 || {
      cat "$log" >&2
      die "failed: $*"
    }
    awk '{ printf "%d %.2f\n", $1, $2 + $3 }' "$work/time" >"$work/usage"
  else
    echo "0 0" >"$work/usage"
    "$@" >"$log" 2>&1 || {
      cat "$log" >&2
      die "failed: $*"
    }
  fi
}
# Prints one run's line and appends its wall and CPU seconds to the named arrays.
report_run() {
  local run=$1 tool=$2 t0=$3 t1=$4
  local -n walls=$5 cpus=$6
  local wall rss cpu
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  read -r rss cpu <"$work/usage"
  walls+=("$wall")
  cpus+=("$cpu")
  printf 'run %s  %-13s %8s s wall  %7s s cpu  %5s MiB peak RSS\n' "$run" "$tool" "$wall" "$cpu" "$(div "$rss" 1024 0)"
}

echo
echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:      $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)"
echo "memory:   $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg)"
echo "promtool: $(promtool --version 2>&1 | head -n 1)"
echo "cairn:    $("$cairn" --version) (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ', dirty tree'))"

echo
echo "== input"
history=$work/history.om.txt
"$gen_history" --series "$SERIES" --steps "$STEPS" --out "$history" 2>"$work/gen.log" ||
  {
    cat "$work/gen.log" >&2
    die "gen_history failed"
  }
summary=$(cat "$work/gen.log")
echo "gen_history --series $SERIES --steps $STEPS: ${summary#"$history": }"
samples=$(sed -n 's/.* \([0-9]*\) samples,.*/\1/p' <<<"$summary")
exemplars=$(sed -n 's/.* \([0-9]*\) exemplars,.*/\1/p' <<<"$summary")
[ -n "$samples" ] && [ -n "$exemplars" ] || die "cannot read the sample count from: $summary"

echo
echo "== $RUNS runs each, interleaved"
prom_wall=()
prom_cpu=()
cairn_wall=()
cairn_cpu=()
for run in $(seq 1 "$RUNS"); do
  # Keep only the last run's outputs (for the sizes and the dump check).
  rm -rf "$work/prom" "$work/cairn"
  t0=$(now)
  timed "$work/promtool.log" promtool tsdb create-blocks-from openmetrics "$history" "$work/prom"
  report_run "$run" promtool "$t0" "$(now)" prom_wall prom_cpu
  t0=$(now)
  timed "$work/cairn.log" "$cairn" import --data "$work/cairn" "$history"
  report_run "$run" "cairn import" "$t0" "$(now)" cairn_wall cairn_cpu
done

prom_median=$(median "${prom_wall[@]}")
cairn_median=$(median "${cairn_wall[@]}")
prom_cpu_median=$(median "${prom_cpu[@]}")
cairn_cpu_median=$(median "${cairn_cpu[@]}")
echo
echo "== rates (medians of $RUNS; samples/s = $samples samples / median wall seconds)"
printf '%-14s %9s s wall %12s samples/s   %9s s cpu\n' promtool "$prom_median" "$(div "$samples" "$prom_median" 0)" "$prom_cpu_median"
printf '%-14s %9s s wall %12s samples/s   %9s s cpu\n' "cairn import" "$cairn_median" "$(div "$samples" "$cairn_median" 0)" "$cairn_cpu_median"
echo "cairn / promtool: $(div "$prom_median" "$cairn_median" 2)x by wall time (target: >= 10x)"
if [ "$cairn_cpu_median" != 0 ] && [ "$prom_cpu_median" != 0 ]; then
  echo "                  $(div "$prom_cpu_median" "$cairn_cpu_median" 2)x by CPU time (user + system, all threads)"
fi

echo
echo "== bytes on disk (last run)"
"$cairn" stats --data "$work/cairn" --json >"$work/stats.json"
c_samples=$(json_get "$work/stats.json" .block_samples)
c_exemplars=$(json_get "$work/stats.json" .block_exemplars)
c_chunks=$(json_get "$work/stats.json" .bytes.sample_chunks)
c_ex_bytes=$(json_get "$work/stats.json" .bytes.exemplars)
c_index=$(json_get "$work/stats.json" .bytes.index)
c_total=$(json_get "$work/stats.json" .bytes.total)
c_blocks=$(json_get "$work/stats.json" .blocks)
shopt -s nullglob
prom_blocks=("$work"/prom/*/meta.json)
shopt -u nullglob
[ "${#prom_blocks[@]}" -gt 0 ] || die "promtool wrote no blocks into $work/prom"
p_chunks=$(file_bytes "$work"/prom/*/chunks)
p_index=$(file_bytes "$work"/prom/*/index)
p_total=$(file_bytes "$work/prom")
[ "$c_samples" = "$samples" ] || die "cairn holds $c_samples samples, the input $samples"
[ "$c_exemplars" = "$exemplars" ] || echo "NOTE: cairn holds $c_exemplars exemplars, the input $exemplars"
printf '%-34s %14s %14s\n' "" "promtool" "cairn"
printf '%-34s %14s %14s\n' "blocks" "${#prom_blocks[@]}" "$c_blocks"
printf '%-34s %14s %14s\n' "sample chunk bytes" "$p_chunks" "$c_chunks"
printf '%-34s %14s %14s\n' "bytes per sample" "$(div "$p_chunks" "$samples" 3)" "$(div "$c_chunks" "$c_samples" 3)"
printf '%-34s %14s %14s\n' "exemplar bytes (none in Prometheus)" "-" "$c_ex_bytes"
printf '%-34s %14s %14s\n' "bytes per exemplar" "-" "$(div "$c_ex_bytes" "$c_exemplars" 2)"
printf '%-34s %14s %14s\n' "index bytes" "$p_index" "$c_index"
printf '%-34s %14s %14s\n' "all bytes" "$p_total" "$c_total"
echo "cairn / promtool sample chunk bytes: $(div "$c_chunks" "$p_chunks" 4)  (target: <= 1)"
echo "cairn bytes per exemplar: $(div "$c_ex_bytes" "$c_exemplars" 2)  (target: <= 32)"

echo
echo "== same samples? (promtool tsdb dump vs cairn dump)"
# promtool opens the directory as a database and wants a wal/ directory there.
mkdir -p "$work/prom/wal"
promtool tsdb dump "$work/prom" >"$work/prom.dump" 2>"$work/prom-dump.log" ||
  {
    cat "$work/prom-dump.log" >&2
    die "promtool tsdb dump failed"
  }
"$cairn" dump --data "$work/cairn" >"$work/cairn.dump"
lines=$(wc -l <"$work/prom.dump")
if cmp "$work/prom.dump" "$work/cairn.dump"; then
  echo "identical: $lines lines, $(file_bytes "$work/prom.dump") bytes"
else
  die "the dumps differ (promtool: $lines lines, cairn: $(wc -l <"$work/cairn.dump") lines)"
fi
[ "$lines" = "$samples" ] || die "the dumps hold $lines samples, the input $samples"
