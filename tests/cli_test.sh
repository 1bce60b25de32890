#!/usr/bin/env bash
# Exercises the onnxc command-line tool: help and version, `run` with .pb and
# .npy inputs, generated inputs, NAME=FILE binding and --output-dir, `info`,
# `test` on passing, failing and unsupported cases, and error handling.
#
# Usage: cli_test.sh ONNXC_BINARY SOURCE_ROOT [BUILD_DIR]
# The ONNX backend tests are taken from $ONNXC_SHARED/onnx-backend-tests/node
# (default SOURCE_ROOT/../shared), else the committed fixtures under
# SOURCE_ROOT/fixtures are used; with neither the test is skipped (exit 77).
# Small models, .pb and .npy files are also built here byte by byte.
set -u

onnxc=${1:?usage: cli_test.sh ONNXC_BINARY SOURCE_ROOT [BUILD_DIR]}
src=${2:?usage: cli_test.sh ONNXC_BINARY SOURCE_ROOT [BUILD_DIR]}
shared=${ONNXC_SHARED:-$src/../shared}
node=$shared/onnx-backend-tests/node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- helpers ------------------------------------------------------------------

fail() {
    echo "FAILED: $*" >&2
    if [ -f "$work/out" ]; then
        echo "--- stdout of the last command:" >&2
        head -c 4000 "$work/out" >&2
        echo "--- stderr of the last command:" >&2
        head -c 4000 "$work/err" >&2
    fi
    exit 1
}

check() { echo "check: $*"; }

# expect CODE ARGS...: runs onnxc ARGS (stdout, stderr to files) and wants exit code CODE.
expect() {
    local want=$1
    shift
    "$onnxc" "$@" >"$work/out" 2>"$work/err"
    local got=$?
    [ "$got" = "$want" ] || fail "'onnxc $*' exited with $got, expected $want"
}
out_has() { grep -qE -- "$1" "$work/out" || fail "stdout lacks /$1/"; }
err_has() { grep -qE -- "$1" "$work/err" || fail "stderr lacks /$1/"; }
out_lacks() { ! grep -qE -- "$1" "$work/out" || fail "stdout has /$1/"; }
# An error: exit code CODE and 'onnxc: error:' on stderr.
expect_error() {
    expect "$@"
    err_has '^onnxc: error: '
}

# ---- protobuf and .npy bytes, as hex strings ------------------------------------

varint() {
    local n=$1 hex=""
    while ((n >= 128)); do
        hex+=$(printf '%02x' $(((n & 127) | 128)))
        n=$((n >> 7))
    done
    printf '%s%02x' "$hex" "$n"
}
str_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# pb_int FIELD VALUE, pb_bytes FIELD HEX, pb_str FIELD TEXT: one protobuf field.
pb_int() { printf '%s%s' "$(varint $(($1 << 3)))" "$(varint "$2")"; }
pb_bytes() { printf '%s%s%s' "$(varint $(($1 << 3 | 2)))" "$(varint $((${#2} / 2)))" "$2"; }
pb_str() { pb_bytes "$1" "$(str_hex "$2")"; }
# write_hex HEX FILE
write_hex() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')" >"$2"; }

# Little-endian float32 bit patterns.
f_m1=000080bf f_2=00000040 f_m05=000000bf f_3=00004040 f_0=00000000 f_m2=000000c0 f_1=0000803f
input_hex=$f_m1$f_2$f_m05$f_3$f_0$f_m2 # [[-1, 2, -0.5], [3, 0, -2]]
relu_hex=$f_0$f_2$f_0$f_3$f_0$f_0       # its Relu

