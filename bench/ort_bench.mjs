#!/usr/bin/env node
// Time a model with ONNX Runtime (onnxruntime-node, CPU execution provider, all
// graph optimizations, intra-op threads N, inter-op threads 1, sequential
// execution), for bench/compare.  A reference only: onnxc does not depend on it.
//
//   node bench/ort_bench.mjs MODEL.onnx INPUTS.json [--threads N] [--iters K] [--warmup W]
//
// INPUTS.json: [{"name": "input", "dtype": "float32", "dims": [1,3,224,224],
//                "file": "input_0.bin"}, ...]  (file relative to the JSON's folder, raw
//                little-endian data in C order; bench/compare writes it)
// Prints one JSON line: the session creation time, the times of the timed runs
// (ms, monotonic clock), their median, p90 (linear interpolation) and min, and
// this process's peak RSS (getrusage ru_maxrss, KiB).  The process does nothing
// else, so its peak RSS is ONNX Runtime's (plus Node's own, see --baseline).
//
//   node bench/ort_bench.mjs --baseline   # the RSS of Node with onnxruntime-node loaded
//
// The ONNX Runtime folder can be overridden with ORT_DIR (the folder that holds
// node_modules/onnxruntime-node; default bench/ort).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const ortDir = resolve(process.env.ORT_DIR || join(here, 'ort'));
const usage = 'usage: node bench/ort_bench.mjs MODEL.onnx INPUTS.json [--threads N] [--iters K] [--warmup W] | --baseline';

function die(msg) {
  process.stderr.write(`ort_bench: ${msg}\n`);
  process.exit(2);
}

const opt = { threads: 1, iters: 10, warmup: 1 };
const pos = [];
let baseline = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--threads' || a === '--iters' || a === '--warmup') {
    const v = Number(args[++i]);
    const min = a === '--iters' ? 1 : a === '--threads' ? 1 : 0;
    if (!Number.isInteger(v) || v < min) die(`${a} takes an integer >= ${min}`);
    opt[a.slice(2)] = v;
  } else if (a === '--baseline') {
    baseline = true;
  } else if (a === '-h' || a === '--help') {
    process.stdout.write(usage + '\n');
    process.exit(0);
  } else if (a.startsWith('-')) {
    die(`unknown option ${a}\n${usage}`);
  } else {
    pos.push(a);
  }
}

let ort;
try {
  const require = createRequire(join(ortDir, 'package.json'));
  ort = require('onnxruntime-node');
} catch (e) {
  die(`cannot load onnxruntime-node from ${ortDir}/node_modules (run scripts/ort-install): ${e.message}`);
}
if (baseline) {
  process.stdout.write(JSON.stringify({ maxrss_kb: process.resourceUsage().maxRSS }) + '\n');
  process.exit(0);
}
if (pos.length !== 2) die(usage);
const [modelPath, inputsJson] = pos;

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
  int16: Int16Array, int8: Int8Array, uint8: Uint8Array, uint16: Uint16Array, bool: Uint8Array,
};
const spec = JSON.parse(readFileSync(inputsJson, 'utf8'));
const base = dirname(resolve(inputsJson));
const feeds = {};
for (const t of spec) {
  const T = ARRAYS[t.dtype];
  if (!T) die(`unsupported dtype ${t.dtype}`);
  const buf = readFileSync(join(base, t.file));
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  const data = new T(ab);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) die(`${t.file}: ${data.length} elements for dims [${t.dims}]`);
  feeds[t.name] = new ort.Tensor(t.dtype, data, t.dims);
}

const sessionOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: opt.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
};
const t0 = performance.now();
const session = await ort.InferenceSession.create(modelPath, sessionOptions);
const createMs = performance.now() - t0;

for (let i = 0; i < opt.warmup; i++) await session.run(feeds);
const runMs = [];
for (let i = 0; i < opt.iters; i++) {
  const t1 = performance.now();
  await session.run(feeds);
  runMs.push(performance.now() - t1);
}

function quantile(sorted, q) {
  const p = q * (sorted.length - 1);
  const lo = Math.floor(p);
  if (lo + 1 >= sorted.length) return sorted[sorted.length - 1];
  return sorted[lo] + (p - lo) * (sorted[lo + 1] - sorted[lo]);
}
const sorted = [...runMs].sort((a, b) => a - b);
process.stdout.write(JSON.stringify({
  engine: 'ort',
  version: ort.env.versions?.common ?? null,
  threads: opt.threads,
  create_ms: createMs,
  run_ms: runMs,
  median_ms: quantile(sorted, 0.5),
  p90_ms: quantile(sorted, 0.9),
  min_ms: sorted[0],
  maxrss_kb: process.resourceUsage().maxRSS,
}) + '\n');
