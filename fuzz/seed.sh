#!/usr/bin/env bash
# Copies the conformance suites into the git-ignored seed corpus fuzz/corpus/expfmt-seed/.
#
# Other projects' test data is never committed into cairn: it is copied here at fuzz time
# from ../shared/conformance (or $CAIRN_SHARED/conformance). Safe to re-run: the folder is
# emptied first.
#
#   fuzz/seed.sh
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -a expfmt \
#       corpus/expfmt-work corpus/expfmt corpus/expfmt-seed -- -max_len=4096
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="${CAIRN_SHARED:-$here/../../shared}"
conf="$shared/conformance"
out="$here/corpus/expfmt-seed"
# libFuzzer runs with -max_len=4096; bigger files are also cut into line-aligned pieces.
max_len=4096

if [[ ! -d "$conf" ]]; then
    echo "seed.sh: no conformance data at $conf (set CAIRN_SHARED to the shared/ folder)" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"

add() { # add SRC NAME: copy one file, and its line-aligned pieces when it is big
    local src="$1" name="$2"
    cp "$src" "$out/$name"
    chmod u+w "$out/$name"
    if [[ $(wc -c <"$src") -gt $max_len ]]; then
        split -C "$max_len" -d -a 3 "$src" "$out/$name.part"
    fi
}

# The OpenMetrics suite: one exposition per case.
for f in "$conf"/openmetrics/*/metrics; do
    [[ -f "$f" ]] || continue
    add "$f" "om-$(basename "$(dirname "$f")")"
done

# Prometheus' textparse inputs (both formats, including historical/).
while IFS= read -r -d '' f; do
    rel="${f#"$conf"/prometheus-textparse/}"
    add "$f" "tp-${rel//\//-}"
done < <(find "$conf/prometheus-textparse" -type f -name '*.txt' ! -name invalid_inputs.txt -print0)

# The error tables, one input per file: invalid_inputs.txt cases are split on "\n----\n",
# parse_error_cases.jsonl carries the exact bytes in input_b64. Needs python3; skipped without.
if command -v python3 >/dev/null; then
    python3 - "$conf/prometheus-textparse" "$out" <<'PY'
import base64, json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
inv = src / "invalid_inputs.txt"
if inv.is_file():
    data = inv.read_bytes()
    data = data[:-1] if data.endswith(b"\n") else data
    for i, case in enumerate(data.split(b"\n----\n")):
        (out / f"tp-invalid-{i:03}").write_bytes(case)
        n += 1
jl = src / "parse_error_cases.jsonl"
if jl.is_file():
    for i, line in enumerate(jl.read_text().splitlines()):
        if line.strip():
            (out / f"tp-error-case-{i:03}").write_bytes(base64.b64decode(json.loads(line)["input_b64"]))
            n += 1
print(f"seed.sh: {n} inputs from the error tables")
PY
else
    echo "seed.sh: python3 not found; the error tables (invalid_inputs.txt, parse_error_cases.jsonl) are left out" >&2
fi

echo "seed.sh: $(find "$out" -type f | wc -l) seed inputs in $out"