# TensorProto: NAME TYPE DIMS RAW_HEX
tensor_pb() {
    local hex="" d
    for d in $3; do hex+=$(pb_int 1 "$d"); done
    printf '%s%s%s%s' "$hex" "$(pb_int 2 "$2")" "$(pb_str 8 "$1")" "$(pb_bytes 9 "$4")"
}
# ValueInfoProto of a float tensor: NAME DIMS (numbers or symbolic names)
value_info() {
    local dims="" d
    for d in $2; do
        if [[ $d =~ ^[0-9]+$ ]]; then
            dims+=$(pb_bytes 1 "$(pb_int 1 "$d")") # dim_value
        else
            dims+=$(pb_bytes 1 "$(pb_str 2 "$d")") # dim_param
        fi
    done
    local tensor_type
    tensor_type=$(pb_int 1 1)$(pb_bytes 2 "$dims")
    printf '%s%s' "$(pb_str 1 "$1")" "$(pb_bytes 2 "$(pb_bytes 1 "$tensor_type")")"
}
# ModelProto: GRAPH_HEX [EXTRA_OPSET_DOMAIN]
model_pb() {
    local opsets
    opsets=$(pb_bytes 8 "$(pb_str 1 "")$(pb_int 2 13)")
    [ -n "${2:-}" ] && opsets+=$(pb_bytes 8 "$(pb_str 1 "$2")$(pb_int 2 1)")
    printf '%s%s%s%s%s' "$(pb_int 1 8)" "$(pb_str 2 cli_test)" "$(pb_str 3 1.0)" "$opsets" \
        "$(pb_bytes 7 "$1")"
}
# GraphProto with one node: NAME NODE_HEX INITIALIZER_HEX (or "") INPUT_HEX OUTPUT_HEX
graph_pb() {
    printf '%s%s%s%s%s' "$(pb_bytes 1 "$2")" "$(pb_str 2 "$1")" \
        "$([ -n "$3" ] && pb_bytes 5 "$3")" "$(pb_bytes 11 "$4")" "$(pb_bytes 12 "$5")"
}
# NodeProto: OP_TYPE DOMAIN INPUTS OUTPUTS
node_pb() {
    local hex="" n
    for n in $3; do hex+=$(pb_str 1 "$n"); done
    for n in $4; do hex+=$(pb_str 2 "$n"); done
    printf '%s%s%s' "$hex" "$(pb_str 4 "$1")" "$([ -n "$2" ] && pb_str 7 "$2")"
}

# relu.onnx: y = Relu(x), x and y float [N, 3].
graph=$(graph_pb relu "$(node_pb Relu "" x y)" "" "$(value_info x "N 3")" "$(value_info y "N 3")")
write_hex "$(model_pb "$graph")" "$work/relu.onnx"
# gemm.onnx: Y = A B with A float [2, 4] and the initializer B float [4, 3].
b_hex=$(for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do printf '%s' $f_1; done)
graph=$(graph_pb gemm "$(node_pb Gemm "" "A B" Y)" "$(tensor_pb B 1 "4 3" "$b_hex")" \
    "$(value_info A "2 4")" "$(value_info Y "2 3")")
write_hex "$(model_pb "$graph")" "$work/gemm.onnx"
# frobnicate.onnx: valid ONNX with an op of a custom domain onnxc does not know.
graph=$(graph_pb frob "$(node_pb Frobnicate com.example x y)" "" "$(value_info x "2 3")" \
    "$(value_info y "2 3")")
write_hex "$(model_pb "$graph" com.example)" "$work/frobnicate.onnx"

write_hex "$(tensor_pb x 1 "2 3" "$input_hex")" "$work/x.pb"
write_hex "$(tensor_pb other_name 1 "2 3" "$input_hex")" "$work/unnamed.pb"
write_hex "$(tensor_pb y 1 "2 3" "$relu_hex")" "$work/y.pb"
write_hex "$(tensor_pb x 1 "3 2" "$input_hex")" "$work/x_3x2.pb"

