#!/usr/bin/env bash
# Runs `onnxc test` over every case folder under the given folders of the
# ONNX backend tests (node/, pytorch-converted/, ...). Passes
# when no case fails, crashes or hangs; cases onnxc cannot run are SKIPs that
# must name what is unsupported. Prints the counts and the skip reasons.
set -euo pipefail
onnxc=$1
shift
cases=()
for dir in "$@"; do
  [ -d "$dir" ] || { echo "skipped: $dir is absent"; exit 77; }
  cases+=("$dir"/*/)
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
"$onnxc" test --timeout 60 "${cases[@]}" >"$out"
rc=$?
set -e
grep '^FAIL' "$out" || true
echo "skip reasons (most common first):"
grep '^SKIP' "$out" | sed -E 's/^SKIP [^:]+: //; s/ \(domain [^)]*\)//g; s/node ('"'"'[^'"'"']*'"'"'|#[0-9]+) //g' |
  cut -c1-100 | sort | uniq -c | sort -rn >"$out.reasons" || true
sed -n '1,40p' "$out.reasons"
rm -f "$out.reasons"
# A SKIP must say what is unsupported: an op, an attribute, a type or an opset.
vague=$(grep '^SKIP' "$out" | grep -viE 'unsupported|not supported|supports|not implemented|type|opset|attribute|depends on' || true)
if [ -n "$vague" ]; then
  echo "SKIP lines without a reason:"
  echo "$vague" | head -n 20
  exit 1
fi
tail -n 1 "$out"
[ "$rc" -eq 0 ]
