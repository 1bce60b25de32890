#!/usr/bin/python3
"""Mutation test: hostile variants of the fixture models through `onnxc run`.

Derives models from fixtures/*/model.onnx, each broken in one way, and runs
`ONNXC run MODEL` on each (meant for the ASan+UBSan build) with a timeout.
A case fails when the run crashes (a signal or a sanitizer report), times
out, or exits non-zero without an "onnxc: error:" line on stderr. A run that
succeeds is fine: many mutations leave a valid model.

Structural mutations (dims, dtypes, raw_data sizes, attributes, window
attributes, node inputs and outputs, graph structure, opsets, external data,
initializer shapes, subgraph attributes, deep and long graphs) need the onnx
package; without it only the byte mutations (truncation, bit flips, splices)
run, and the output says so. Deterministic for a given --seed.

Usage: mutate_test.py ONNXC FIXTURES_DIR WORK_DIR [--per-class N] [--timeout S]
                      [--seed S] [--jobs N] [--keep]
The last line is "mutation: N models, N failed"; exit status 1 on a failure
(each failing model is kept in WORK_DIR/failures with its stderr).
"""
import argparse
import concurrent.futures
import copy
import os
import random
import shutil
import struct
import subprocess
import sys
import time

try:
    import onnx
    from onnx import AttributeProto, TensorProto, helper, numpy_helper
except ImportError:  # byte mutations only
    onnx = None

HUGE_DIMS = [-1, -7, 0, 2**31, 2**31 - 1, 2**32 + 1, 2**40, 2**62, 2**63 - 1, -(2**63)]
ODD_DTYPES = [0, 8, 14, 15, 16, 17, 21, 23, 26, 27, 99, 12345, -1]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer", "ThreadSanitizer", "SUMMARY: ")


# ---- protobuf wire helpers (for what the onnx package cannot build) ----------

def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


# ---- structural mutations ---------------------------------------------------
# Each takes (model, rng, extra) and mutates the ModelProto in place; extra is
# a dict of side files (name -> bytes, or ("symlink", target)) written next to
# the model. It returns a short description, or None when it does not apply.

def pick(rng, seq):
    return seq[rng.randrange(len(seq))] if seq else None


def tensors_with_dims(g):
    return [t for t in g.initializer if len(t.dims) > 0]


def value_infos(g):
    return [v for v in list(g.input) + list(g.output) + list(g.value_info)
            if v.type.HasField("tensor_type") and v.type.tensor_type.HasField("shape")]


def mut_dims(m, rng, extra):
    g = m.graph
    choice = rng.randrange(4)
    if choice < 2 and tensors_with_dims(g):
        t = pick(rng, tensors_with_dims(g))
        i = rng.randrange(len(t.dims))
        if choice == 0:
            t.dims[i] = pick(rng, HUGE_DIMS)
            return f"initializer {t.name} dim {i} = {t.dims[i]}"
        # a product that overflows 64 bits while each dim is valid
        for k in range(len(t.dims)):
            t.dims[k] = 2**31 + rng.randrange(1000)
        t.dims.append(2**33)
        return f"initializer {t.name} dims overflow in product"
    vis = value_infos(g)
    v = pick(rng, vis)
    if v is None or not v.type.tensor_type.shape.dim:
        return None
    dims = v.type.tensor_type.shape.dim
    d = dims[rng.randrange(len(dims))]
    if choice == 2:
        d.dim_value = pick(rng, HUGE_DIMS)
        return f"value {v.name} dim = {d.dim_value}"
    for _ in range(rng.choice([1, 8, 9, 40])):
        dims.add().dim_value = rng.choice([1, 2, 3])
    return f"value {v.name} rank grown to {len(dims)}"