# .npy version 1.0: DESCR SHAPE FORTRAN DATA_HEX FILE (header padded to 64 bytes)
npy() {
    local header="{'descr': '$1', 'fortran_order': $3, 'shape': $2, }"
    while (((10 + ${#header} + 1) % 64)); do header+=" "; done
    header+=$'\n'
    local len=${#header}
    local hlen
    hlen=$(printf '%02x%02x' $((len & 255)) $((len >> 8)))
    write_hex "$(str_hex $'\x93NUMPY')0100$hlen$(str_hex "$header")$4" "$5"
}
npy '<f4' '(2, 3)' False "$input_hex" "$work/x.npy"
npy '<f4' '(2, 3)' True "$input_hex" "$work/fortran.npy"
npy '<f4' '(2, 3)' False "${input_hex:0:40}" "$work/short.npy"
npy '<f4' '(2, 3' False "$input_hex" "$work/badheader.npy"
npy '<U4' '(2, 3)' False "$input_hex" "$work/unicode.npy"
npy '>f4' '(2, 3)' False bf80000040000000bf0000004040000000000000c0000000 "$work/bigendian.npy"

# A backend-layout case folder: DIR MODEL INPUT_PB OUTPUT_PB
make_case() {
    mkdir -p "$1/test_data_set_0"
    cp "$2" "$1/model.onnx"
    cp "$3" "$1/test_data_set_0/input_0.pb"
    cp "$4" "$1/test_data_set_0/output_0.pb"
}

# ---- the real cases ----------------------------------------------------------------

if [ -d "$node/test_relu" ]; then
    real=$node/test_relu
    echo "using the ONNX backend tests in $node"
elif compgen -G "$src/fixtures/*/model.onnx" >/dev/null; then
    real=$(dirname "$(ls -dSr "$src"/fixtures/*/model.onnx | head -n 1)") # the smallest
    echo "no ONNX backend tests at $node; using the fixtures in $src/fixtures"
else
    echo "neither $node nor fixtures under $src/fixtures: skipped"
    exit 77
fi
real_name=$(basename "$real")

# ---- help and version ----------------------------------------------------------------

check "--help, help, CMD --help, --version"
expect 0 --help
out_has '^Usage: onnxc COMMAND'
out_has 'run MODEL' && out_has 'info MODEL' && out_has 'test CASE_DIR' && out_has 'bench MODEL'
expect 0 help
out_has '^Usage: onnxc COMMAND'
for cmd in run info test bench; do
    expect 0 "$cmd" --help
    out_has "^Usage: onnxc $cmd"
    expect 0 help "$cmd"
    out_has "^Usage: onnxc $cmd"
done
expect 0 --version
[ "$(cat "$work/out")" = "onnxc 0.1.0" ] || fail "--version printed '$(cat "$work/out")'"

# ---- run -------------------------------------------------------------------------------

check "run with a .pb input"
expect 0 run "$work/relu.onnx" --input "$work/x.pb"
out_has "^output 0 'y': float32 \[2, 3\]"
out_has "top-3: class 1 \(2\), class 0 \(0\), class 2 \(0\)"
out_has "row 1 top-3: class 0 \(3\)"
[ ! -s "$work/err" ] || fail "run with every input given printed to stderr"

check "run with a .npy input (handmade, version 1.0)"
expect 0 run "$work/relu.onnx" --input "$work/x.npy"
out_has "row 0 top-3: class 1 \(2\)"
check "run with a big-endian .npy input"
expect 0 run "$work/relu.onnx" --input "$work/bigendian.npy"
out_has "row 1 top-3: class 0 \(3\)"

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check "run with .npy files written by numpy (float32, C order, and a version 2.0 header)"
    /usr/bin/python3 - "$work" <<'EOF'
import sys, numpy as np
from numpy.lib import format as npf
w = sys.argv[1]
a = np.array([[-1, 2, -0.5], [3, 0, -2]], dtype=np.float32)
np.save(w + "/np.npy", a)
np.save(w + "/np_f64.npy", a.astype(np.float64))
np.save(w + "/np_fortran.npy", np.asfortranarray(np.ones((2, 3), np.float32)))
with open(w + "/np_v2.npy", "wb") as f:
    npf.write_array(f, a, version=(2, 0))
EOF
    expect 0 run "$work/relu.onnx" --input "$work/np.npy"
    out_has "row 1 top-3: class 0 \(3\)"
    expect 0 run "$work/relu.onnx" --input "$work/np_v2.npy"
    out_has "row 1 top-3: class 0 \(3\)"
    expect_error 1 run "$work/relu.onnx" --input "$work/np_f64.npy"
    err_has "float32|float64"
    expect_error 1 run "$work/relu.onnx" --input "$work/np_fortran.npy"
    err_has "Fortran"
else
    echo "note: /usr/bin/python3 with numpy not found; numpy-written .npy files not checked"
fi

check "rejecting bad .npy files"
expect_error 1 run "$work/relu.onnx" --input "$work/fortran.npy"
err_has "Fortran-order"
expect_error 1 run "$work/relu.onnx" --input "$work/short.npy"
err_has "data is 20 bytes"
expect_error 1 run "$work/relu.onnx" --input "$work/badheader.npy"
err_has "invalid .npy header"
expect_error 1 run "$work/relu.onnx" --input "$work/unicode.npy"
err_has "not supported"

check "run with no input: generated values, said on stderr"
expect 0 run "$work/relu.onnx" --seed 7
err_has "^onnxc: note: input 'x' not given: using float32 \[1, 3\] of uniform random values in \[0, 1\)"
err_has "\(seed 7\); symbolic dims 'N' taken as 1$"
out_has "^output 0 'y': float32 \[1, 3\]"
cp "$work/out" "$work/seed7.out"
expect 0 run "$work/relu.onnx" --seed 7
cmp -s "$work/out" "$work/seed7.out" || fail "the same seed gave different outputs"

check "run --output-dir writes output_0.pb (and creates the folder)"
expect 0 run "$work/relu.onnx" --input "$work/x.pb" --output-dir "$work/outdir/nested"
[ -s "$work/outdir/nested/output_0.pb" ] || fail "no output_0.pb written"
out_has "wrote .*output_0.pb"
cmp -s "$work/outdir/nested/output_0.pb" "$work/y.pb" || {
    # Encodings may differ; the test command judges the values instead.
    make_case "$work/roundtrip" "$work/relu.onnx" "$work/x.pb" "$work/outdir/nested/output_0.pb"
    expect 0 test "$work/roundtrip"
    out_has "^PASS roundtrip$"
}

check "run NAME=FILE binding, and a wrong NAME"
expect 0 run "$work/relu.onnx" --input "x=$work/unnamed.pb"
out_has "row 1 top-3: class 0 \(3\)"
expect_error 1 run "$work/relu.onnx" --input "nope=$work/x.pb"
err_has "no input named 'nope'"
check "run: the same input twice, and too many inputs"
expect_error 1 run "$work/relu.onnx" --input "$work/x.pb" --input "x=$work/x.npy"
err_has "given twice"
expect_error 1 run "$work/relu.onnx" --input "$work/unnamed.pb" --input "$work/x.npy"
err_has "already given"

check "run on a real case ($real_name) with its input .pb"
expect 0 run "$real/model.onnx" --input "$real/test_data_set_0/input_0.pb" \
    --output-dir "$work/real_out" --threads 1
out_has "^output 0 '"
[ -s "$work/real_out/output_0.pb" ] || fail "no output_0.pb written for $real_name"

# ---- run --profile ------------------------------------------------------------------

# check_trace FILE X_EVENTS: FILE is a Chrome trace of X_EVENTS complete events
# (the run and its nodes).
check_trace() {
    [ -s "$1" ] || fail "no trace written to $1"
    if /usr/bin/python3 -c 'import json' 2>/dev/null; then
        /usr/bin/python3 - "$1" "$2" <<'EOF' || fail "$1 is not a valid Chrome trace"
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    trace = json.load(f)
events = trace["traceEvents"]
x = [e for e in events if e["ph"] == "X"]
assert len(x) == int(sys.argv[2]), "%d X events" % len(x)
for e in x:
    for key in ("name", "cat", "ts", "dur", "pid", "tid"):
        assert key in e, "an event lacks %s: %s" % (key, e)
    assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
    assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
run = x[0]
assert run["name"] == "run", run
for e in x[1:]:
    assert e["args"]["op_type"] == e["cat"], e
    assert e["ts"] >= run["ts"] and e["ts"] + e["dur"] <= run["ts"] + run["dur"] + 1e-3, e
    assert all(isinstance(s, str) for s in e["args"]["inputs"] + e["args"]["outputs"]), e
assert any(e["ph"] == "M" and e["name"] == "process_name" for e in events)
EOF
    else
        echo "note: /usr/bin/python3 not found; the trace's structure is checked with grep"
        grep -q '^{"displayTimeUnit":"ms","traceEvents":\[$' "$1" || fail "$1: no traceEvents"
        [ "$(grep -c '"ph":"X"' "$1")" = "$2" ] || fail "$1: not $2 X events"
        tail -n 1 "$1" | grep -q '^\]}$' || fail "$1: not closed"
    fi
}

check "run --profile writes a Chrome trace (JSON, one X event per node)"
expect 0 run "$work/relu.onnx" --input "$work/x.pb" --profile "$work/relu_trace.json"
out_has "^wrote .*relu_trace.json \(a trace of 1 nodes\)$"
out_has "row 1 top-3: class 0 \(3\)"
check_trace "$work/relu_trace.json" 2
grep -q '"name":"Relu#0","cat":"Relu","ph":"X"' "$work/relu_trace.json" ||
    fail "the unnamed Relu node is not labelled Relu#0"
grep -q '"inputs":\["x: float32 \[2, 3\]"\],"outputs":\["y: float32 \[2, 3\]"\]' \
    "$work/relu_trace.json" || fail "the trace lacks the node's shapes"
expect 0 run "$real/model.onnx" --input "$real/test_data_set_0/input_0.pb" --threads 1 \
    --profile "$work/real_trace.json"
n_nodes=$(sed -n 's/^wrote .* (a trace of \([0-9]*\) nodes)$/\1/p' "$work/out")
[ -n "$n_nodes" ] && [ "$n_nodes" -ge 1 ] || fail "run --profile did not say how many nodes"
check_trace "$work/real_trace.json" $((n_nodes + 1))
expect_error 1 run "$work/relu.onnx" --input "$work/x.pb" --profile "$work/no_such_dir/t.json"
err_has "cannot create .*no_such_dir/t.json"
expect_error 2 run "$work/relu.onnx" --profile
err_has "needs a value"

# ---- bench -------------------------------------------------------------------------------

bench_line='^bench: median_ms=[0-9]+\.[0-9]+ p90_ms=[0-9]+\.[0-9]+ min_ms=[0-9]+\.[0-9]+ threads='
# last_line_is REGEX: the last line of stdout matches.
last_line_is() {
    tail -n 1 "$work/out" | grep -qE -- "$1" || fail "the last line '$(tail -n 1 "$work/out")' lacks /$1/"
}

check "bench: load, latency, peak RSS, and the bench: line last"
expect 0 bench "$work/relu.onnx" --input "$work/x.pb" --iters 3 --warmup 2 --threads 1
out_has "^model: .*relu.onnx$"
out_has "^load: [0-9]+\.[0-9]+ ms"
out_has "^session: 1 thread, created in"
out_has "^first run: [0-9]+\.[0-9]+ ms"
out_has "^timed runs: 3$"
out_has "^latency: mean [0-9.]+ ms, median [0-9.]+ ms, p90 [0-9.]+ ms, min [0-9.]+ ms, max [0-9.]+ ms"
out_has "^peak RSS: [0-9]+\.[0-9] MiB$"
out_lacks "time per op type"
last_line_is "${bench_line}1\$"
[ ! -s "$work/err" ] || fail "bench with every input given printed to stderr"

check "bench with a generated input, --threads 0 (the core count), --warmup 0, --no-optimize"
expect 0 bench "$work/relu.onnx" --iters 1 --warmup 0 --threads 0 --seed 3 --no-optimize
err_has "^onnxc: note: input 'x' not given: using float32 \[1, 3\]"
out_lacks "^first run"
out_has "^timed runs: 1 \(the first also plans the memory\)$"
out_has "; --no-optimize\)$"
last_line_is "${bench_line}[1-9][0-9]*\$"

check "bench --per-node: time per op type and the slowest nodes, from the profile"
expect 0 bench "$work/relu.onnx" --input "x=$work/x.npy" --iters 2 --per-node --threads 2
out_has "^time per op type"
out_has "^  Relu +1 +[0-9]+\.[0-9]+ +100\.0%$"
out_has "^slowest nodes"
out_has "^ +[0-9]+\.[0-9]+ +100\.0%  Relu +\[2, 3\] +Relu#0$"
last_line_is "${bench_line}2\$"

check "bench --profile writes the last timed run as a Chrome trace"
expect 0 bench "$real/model.onnx" --input "$real/test_data_set_0/input_0.pb" --iters 2 \
    --threads 1 --per-node --profile "$work/bench_trace.json"
out_has "^wrote .*bench_trace.json"
n_nodes=$(sed -n 's/^wrote .* (a trace of the last run, \([0-9]*\) nodes)$/\1/p' "$work/out")
[ -n "$n_nodes" ] || fail "bench --profile did not say how many nodes"
check_trace "$work/bench_trace.json" $((n_nodes + 1))
last_line_is "${bench_line}1\$"

check "bench errors: bad --iters/--warmup/--threads, no model, a missing model, a bad input"
expect_error 2 bench "$work/relu.onnx" --iters 0
err_has "--iters takes an integer from 1 to"
expect_error 2 bench "$work/relu.onnx" --iters many
expect_error 2 bench "$work/relu.onnx" --iters
err_has "needs a value"
expect_error 2 bench "$work/relu.onnx" --warmup -1
err_has "--warmup takes an integer from 0 to"
expect_error 2 bench "$work/relu.onnx" --threads -2
expect_error 2 bench "$work/relu.onnx" --per-node=yes
err_has "unknown option '--per-node=yes'"
expect_error 2 bench
err_has "no model given"
expect_error 2 bench "$work/relu.onnx" "$work/gemm.onnx"
expect_error 1 bench "$work/no_such_model.onnx"
err_has "no_such_model.onnx"
expect_error 1 bench "$work/relu.onnx" --input "$work/x_3x2.pb"
err_has "input 'x' has shape"
out_lacks "^bench: "

# ---- info --------------------------------------------------------------------------

check "info on a model with an initializer (Gemm)"
expect 0 info "$work/gemm.onnx"
out_has "^IR version: 8$"
out_has "^producer: cli_test 1.0$"
out_has "^opsets: ai.onnx 13$"
out_has "^  A: float32 \[2, 4\]$"
out_has "^  Y: float32 \[2, 3\]$"
out_has "^  Gemm: 1$"
out_has "^parameters: 12 in 1 initializers, 48 bytes"
out_has "^MACs: 24 \(Conv 0 in 0 nodes, Gemm 24 in 1 nodes\)$"

check "info on a model with a symbolic dim"
expect 0 info "$work/relu.onnx"
out_has "^  x: float32 \[N, 3\]$"
out_has "^  Relu: 1$"
out_has "^parameters: 0 in 0 initializers"
out_has "^MACs: 0 .*at symbolic dims = 1"

if [ -d "$node/test_conv_with_strides_padding" ]; then
    check "info on test_conv_with_strides_padding (MACs of a Conv)"
    expect 0 info "$node/test_conv_with_strides_padding/model.onnx"
    out_has "^  Conv: 1$"
    out_has "^MACs: 108 \(Conv 108 in 1 nodes, Gemm 0 in 0 nodes\)$"
fi
if [ -d "$node/test_gemm_default_no_bias" ]; then
    check "info on test_gemm_default_no_bias (MACs of a Gemm)"
    expect 0 info "$node/test_gemm_default_no_bias/model.onnx"
    out_has "^MACs: 60 \(Conv 0 in 0 nodes, Gemm 60 in 1 nodes\)$"
fi

# ---- test ----------------------------------------------------------------------------

check "test on a passing case ($real_name)"
expect 0 test "$real"
out_has "^PASS $real_name$"
out_has "^1 passed, 0 failed, 0 skipped$"

check "test on a handmade passing case"
make_case "$work/handmade_relu" "$work/relu.onnx" "$work/x.pb" "$work/y.pb"
expect 0 test "$work/handmade_relu"
out_has "^PASS handmade_relu$"

check "test on a failing case (a copy of $real_name with a corrupted expected output)"
cp -r "$real" "$work/corrupted"
# The last element of raw_data, the last field ONNX writes, becomes 1e30.
expected=$work/corrupted/test_data_set_0/output_0.pb
size=$(wc -c <"$expected")
printf '\xca\xf2\x49\x71' | dd of="$expected" bs=1 seek=$((size - 4)) conv=notrunc status=none
expect 1 test "$work/corrupted"
out_has "^FAIL corrupted: output 0 '.*': 1 of [0-9]+ elements differ .*worst at \[.*\]: got .*, expected 1.00000002e\+30$"
out_has "^0 passed, 1 failed, 0 skipped$"

check "test with a looser tolerance: passes, and says what the ONNX tolerance rejects"
# An absolute term of once the largest expected value (1e30) covers the corrupted element.
expect 0 test --atol-scale 1 "$work/corrupted"
out_has "^PASS corrupted \(output 0 '.*': 1 of [0-9]+ elements outside the ONNX tolerance 1e-7 \+ 1e-3\*\|expected\|, worst .*expected 1.00000002e\+30\)$"
expect 1 test --rtol 0.5 --atol 0 "$work/corrupted"
out_has "tolerance 0 \+ 0.5\*\|expected\|"
expect 2 test --atol -1 "$work/corrupted"
err_has "non-negative number"

check "test on a shape mismatch"
make_case "$work/wrong_shape" "$work/relu.onnx" "$work/x.pb" "$work/x.pb"
write_hex "$(tensor_pb y 1 "3 2" "$relu_hex")" "$work/wrong_shape/test_data_set_0/output_0.pb"
expect 1 test "$work/wrong_shape"
out_has "^FAIL wrong_shape: output 0 'y': shape \[2, 3\], expected \[3, 2\]$"

check "test on an unsupported case (SKIP; exit 77 when every case is skipped)"
make_case "$work/unsupported" "$work/frobnicate.onnx" "$work/x.pb" "$work/y.pb"
expect 77 test "$work/unsupported"
out_has "^SKIP unsupported: .*Frobnicate"
out_has "^0 passed, 0 failed, 1 skipped$"

check "test on several cases, a missing one included: one summary, exit 1"
expect 1 test "$real" "$work/unsupported" "$work/corrupted" "$work/no_such_case"
out_has "^FAIL no_such_case: "
summary=$(tail -n 1 "$work/out")
[ "$summary" = "1 passed, 2 failed, 1 skipped" ] || fail "the summary is '$summary'"

# ---- errors --------------------------------------------------------------------------

check "errors: missing model, garbage model, empty model"
expect_error 1 run "$work/no_such_model.onnx"
err_has "no_such_model.onnx"
expect_error 1 info "$work/no_such_model.onnx"
printf 'this is not an ONNX model\n\x93\xff\xff\xff\x0f' >"$work/garbage.onnx"
expect_error 1 run "$work/garbage.onnx"
expect_error 1 info "$work/garbage.onnx"
: >"$work/empty.onnx"
expect_error 1 info "$work/empty.onnx"
check "errors: missing input file, input of the wrong shape"
expect_error 1 run "$work/relu.onnx" --input "$work/no_such_input.pb"
err_has "no_such_input.pb"
expect_error 1 run "$work/relu.onnx" --input "$work/x_3x2.pb"
err_has "input 'x' has shape \[N, 3\]|input 'x' has shape \[\?, 3\]"

check "usage errors: unknown command and options, missing arguments (exit 2)"
expect_error 2
expect_error 2 frobnicate
err_has "unknown command 'frobnicate'"
expect_error 2 --frobnicate
expect_error 2 run "$work/relu.onnx" --frobnicate
err_has "unknown option '--frobnicate'"
expect_error 2 run
err_has "no model given"
expect_error 2 run "$work/relu.onnx" --input
err_has "needs a value"
expect_error 2 run "$work/relu.onnx" --threads many
expect_error 2 run "$work/relu.onnx" --seed -1
expect_error 2 run "$work/relu.onnx" "$work/gemm.onnx"
expect_error 2 info
expect_error 2 test
expect_error 2 test --timeout 0 "$real"

echo "all CLI checks passed"
