#!/usr/bin/python3
"""Helpers of bench/compare (not meant to be run by hand).

    compare_util.py prep INPUT_PB OUT_DIR MODEL_ONNX
        INPUT_PB as raw data plus OUT_DIR/inputs.json for bench/ort_bench.mjs
    compare_util.py onnxc-json BENCH_STDOUT
        the numbers of an `onnxc bench` output as one JSON line
    compare_util.py report RESULTS_JSONL META_JSON
        the Markdown tables of the results
"""

import json
import re
import statistics
import sys


def prep(input_pb, out_dir, model_path):
    import os
    import numpy as np
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(input_pb, "rb") as f:
        t.ParseFromString(f.read())
    a = np.ascontiguousarray(numpy_helper.to_array(t))
    name = t.name
    if not name:
        m = onnx.load(model_path, load_external_data=False)
        inits = {i.name for i in m.graph.initializer}
        name = [i.name for i in m.graph.input if i.name not in inits][0]
    os.makedirs(out_dir, exist_ok=True)
    a.tofile(os.path.join(out_dir, "input_0.bin"))
    with open(os.path.join(out_dir, "inputs.json"), "w") as f:
        json.dump([dict(name=name, dtype="bool" if a.dtype == np.bool_ else str(a.dtype),
                        dims=list(a.shape), file="input_0.bin")], f)
    print("x".join(map(str, a.shape)))


def onnxc_json(path):
    text = open(path).read()
    last = text.rstrip("\n").split("\n")[-1]
    m = re.fullmatch(r"bench: median_ms=([0-9.]+) p90_ms=([0-9.]+) min_ms=([0-9.]+) threads=(\d+)",
                     last)
    if not m:
        sys.exit("onnxc bench: the last line is not 'bench: ...': %r" % last)
    load = re.search(r"^load: ([0-9.]+) ms", text, re.M)
    rss = re.search(r"^peak RSS: ([0-9.]+) MiB", text, re.M)
    print(json.dumps(dict(engine="onnxc", median_ms=float(m.group(1)), p90_ms=float(m.group(2)),
                          min_ms=float(m.group(3)), threads=int(m.group(4)),
                          load_ms=float(load.group(1)) if load else None,
                          self_rss_mib=float(rss.group(1)) if rss else None)))


def fmt_ms(v):
    if v is None:
        return "failed"
    return "%.1f" % v if v >= 10 else "%.2f" % v


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "–"
    return "%.2f" % (a / b)


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(results_path, meta_path):
    meta = json.load(open(meta_path))
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    models = []  # in the order they ran
    for r in rows:
        if r["model"] not in [m for m, _ in models]:
            models.append((r["model"], r))
    threads = sorted({r["threads"] for r in rows})

    def pick(model, engine, key, t=None):
        return [r.get(key) for r in rows if r["model"] == model and r["engine"] == engine
                and (t is None or r["threads"] == t) and not r.get("error")]

    out = []
    w = out.append
    w("### onnxc vs ONNX Runtime vs PyTorch (CPU, batch inference latency)")
    w("")
    w("Machine: %s, %s; %s; measured %s; load average (1, 5, 15 min) %s." % (
        meta["cpu"], meta["cores"], meta["os"], meta["date"], meta.get("load", "unknown")))
    if "placement" in meta:
        w("Cache-line round trip between the two CPUs before each round (build/corelat): %s."
          % meta["placement"])
    w("onnxc %s (%s), ONNX Runtime %s (onnxruntime-node, CPU EP, all graph optimizations, "
      "intra-op threads = N, inter-op 1, sequential), PyTorch %s (eager, eval, no_grad, "
      "set_num_threads(N)). Each cell is the median over %d round(s) of the per-round median "
      "of %d timed runs after %d warm-up run(s); the three engines run interleaved, round "
      "by round in rotating order, each round a fresh process, on the same input tensor."
      % (meta["onnxc"], meta["onnxc_build"], meta["ort"], meta["torch"], meta["rounds"],
         meta["iters"], meta["warmup"]))
    w("")
    w("| model | input | threads | onnxc ms | ORT ms | PyTorch ms | onnxc/ORT | onnxc/PyTorch |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model, first in models:
        for t in threads:
            o = median_or_none(pick(model, "onnxc", "median_ms", t))
            a = median_or_none(pick(model, "ort", "median_ms", t))
            p = median_or_none(pick(model, "torch", "median_ms", t))
            if o is None and a is None and p is None:
                continue
            w("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                model, first["input"], t, fmt_ms(o), fmt_ms(a), fmt_ms(p), fmt_ratio(o, a),
                fmt_ratio(o, p)))
    w("")
    w("Load and memory (medians over every round and thread count): onnxc's load "
      "(`onnxc_model_open_file`: read, check, infer shapes, optimize) against ONNX Runtime's "
      "session creation from the file; peak RSS (`/usr/bin/time` %%M) of the `onnxc bench` "
      "process against a Node process that only creates the ORT session and runs it "
      "(Node with onnxruntime-node loaded and no session: %.0f MiB) and a Python process "
      "that builds the PyTorch model and runs it (Python with torch imported: %.0f MiB)."
      % (meta["node_baseline_kb"] / 1024, meta["torch_baseline_kb"] / 1024))
    w("")
    w("| model | onnxc load ms | ORT session ms | load onnxc/ORT | onnxc peak RSS MiB "
      "| ORT peak RSS MiB | PyTorch peak RSS MiB |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model, _ in models:
        ol = median_or_none(pick(model, "onnxc", "load_ms"))
        al = median_or_none(pick(model, "ort", "create_ms"))
        rss = [median_or_none(pick(model, e, "rss_kb")) for e in ("onnxc", "ort", "torch")]
        w("| %s | %s | %s | %s | %s | %s | %s |" % (
            model, fmt_ms(ol), fmt_ms(al), fmt_ratio(ol, al),
            *["%.0f" % (v / 1024) if v is not None else "failed" for v in rss]))
    differ = sorted({r["model"] for r in rows if r.get("matches_export") is False})
    if differ:
        w("")
        w("Warning: the PyTorch model's output differs from the export's for: " + ", ".join(differ))
    errors = [r for r in rows if r.get("error")]
    if errors:
        w("")
        w("Failures: " + "; ".join("%s %s threads=%d round %d: %s" % (
            r["model"], r["engine"], r["threads"], r["round"] + 1, r["error"]) for r in errors))
    print("\n".join(out))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "prep" and len(sys.argv) == 5:
        prep(*sys.argv[2:5])
    elif cmd == "onnxc-json" and len(sys.argv) == 3:
        onnxc_json(sys.argv[2])
    elif cmd == "report" and len(sys.argv) == 4:
        report(*sys.argv[2:4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