def mut_dtypes(m, rng, extra):
    g = m.graph
    if rng.random() < 0.5 and len(g.initializer):
        t = pick(rng, list(g.initializer))
        t.data_type = pick(rng, ODD_DTYPES)
        return f"initializer {t.name} data_type {t.data_type}"
    v = pick(rng, [v for v in list(g.input) + list(g.output) if v.type.HasField("tensor_type")])
    if v is None:
        return None
    v.type.tensor_type.elem_type = pick(rng, ODD_DTYPES + [TensorProto.INT64, TensorProto.DOUBLE,
                                                           TensorProto.BOOL, TensorProto.FLOAT16])
    return f"value {v.name} elem_type {v.type.tensor_type.elem_type}"


def mut_raw_size(m, rng, extra):
    inits = [t for t in m.graph.initializer if t.raw_data or len(t.float_data) or len(t.int64_data)]
    t = pick(rng, inits)
    if t is None:
        return None
    if t.raw_data:
        n = len(t.raw_data)
        how = rng.randrange(4)
        if how == 0:
            t.raw_data = t.raw_data[: rng.randrange(n)]
        elif how == 1:
            t.raw_data = t.raw_data + bytes(rng.randrange(1, 64))
        elif how == 2:
            t.raw_data = b""
        else:
            t.float_data.extend([1.0, 2.0])  # data in two places
        return f"initializer {t.name} raw_data {n} -> {len(t.raw_data)} bytes"
    if len(t.float_data):
        del t.float_data[-1]
    else:
        t.int64_data.append(7)
    return f"initializer {t.name} typed data count off by one"


WRONG_TYPE_VALUES = [
    lambda a: (setattr(a, "type", AttributeProto.FLOAT), setattr(a, "f", 1.5)),
    lambda a: (setattr(a, "type", AttributeProto.INT), setattr(a, "i", 3)),
    lambda a: (setattr(a, "type", AttributeProto.STRING), setattr(a, "s", b"SAME_UPPER")),
    lambda a: (setattr(a, "type", AttributeProto.INTS), a.ints.extend([1, 2, 3])),
    lambda a: (setattr(a, "type", AttributeProto.FLOATS), a.floats.extend([0.5])),
    lambda a: (setattr(a, "type", AttributeProto.TENSOR),
               a.t.CopyFrom(helper.make_tensor("t", TensorProto.FLOAT, [1], [1.0]))),
    lambda a: (setattr(a, "type", AttributeProto.GRAPH), a.g.CopyFrom(helper.make_graph([], "g", [], []))),
]


def clear_attr_value(a):
    for f in ("f", "i", "s", "t", "g", "tp", "sparse_tensor"):
        a.ClearField(f)
    for f in ("floats", "ints", "strings", "tensors", "graphs", "type_protos", "sparse_tensors"):
        a.ClearField(f)


def nodes_with_attrs(g):
    return [n for n in g.node if len(n.attribute)]


def mut_attr_type(m, rng, extra):
    n = pick(rng, nodes_with_attrs(m.graph))
    if n is None:
        return None
    a = pick(rng, list(n.attribute))
    clear_attr_value(a)
    pick(rng, WRONG_TYPE_VALUES)(a)
    if rng.random() < 0.2:
        a.ClearField("type")  # type left for the loader to infer
    return f"node {n.name or n.op_type} attribute {a.name} becomes type {a.type}"


WINDOW_ATTRS = ["kernel_shape", "pads", "strides", "dilations"]


