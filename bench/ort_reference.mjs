#!/usr/bin/env node
// Run an ONNX model with ONNX Runtime (onnxruntime-node, CPU execution provider,
// all graph optimizations) on raw tensors, for reference only: onnxc does not
// depend on it.  Install ONNX Runtime with scripts/ort-install (into bench/ort/).
//
//   node bench/ort_reference.mjs MODEL.onnx INPUTS.json OUT_DIR [--runs N] [--threads N]
//
// INPUTS.json: [{"name": "input", "dtype": "float32", "dims": [1,3,224,224],
//                "file": "input_0.bin"}, ...]   (file relative to the JSON's folder,
//                raw little-endian data in C order)
// Writes OUT_DIR/ort_output_K.bin and OUT_DIR/outputs.json in the same format (one
// entry per model output, in the model's output order), and prints the session
// creation time and the run times in milliseconds as one JSON line on stdout.
// The ONNX Runtime folder can be overridden with ORT_DIR (the folder that holds
// node_modules/onnxruntime-node).

import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const ortDir = resolve(process.env.ORT_DIR || join(here, 'ort'));

function die(msg) {
  process.stderr.write(`ort_reference: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let runs = 1;
let threads = 0;
const pos = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--runs' || a === '--threads') {
    const v = Number.parseInt(args[++i], 10);
    if (!Number.isInteger(v) || v < (a === '--runs' ? 1 : 0)) die(`bad value for ${a}`);
    if (a === '--runs') runs = v; else threads = v;
  } else if (a === '-h' || a === '--help') {
    process.stdout.write('usage: node bench/ort_reference.mjs MODEL.onnx INPUTS.json OUT_DIR [--runs N] [--threads N]\n');
    process.exit(0);
  } else {
    pos.push(a);
  }
}
if (pos.length !== 3) die('usage: node bench/ort_reference.mjs MODEL.onnx INPUTS.json OUT_DIR [--runs N] [--threads N]');
const [modelPath, inputsJson, outDir] = pos;

let ort;
try {
  const require = createRequire(join(ortDir, 'package.json'));
  ort = require('onnxruntime-node');
} catch (e) {
  die(`cannot load onnxruntime-node from ${ortDir}/node_modules (run scripts/ort-install): ${e.message}`);
}

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  bool: Uint8Array,
};

function toTypedArray(buf, dtype) {
  const T = ARRAYS[dtype];
  if (!T) die(`unsupported dtype ${dtype}`);
  // Copy into a fresh, aligned ArrayBuffer.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new T(ab);
}

const spec = JSON.parse(readFileSync(inputsJson, 'utf8'));
const base = dirname(resolve(inputsJson));
const feeds = {};
for (const t of spec) {
  const data = toTypedArray(readFileSync(join(base, t.file)), t.dtype);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) die(`${t.file}: ${data.length} elements for dims [${t.dims}]`);
  feeds[t.name] = new ort.Tensor(t.dtype, data, t.dims);
}

const opts = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
};
if (threads > 0) opts.intraOpNumThreads = threads;

const t0 = performance.now();
const session = await ort.InferenceSession.create(modelPath, opts);
const createMs = performance.now() - t0;

for (const name of Object.keys(feeds)) {
  if (!session.inputNames.includes(name)) die(`model has no input named '${name}' (inputs: ${session.inputNames.join(', ')})`);
}

const runMs = [];
let results;
for (let r = 0; r < runs; r++) {
  const t1 = performance.now();
  results = await session.run(feeds);
  runMs.push(performance.now() - t1);
}

mkdirSync(outDir, { recursive: true });
const outSpec = [];
session.outputNames.forEach((name, k) => {
  const t = results[name];
  const file = `ort_output_${k}.bin`;
  const d = t.data;
  writeFileSync(join(outDir, file), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  outSpec.push({ name, dtype: t.type, dims: t.dims.map(Number), file });
});
writeFileSync(join(outDir, 'outputs.json'), JSON.stringify(outSpec, null, 1) + '\n');
process.stdout.write(JSON.stringify({ ort_version: ort.env.versions?.common ?? null, create_ms: createMs, run_ms: runMs }) + '\n');
