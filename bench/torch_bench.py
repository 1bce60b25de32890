#!/usr/bin/python3
"""Time a fixtures/export.py model in PyTorch (eager, eval mode, no_grad), for
bench/compare.  A reference only: onnxc does not depend on it.

    /usr/bin/python3 bench/torch_bench.py EXPORT_PY CASE INPUT_PB [--threads N]
                                           [--iters K] [--warmup W]

CASE is a case of EXPORT_PY (e.g. resnet18_opset13): its model is built the way
the export built it (same seeds, so the same weights as CASE/model.onnx), and run
on the tensor of INPUT_PB (an ONNX TensorProto, e.g. CASE/test_data_set_0/input_0.pb)
with torch.set_num_threads(N) and one inter-op thread.  Prints one JSON line: the
build time (not comparable: it draws the random weights), whether the model's
output matches the export's expected output_0.pb next to INPUT_PB (null when
absent), the times of the timed runs (ms, time.perf_counter), their median, p90
(linear interpolation) and min, and the process's peak RSS (getrusage ru_maxrss, KiB).

    /usr/bin/python3 bench/torch_bench.py --baseline   # the RSS of Python with torch imported
"""

import argparse
import importlib.util
import json
import os
import resource
import sys
import time


def quantile(sorted_ms, q):
    p = q * (len(sorted_ms) - 1)
    lo = int(p)
    if lo + 1 >= len(sorted_ms):
        return sorted_ms[-1]
    return sorted_ms[lo] + (p - lo) * (sorted_ms[lo + 1] - sorted_ms[lo])


def main():
    import torch
    if sys.argv[1:] == ["--baseline"]:
        print(json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export_py")
    ap.add_argument("case")
    ap.add_argument("input_pb")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    if a.threads < 1 or a.iters < 1 or a.warmup < 0:
        ap.error("--threads and --iters take integers >= 1, --warmup >= 0")

    import onnx
    from onnx import numpy_helper
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)

    spec = importlib.util.spec_from_file_location("onnxc_export", a.export_py)
    export = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(a.export_py)))
    spec.loader.exec_module(export)
    cases = {c.name: c for c in export.CASES}
    if a.case not in cases:
        ap.error("unknown case %s (see %s --list)" % (a.case, a.export_py))

    t0 = time.perf_counter()
    # The export builds its models on one thread (see export.py main); so do we,
    # so that the calibrated statistics and thus the weights are the same.
    torch.set_num_threads(1)
    model = export.build_model(cases[a.case].model).eval()
    torch.set_num_threads(a.threads)
    build_ms = (time.perf_counter() - t0) * 1e3

    t = onnx.TensorProto()
    with open(a.input_pb, "rb") as f:
        t.ParseFromString(f.read())
    x = torch.from_numpy(numpy_helper.to_array(t).copy())

    run_ms = []
    with torch.no_grad():
        y = model(x).numpy()
        for _ in range(a.warmup):
            model(x)
        for _ in range(a.iters):
            t1 = time.perf_counter()
            model(x)
            run_ms.append((time.perf_counter() - t1) * 1e3)
    # The same model as the ONNX file: the output matches the export's expected one.
    same = None
    expected_pb = os.path.join(os.path.dirname(a.input_pb), "output_0.pb")
    if os.path.exists(expected_pb):
        import numpy as np
        e = onnx.TensorProto()
        with open(expected_pb, "rb") as f:
            e.ParseFromString(f.read())
        want = numpy_helper.to_array(e).astype(np.float64)
        same = bool(want.shape == y.shape and np.all(
            np.abs(y - want) <= 1e-4 * np.abs(want).max() + 1e-3 * np.abs(want)))
    s = sorted(run_ms)
    print(json.dumps({
        "engine": "torch", "version": torch.__version__, "threads": torch.get_num_threads(),
        "build_ms": build_ms, "matches_export": same, "run_ms": run_ms, "median_ms": quantile(s, 0.5),
        "p90_ms": quantile(s, 0.9), "min_ms": s[0],
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