def mut_window(m, rng, extra):
    nodes = [n for n in m.graph.node if n.op_type in ("Conv", "MaxPool", "AveragePool")]
    n = pick(rng, nodes)
    if n is None:
        return None
    name = pick(rng, WINDOW_ATTRS + ["group", "auto_pad", "ceil_mode"])
    for a in list(n.attribute):
        if a.name == name:
            n.attribute.remove(a)
    how = rng.randrange(6)
    if name == "group":
        v = pick(rng, [0, -1, 3, 5, 7, 1000, 2**40, 2**63 - 1, -(2**63)])
        n.attribute.append(helper.make_attribute("group", v))
        return f"node {n.name or n.op_type} group = {v}"
    if name == "auto_pad":
        n.attribute.append(helper.make_attribute("auto_pad", pick(rng, ["SAME_UPPER", "VALID", "BOGUS", ""])))
        return f"node {n.name or n.op_type} auto_pad changed"
    if name == "ceil_mode":
        n.attribute.append(helper.make_attribute("ceil_mode", pick(rng, [1, 2, -1])))
        return f"node {n.name or n.op_type} ceil_mode changed"
    if how == 0:
        vals = []  # present but empty
    elif how == 1:
        vals = [0] * rng.choice([1, 2, 4])
    elif how == 2:
        vals = [rng.choice([-1, -5, -(2**63)]) for _ in range(rng.choice([2, 4]))]
    elif how == 3:
        vals = [rng.choice([2**31, 2**40, 2**62, 2**63 - 1]) for _ in range(rng.choice([2, 4]))]
    elif how == 4:
        vals = [1] * rng.choice([1, 3, 5, 7, 9])  # inconsistent with the input's rank
    else:
        vals = [rng.randrange(1, 40) for _ in range(rng.choice([2, 4, 6]))]
    n.attribute.append(helper.make_attribute(name, vals))
    return f"node {n.name or n.op_type} {name} = {vals}"


def all_value_names(g):
    names = [i.name for i in g.input] + [t.name for t in g.initializer]
    for n in g.node:
        names += list(n.output)
    return [x for x in names if x]


def mut_node_io(m, rng, extra):
    g = m.graph
    if not len(g.node):
        return None
    idx = rng.randrange(len(g.node))
    n = g.node[idx]
    how = rng.randrange(8)
    if how == 0 and len(n.input):
        n.input[rng.randrange(len(n.input))] = "no_such_value"
        return f"node {idx} reads a missing value"
    if how == 1 and len(n.input):
        del n.input[rng.randrange(len(n.input)):]
        return f"node {idx} loses inputs"
    if how == 2:
        n.input.extend(rng.sample(all_value_names(g), min(3, len(all_value_names(g)))))
        return f"node {idx} gains inputs"
    if how == 3 and len(g.node) > 1:  # two producers of one name
        other = g.node[(idx + 1) % len(g.node)]
        if len(other.output) and len(n.output):
            n.output[0] = other.output[0]
            return f"node {idx} produces {other.output[0]} too"
    if how == 4 and len(n.output):  # a cycle: read a value produced later (or own output)
        later = [o for k in range(idx, len(g.node)) for o in g.node[k].output if o]
        if len(n.input) and later:
            n.input[0] = pick(rng, later)
            return f"node {idx} reads {n.input[0]} (a cycle)"
    if how == 5:
        del n.output[:]
        return f"node {idx} has no outputs"
    if how == 6 and len(n.input):  # a weight of another shape or rank
        inits = [t.name for t in g.initializer]
        if inits:
            n.input[rng.randrange(len(n.input))] = pick(rng, inits)
            return f"node {idx} reads another initializer"
    n.output.append(pick(rng, [i.name for i in g.input] + ["", n.output[0] if len(n.output) else "x"]))
    return f"node {idx} gains an output that shadows a name"


def mut_graph(m, rng, extra):
    g = m.graph
    how = rng.randrange(7)
    if how == 0:
        del g.node[:]
        return "no nodes"
    if how == 1:
        del g.output[:]
        return "no outputs"
    if how == 2:
        del g.input[:]
        return "no inputs"
    if how == 3:
        g.output.append(copy.deepcopy(g.output[0]) if len(g.output) else helper.make_tensor_value_info("y", 1, None))
        return "an output listed twice"
    if how == 4 and len(g.node):
        g.node.append(copy.deepcopy(g.node[rng.randrange(len(g.node))]))
        return "a node duplicated"
    if how == 5 and len(g.input):
        g.output.add().CopyFrom(g.input[0])
        return "an input is also an output"
    g.initializer.append(copy.deepcopy(g.initializer[0]) if len(g.initializer)
                         else helper.make_tensor("w", TensorProto.FLOAT, [1], [0.0]))
    return "an initializer defined twice"


