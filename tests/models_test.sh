#!/usr/bin/env bash
# Full-size model tests (meson suite 'models').
#
#   tests/models_test.sh ONNXC_BIN WORK_DIR EXPORT_PY [CASE...]
#
# Exports the full-size cases of fixtures/export.py (AlexNet, the notebook's
# InceptionModule at 128x128, VGG11/16, GoogLeNet, ResNet18 at several opsets, a
# dynamic-batch ResNet18) into WORK_DIR, re-exporting a case only when it is
# missing or was made by a different export.py (sha256 stamp in WORK_DIR/.stamps),
# and the opset-6 and opset-3 Caffe2-style cases of fixtures/zoo_like.py (next to
# EXPORT_PY) into WORK_DIR, their expected outputs taken from the committed
# opset-7 cases (no ONNX Runtime needed; stamp: zoo_like.py and those cases), then
#   1. runs `ONNXC_BIN test CASE_DIR...` over them, the small committed cases
#      of export.py and the committed zoo_like.py cases next to EXPORT_PY, once
#      with the load-time graph optimizations and once with --no-optimize, and
#   2. for each case runs `ONNXC_BIN run CASE/model.onnx --input .../input_0.pb
#      --output-dir D` and compares D/output_0.pb with the expected output_0.pb
#      (same dtype and shape, element-wise |a - e| <= atol + scale * max|e| +
#      rtol * |e| with the ONNX test runner's atol 1e-7 and rtol 1e-3 plus an
#      absolute term of 1e-5 of the output's largest magnitude; override with
#      ONNXC_ATOL / ONNXC_RTOL / ONNXC_ATOL_SCALE).
# Why the scaled term: the expected outputs are PyTorch's float64 results, and
# a float32 engine's rounding exceeds 1e-7 on outputs that cancel to near zero
# (PyTorch's own float32 output misses the bare ONNX tolerance on VGG, GoogLeNet
# and the InceptionModule). Each PASS line still says how many elements the
# bare ONNX tolerance would reject.
# CASE... restricts the run to those case names (see `export.py --list` and
# `zoo_like.py --list`).
# Exit status: 0 when everything passed, 77 (skipped) when /usr/bin/python3 lacks
# torch/torchvision/onnx/numpy, 1 otherwise.  Disk: about 2.9 GB in WORK_DIR.
set -euo pipefail

PY=${PYTHON:-/usr/bin/python3}

die() { echo "models_test: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: models_test.sh ONNXC_BIN WORK_DIR EXPORT_PY [CASE...]"
onnxc=$1
work=$2
export_py=$3
shift 3
only=("$@")

[ -x "$onnxc" ] || die "onnxc binary '$onnxc' is not executable"
[ -f "$export_py" ] || die "export script '$export_py' not found"

if ! why=$("$PY" -c 'import torch, torchvision, onnx, numpy' 2>&1); then
    echo "models_test: SKIP: $PY cannot import torch, torchvision, onnx and numpy:"
    echo "$why" | tail -n 3 | sed 's/^/  /'
    exit 77
fi

mkdir -p "$work/.stamps"
work=$(cd "$work" && pwd)
fixtures_dir=$(cd "$(dirname "$export_py")" && pwd)
hash=$(sha256sum "$export_py" | cut -d' ' -f1)

# ---- the cases ----------------------------------------------------------------
mapfile -t full < <("$PY" "$export_py" --list --full | awk '{print $1}')
mapfile -t small < <("$PY" "$export_py" --list --small | awk '{print $1}')
[ ${#full[@]} -gt 0 ] || die "export.py --list --full listed no case"
# Caffe2-style model-zoo lookalikes: committed (opsets 9, 8, 7) and generated here
# (opsets 6 and 3, which ONNX Runtime cannot run).
zoo_py=$fixtures_dir/zoo_like.py
zoo_committed=()
zoo_old=()
if [ -f "$zoo_py" ]; then
    mapfile -t zoo_committed < <("$PY" "$zoo_py" --list --committed | awk '{print $1}')
    mapfile -t zoo_old < <("$PY" "$zoo_py" --list --opsets 6,3 | awk '{print $1}')
fi
if [ ${#only[@]} -gt 0 ]; then
    for n in "${only[@]}"; do
        printf '%s\n' "${full[@]}" "${small[@]}" "${zoo_committed[@]+"${zoo_committed[@]}"}" \
            "${zoo_old[@]+"${zoo_old[@]}"}" | grep -qxF -- "$n" || die "unknown case '$n'"
    done
    keep() { local n; for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
    f=(); for n in "${full[@]}"; do keep "$n" && f+=("$n"); done; full=("${f[@]+"${f[@]}"}")
    s=(); for n in "${small[@]}"; do keep "$n" && s+=("$n"); done; small=("${s[@]+"${s[@]}"}")
    z=(); for n in "${zoo_committed[@]+"${zoo_committed[@]}"}"; do keep "$n" && z+=("$n"); done
    zoo_committed=("${z[@]+"${z[@]}"}")
    z=(); for n in "${zoo_old[@]+"${zoo_old[@]}"}"; do keep "$n" && z+=("$n"); done
    zoo_old=("${z[@]+"${z[@]}"}")
fi

# ---- export what is missing or stale ------------------------------------------
todo=()
for n in "${full[@]+"${full[@]}"}"; do
    if [ -f "$work/$n/model.onnx" ] && [ -f "$work/$n/test_data_set_0/output_0.pb" ] &&
       [ "$(cat "$work/.stamps/$n" 2>/dev/null || true)" = "$hash" ]; then
        continue
    fi
    rm -f "$work/.stamps/$n"
    todo+=("$n")
done
export_failed=()
if [ ${#todo[@]} -gt 0 ]; then
    echo "models_test: exporting ${#todo[@]} case(s) into $work (log: $work/export.log): ${todo[*]}"
    set +e
    "$PY" "$export_py" --out "$work" --only "${todo[@]}" >"$work/export.log" 2>&1
    rc=$?
    set -e
    for n in "${todo[@]}"; do
        if grep -q "^FAIL $n:" "$work/export.log" || [ ! -f "$work/$n/model.onnx" ] ||
           [ ! -f "$work/$n/test_data_set_0/output_0.pb" ]; then
            export_failed+=("$n")
        else
            echo "$hash" >"$work/.stamps/$n"
        fi
    done
    if [ $rc -ne 0 ] || [ ${#export_failed[@]} -gt 0 ]; then
        echo "models_test: export failed (exit $rc) for: ${export_failed[*]:-?}; export.log tail:"
        tail -n 20 "$work/export.log" | sed 's/^/  /'
    fi
else
    echo "models_test: all ${#full[@]} full-size case(s) up to date in $work"
fi

# ---- the old-opset zoo cases (expected outputs from the committed opset-7 ones) --
if [ ${#zoo_old[@]} -gt 0 ]; then
    zhash=$(cat "$zoo_py" "$fixtures_dir"/zoo_*_opset7/model.onnx \
                "$fixtures_dir"/zoo_*_opset7/test_data_set_0/*.pb 2>/dev/null | sha256sum | cut -d' ' -f1)
    ztodo=()
    for n in "${zoo_old[@]}"; do
        if [ -f "$work/$n/model.onnx" ] && [ -f "$work/$n/test_data_set_0/output_0.pb" ] &&
           [ "$(cat "$work/.stamps/$n" 2>/dev/null || true)" = "$zhash" ]; then
            continue
        fi
        rm -f "$work/.stamps/$n"
        ztodo+=("$n")
    done
    if [ ${#ztodo[@]} -gt 0 ]; then
        echo "models_test: generating ${#ztodo[@]} old-opset zoo case(s) into $work (log: $work/zoo.log)"
        set +e
        "$PY" "$zoo_py" --out "$work" --only "${ztodo[@]}" --expected-from "$fixtures_dir" \
            >"$work/zoo.log" 2>&1
        zrc=$?
        set -e
        zfailed=()
        for n in "${ztodo[@]}"; do
            if [ $zrc -ne 0 ] || [ ! -f "$work/$n/model.onnx" ] ||
               [ ! -f "$work/$n/test_data_set_0/output_0.pb" ]; then
                zfailed+=("$n")
            else
                echo "$zhash" >"$work/.stamps/$n"
            fi
        done
        if [ ${#zfailed[@]} -gt 0 ]; then
            echo "models_test: zoo_like.py failed (exit $zrc); zoo.log tail:"
            tail -n 20 "$work/zoo.log" | sed 's/^/  /'
            export_failed+=("${zfailed[@]}")
        fi
    fi
fi

dirs=()
for n in "${full[@]+"${full[@]}"}"; do
    [ -f "$work/.stamps/$n" ] && dirs+=("$work/$n")
done
for n in "${small[@]+"${small[@]}"}" "${zoo_committed[@]+"${zoo_committed[@]}"}"; do
    if [ -f "$fixtures_dir/$n/model.onnx" ]; then dirs+=("$fixtures_dir/$n")
    else echo "models_test: note: committed case $n is missing from $fixtures_dir"; fi
done
for n in "${zoo_old[@]+"${zoo_old[@]}"}"; do
    [ -f "$work/.stamps/$n" ] && dirs+=("$work/$n")
done
[ ${#dirs[@]} -gt 0 ] || die "no case to run"

failures=0

# ---- 1. onnxc test, with the load-time graph optimizations and without ------------
rc=0
for opt in "" --no-optimize; do
    echo "models_test: $onnxc test${opt:+ $opt} (${#dirs[@]} cases)"
    set +e
    "$onnxc" test --atol-scale "${ONNXC_ATOL_SCALE:-1e-5}" ${opt:+"$opt"} "${dirs[@]}"
    orc=$?
    set -e
    if [ $orc -ne 0 ]; then
        echo "models_test: 'onnxc test${opt:+ $opt}' exited with status $orc"
        failures=$((failures + 1))
        rc=$orc
    fi
done

# ---- 2. onnxc run --output-dir + comparison -------------------------------------
read -r -d '' COMPARE <<'PYEOF' || true
import os, sys
import numpy as np
import onnx
from onnx import numpy_helper

ATOL = float(os.environ.get("ONNXC_ATOL", "1e-7"))
RTOL = float(os.environ.get("ONNXC_RTOL", "1e-3"))
SCALE = float(os.environ.get("ONNXC_ATOL_SCALE", "1e-5"))

def load(p):
    t = onnx.TensorProto()
    with open(p, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)

ename, e = load(sys.argv[1])
if not os.path.isfile(sys.argv[2]):
    print("no output file %s" % sys.argv[2]); sys.exit(1)
aname, a = load(sys.argv[2])
if a.dtype != e.dtype or a.shape != e.shape:
    print("got %s%s, expected %s%s" % (a.dtype, list(a.shape), e.dtype, list(e.shape))); sys.exit(1)
note = "" if not ename or aname == ename else " (tensor named '%s', expected '%s')" % (aname, ename)
e64, a64 = e.astype(np.float64), a.astype(np.float64)
both_nan = np.isnan(e64) & np.isnan(a64)
err = np.abs(a64 - e64)
err[both_nan] = 0.0
err[np.isnan(e64) ^ np.isnan(a64)] = np.inf
finite = np.abs(e64[np.isfinite(e64)])
scaled = ATOL + SCALE * (float(finite.max()) if finite.size else 0.0)
strict = int(np.count_nonzero(err / (1e-7 + 1e-3 * np.abs(e64)) > 1.0)) if e.size else 0
ratio = err / (scaled + RTOL * np.abs(e64))
nbad = int(np.count_nonzero(ratio > 1.0)) if e.size else 0
note += "; %d outside the bare ONNX tolerance" % strict
if e.size:
    w = int(np.argmax(ratio))
    print("max abs err %.3g; worst at %s: got %.9g expected %.9g (%.3g x tol); %d of %d outside tol%s"
          % (float(np.max(err)), [int(i) for i in np.unravel_index(w, e.shape)],
             a64.flat[w], e64.flat[w], ratio.flat[w], nbad, e.size, note))
else:
    print("empty output%s" % note)
sys.exit(1 if nbad else 0)
PYEOF

tmp=$(mktemp -d "$work/.run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
run_pass=0
run_fail=0
for d in "${dirs[@]}"; do
    n=$(basename "$d")
    out=$tmp/$n
    mkdir -p "$out"
    t0=$(date +%s%N)
    if ! "$onnxc" run "$d/model.onnx" --input "$d/test_data_set_0/input_0.pb" \
            --output-dir "$out" >"$out.log" 2>&1; then
        echo "FAIL run $n: onnxc run exited non-zero:"
        tail -n 5 "$out.log" | sed 's/^/  /'
        run_fail=$((run_fail + 1))
        continue
    fi
    ms=$((($(date +%s%N) - t0) / 1000000))
    secs=$((ms / 1000)).$(printf '%03d' $((ms % 1000)))
    if msg=$("$PY" -c "$COMPARE" "$d/test_data_set_0/output_0.pb" "$out/output_0.pb" 2>&1); then
        echo "PASS run $n (${secs}s): $msg"
        run_pass=$((run_pass + 1))
    else
        echo "FAIL run $n: $msg"
        run_fail=$((run_fail + 1))
    fi
    rm -rf "$out"
done

for n in "${export_failed[@]+"${export_failed[@]}"}"; do
    case $n in zoo_*) log=zoo.log ;; *) log=export.log ;; esac
    echo "FAIL export $n (see $work/$log)"
    run_fail=$((run_fail + 1))
done
[ $run_fail -eq 0 ] || failures=$((failures + 1))
echo "models_test: onnxc test exit status $rc; run --output-dir checks:"
echo "$run_pass passed, $run_fail failed"
[ $failures -eq 0 ]