def mut_opset(m, rng, extra):
    how = rng.randrange(5)
    default = [o for o in m.opset_import if o.domain in ("", "ai.onnx")]
    if how == 0 and default:
        default[0].version = pick(rng, [0, -1, 29, 1000, 2**62, 2**63 - 1])
        return f"default opset {default[0].version}"
    if how == 1:
        del m.opset_import[:]
        return "no opset_import"
    if how == 2:
        m.opset_import.add().CopyFrom(m.opset_import[0] if len(m.opset_import) else helper.make_opsetid("", 13))
        return "an opset imported twice"
    if how == 3 and len(m.graph.node):
        n = pick(rng, list(m.graph.node))
        n.domain = pick(rng, ["com.example", "ai.onnx.ml", "ai.onnx"])
        return f"node in domain {n.domain}"
    m.ir_version = pick(rng, [0, 1, 2, 3, 99, -1])
    return f"ir_version {m.ir_version}"


def make_external(t, location, offset=None, length=None):
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.ClearField("int64_data")
    t.data_location = TensorProto.EXTERNAL
    del t.external_data[:]
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)


def mut_external(m, rng, extra):
    inits = [t for t in m.graph.initializer if t.raw_data or t.data_location == TensorProto.EXTERNAL]
    t = pick(rng, inits)
    if t is None:
        return None
    data = t.raw_data
    size = len(data)
    how = rng.randrange(10)
    if how == 0:
        make_external(t, "../../../../etc/passwd")
    elif how == 1:
        make_external(t, "/etc/passwd")
    elif how == 2:
        make_external(t, "missing.bin")
    elif how == 3:
        extra["data.bin"] = data
        make_external(t, "data.bin", size + 1, 4)
    elif how == 4:
        extra["data.bin"] = data
        make_external(t, "data.bin", 0, size + 4096)
    elif how == 5:
        extra["data.bin"] = data
        make_external(t, "data.bin", pick(rng, ["-1", "0x10", "1e3", "", "99999999999999999999"]))
    elif how == 6:
        extra["escape"] = ("symlink", "/etc")
        make_external(t, "escape/passwd")
    elif how == 7:
        extra["link.bin"] = ("symlink", "/etc/hostname")
        make_external(t, "link.bin")
    elif how == 8:
        extra["data.bin"] = data[: size // 2]
        make_external(t, "data.bin")
    else:
        extra["data.bin"] = data
        make_external(t, "data.bin", 0, size)
        t.raw_data = b"\0" * size  # inline and external at once
    return f"initializer {t.name} external data case {how}"


def mut_init_shape(m, rng, extra):
    inits = [t for t in m.graph.initializer if len(t.dims) >= 1]
    t = pick(rng, inits)
    if t is None:
        return None
    how = rng.randrange(4)
    count = 1
    for d in t.dims:
        count *= d
    if how == 0:
        del t.dims[:]
        t.dims.append(count)  # same bytes, rank 1
    elif how == 1:
        t.dims.insert(0, 1)  # one rank more
    elif how == 2:
        del t.dims[:]  # a scalar with too much data
    else:
        t.dims.extend([1] * 8)  # rank beyond 8
    return f"initializer {t.name} dims {list(t.dims)[:10]}"


def mut_subgraph(m, rng, extra):
    if not len(m.graph.node):
        return None
    n = pick(rng, list(m.graph.node))
    body = helper.make_graph([helper.make_node("Relu", ["a"], ["b"])], "body",
                             [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
                             [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    how = rng.randrange(3)
    if how == 0:
        n.attribute.append(helper.make_attribute("body", body))
        return f"node {n.op_type} gains a graph attribute"
    if how == 1:
        a = n.attribute.add()
        a.name, a.type = "branches", AttributeProto.GRAPHS
        a.graphs.extend([body, body])
        return f"node {n.op_type} gains a graphs attribute"
    loop = helper.make_node("Loop", ["", ""], ["loop_out"], body=body)
    m.graph.node.append(loop)
    return "a Loop node with a body"


def mut_long(m, rng, extra):
    g = m.graph
    if not len(g.output):
        return None
    length = pick(rng, [1000, 20000, 100000])
    out = g.output[0].name
    producer = [n for n in g.node if out in n.output]
    if not producer:
        return None
    renamed = "chain_0"
    for k, o in enumerate(producer[0].output):
        if o == out:
            producer[0].output[k] = renamed
    op = pick(rng, ["Identity", "Relu", "Neg"])
    for i in range(length):
        g.node.append(helper.make_node(op, [f"chain_{i}"], [f"chain_{i + 1}" if i + 1 < length else out]))
    return f"{length} {op} nodes before the output"


HOSTILE_INTS = [-1, -2, 0, 1, 7, 2**31, -(2**31), 2**62, 2**63 - 1, -(2**63)]


def mut_attr_value(m, rng, extra):
    """An int or ints attribute (axis, perm, axes, split, size, to, ...) set to
    a hostile value, or a float one to NaN or infinity."""
    attrs = [(n, a) for n in m.graph.node for a in n.attribute
             if a.type in (AttributeProto.INT, AttributeProto.INTS, AttributeProto.FLOAT)]
    if not attrs:
        return None
    n, a = pick(rng, attrs)
    if a.type == AttributeProto.INT:
        a.i = pick(rng, HOSTILE_INTS)
        return f"node {n.name or n.op_type} {a.name} = {a.i}"
    if a.type == AttributeProto.FLOAT:
        a.f = pick(rng, [float("nan"), float("inf"), -float("inf"), 0.0, -1.0, 1e38])
        return f"node {n.name or n.op_type} {a.name} = {a.f}"
    if len(a.ints) and rng.random() < 0.6:
        a.ints[rng.randrange(len(a.ints))] = pick(rng, HOSTILE_INTS)
    else:
        a.ints.extend([pick(rng, HOSTILE_INTS) for _ in range(rng.randrange(1, 10))])
    return f"node {n.name or n.op_type} {a.name} = {list(a.ints)[:12]}"


def mut_shape_values(m, rng, extra):
    """Values of an int64/int32 initializer (Reshape's shape, Slice's starts,
    Gather's indices, Pad's pads, Expand's shape, ...) set to hostile ones;
    or a Constant node of that kind feeding a shape input."""
    inits = [t for t in m.graph.initializer if t.data_type in (TensorProto.INT64, TensorProto.INT32)]
    consts = [n for n in m.graph.node if n.op_type == "Constant"]
    if not inits and not consts:
        return None
    if inits and (not consts or rng.random() < 0.7):
        t = pick(rng, inits)
        arr = numpy_helper.to_array(t).copy().reshape(-1)
        if arr.size == 0:
            return None
        dtype = arr.dtype
        big = [v for v in HOSTILE_INTS if dtype.itemsize == 8 or -(2**31) <= v < 2**31]
        for _ in range(rng.randrange(1, 3)):
            arr[rng.randrange(arr.size)] = pick(rng, big)
        new = numpy_helper.from_array(arr.reshape(numpy_helper.to_array(t).shape), t.name)
        t.CopyFrom(new)
        return f"initializer {t.name} values {arr.tolist()[:8]}"
    n = pick(rng, consts)
    vals = [pick(rng, HOSTILE_INTS) for _ in range(rng.randrange(1, 5))]
    del n.attribute[:]
    n.attribute.append(helper.make_attribute("value", helper.make_tensor("v", TensorProto.INT64, [len(vals)], vals)))
    return f"Constant {n.name} = {vals}"


def mut_combo(m, rng, extra):
    """Two or three of the other mutations at once."""
    done = []
    for _ in range(rng.randrange(2, 4)):
        name, fn = pick(rng, [(k, v) for k, v in MUTATIONS.items() if k not in ("combo", "long")])
        what = fn(m, rng, extra)
        if what:
            done.append(f"{name}: {what}")
    return "; ".join(done) or None


MUTATIONS = {
    "dims": mut_dims, "dtypes": mut_dtypes, "raw_data": mut_raw_size, "attr_type": mut_attr_type,
    "window": mut_window, "node_io": mut_node_io, "graph": mut_graph, "opset": mut_opset,
    "external": mut_external, "init_shape": mut_init_shape, "subgraph": mut_subgraph,
    "long": mut_long, "attr_value": mut_attr_value, "values": mut_shape_values,
    "combo": mut_combo,
}


def deep_model(rng):
    """A graph nested through node attributes far deeper than any real model:
    GraphProto{node{attribute{name, g: GraphProto{...}, type GRAPH}, op_type}},
    written outside-in in linear time (lengths computed inside-out)."""
    depth = pick(rng, [70, 1000, 100000])
    name = field(1, b"body")
    suffix = varint(20 << 3) + varint(AttributeProto.GRAPH if onnx else 5) + field(4, b"Relu")
    prefixes, length = [], 0  # length: the GraphProto inside the current level
    for _ in range(depth):
        attr_len = len(name) + len(varint(6 << 3 | 2)) + len(varint(length)) + length + len(suffix) - len(field(4, b"Relu"))
        node_len = len(varint(5 << 3 | 2)) + len(varint(attr_len)) + attr_len + len(field(4, b"Relu"))
        prefixes.append(varint(1 << 3 | 2) + varint(node_len) + varint(5 << 3 | 2) + varint(attr_len)
                        + name + varint(6 << 3 | 2) + varint(length))
        length = len(varint(1 << 3 | 2)) + len(varint(node_len)) + node_len
    graph = b"".join(reversed(prefixes)) + suffix * depth
    assert len(graph) == length
    opset = field(1, b"") + varint(2 << 3) + varint(13)
    return varint(1 << 3) + varint(8) + field(7, graph) + field(8, opset), f"subgraphs nested {depth} deep"


# ---- byte mutations ---------------------------------------------------------

def byte_mutation(data, donor, rng):
    b = bytearray(data)
    how = rng.randrange(5)
    if how == 0:
        cut = rng.randrange(len(b))
        return bytes(b[:cut]), f"truncated to {cut} bytes"
    if how == 1:
        flips = rng.randrange(1, 9)
        for _ in range(flips):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b), f"{flips} bit flips"
    if how == 2:
        n = rng.randrange(1, 5)
        for _ in range(n):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b), f"{n} random bytes"
    if how == 3:
        a = rng.randrange(len(donor))
        piece = donor[a:a + rng.randrange(1, 512)]
        at = rng.randrange(len(b))
        return bytes(b[:at]) + piece + bytes(b[at + rng.randrange(0, 64):]), "splice from another model"
    i = rng.randrange(len(b))
    j = min(len(b), i + rng.randrange(1, 256))
    return bytes(b[:j]) + bytes(b[i:j]) * rng.randrange(1, 4) + bytes(b[j:]), "a chunk repeated"


# ---- running ----------------------------------------------------------------

def write_case(case_dir, data, extra):
    os.makedirs(case_dir, exist_ok=True)
    path = os.path.join(case_dir, "model.onnx")
    with open(path, "wb") as f:
        f.write(data)
    for name, content in extra.items():
        p = os.path.join(case_dir, name)
        if isinstance(content, tuple):
            os.symlink(content[1], p)
        else:
            with open(p, "wb") as f:
                f.write(content)
    return path


def run_case(onnxc, case, timeout):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:allocator_may_return_null=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    start = time.monotonic()
    try:
        p = subprocess.run([onnxc, "run", case["path"]], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "hang", f"no exit within {timeout} s", time.monotonic() - start
    err = p.stderr.decode("utf-8", "replace")
    elapsed = time.monotonic() - start
    if p.returncode < 0:
        return "crash", f"signal {-p.returncode}\n{err}", elapsed
    if any(mark in err for mark in SANITIZER_MARKS):
        return "crash", err, elapsed
    if p.returncode != 0 and "onnxc: error:" not in err:
        return "silent", f"exit {p.returncode} without 'onnxc: error:'\n{err}", elapsed
    return ("ok" if p.returncode == 0 else "error"), err, elapsed


def build_cases(fixtures, per_class, rng, work):
    models = []
    for name in sorted(os.listdir(fixtures)):
        path = os.path.join(fixtures, name, "model.onnx")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                models.append((name, f.read()))
    cases = []
    n = 0

    def add(cls, data, extra, what, source):
        nonlocal n
        case_dir = os.path.join(work, f"{n:05d}_{cls}")
        cases.append({"class": cls, "what": f"{source}: {what}", "dir": case_dir,
                      "path": write_case(case_dir, data, extra)})
        n += 1

    for cls in ["truncate", "bitflip", "splice"]:
        for _ in range(per_class):
            source, data = pick(rng, models)
            donor = pick(rng, models)[1]
            for _ in range(50):
                mutated, what = byte_mutation(data, donor, rng)
                kind = {"truncated": "truncate", "splice": "splice"}.get(what.split()[0], "bitflip")
                if kind == cls:
                    break
            add(cls, mutated, {}, what, source)
    if onnx is None:
        return cases
    parsed = [(name, onnx.load_from_string(data)) for name, data in models]
    for cls, mutate in MUTATIONS.items():
        made = tries = 0
        while made < per_class and tries < per_class * 20:
            tries += 1
            source, base = pick(rng, parsed)
            m = copy.deepcopy(base)
            extra = {}
            if source.startswith("ext_net"):
                with open(os.path.join(fixtures, source, "weights.bin"), "rb") as f:
                    extra["weights.bin"] = f.read()
            try:
                what = mutate(m, rng, extra)
                if what is None:
                    continue
                data = m.SerializeToString()
            except (ValueError, TypeError, AttributeError, IndexError, OverflowError, struct.error):
                continue  # a value the protobuf package refuses to write
            add(cls, data, extra, what, source)
            made += 1
    for _ in range(max(4, per_class // 4)):
        data, what = deep_model(rng)
        add("deep", data, {}, what, "generated")
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("onnxc")
    ap.add_argument("fixtures")
    ap.add_argument("work")
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep every generated model")
    args = ap.parse_args()
    if not os.access(args.onnxc, os.X_OK):
        print(f"mutation: {args.onnxc} is not an executable", file=sys.stderr)
        return 2
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    rng = random.Random(args.seed)
    if onnx is None:
        print("mutation: the onnx package is missing: structural mutations skipped, byte mutations only")
    cases = build_cases(args.fixtures, args.per_class, rng, os.path.join(args.work, "cases"))
    stats = {}
    failures = []
    slowest = (0.0, "")
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(lambda c: (c, run_case(args.onnxc, c, args.timeout)), cases)
        for case, (outcome, detail, elapsed) in results:
            s = stats.setdefault(case["class"], {"models": 0, "ok": 0, "error": 0, "failed": 0})
            s["models"] += 1
            if elapsed > slowest[0]:
                slowest = (elapsed, case["what"])
            if outcome in ("ok", "error"):
                s[outcome] += 1
                if not args.keep:
                    shutil.rmtree(case["dir"], ignore_errors=True)
                continue
            s["failed"] += 1
            kept = os.path.join(args.work, "failures", os.path.basename(case["dir"]))
            shutil.copytree(case["dir"], kept, symlinks=True)
            with open(os.path.join(kept, "stderr.txt"), "w") as f:
                f.write(f"{outcome}: {case['what']}\n{detail}")
            failures.append((case, outcome, detail))
    print(f"{'class':<12} {'models':>6} {'ran':>5} {'errors':>6} {'failed':>6}")
    for cls, s in stats.items():
        print(f"{cls:<12} {s['models']:>6} {s['ok']:>5} {s['error']:>6} {s['failed']:>6}")
    for case, outcome, detail in failures[:20]:
        lines = detail.strip().splitlines()
        print(f"FAIL {outcome}: {case['what']} ({case['dir']})\n    " + "\n    ".join(lines[:12]))
    total = sum(s["models"] for s in stats.values())
    print(f"slowest run: {slowest[0]:.1f} s ({slowest[1]})")
    print(f"mutation: {total} models, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
