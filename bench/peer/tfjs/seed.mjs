// The Keras seed model in TensorFlow.js (the Keras twin), trained with trainOnBatch on Fashion-MNIST
// training images, batch 128, Adam 1e-3: its training images/s beside GpuCnn's on the same cores.
// Usage: node seed.mjs DATA_DIR [--batches N] [--backend wasm|cpu]
// TF.js 4.22's WebAssembly backend has no Conv2DBackpropFilter kernel, so training stops there; the
// script says so and exits 3. The pure-JavaScript cpu backend trains.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const dataDir = args[0];
const batches = Number(option('--batches', 20));
const backend = option('--backend', 'wasm');
const Batch = 128;

const idx = (file, header) => gunzipSync(readFileSync(join(dataDir, file))).subarray(header);
const pixels = idx('train-images-idx3-ubyte.gz', 16);
const labels = idx('train-labels-idx1-ubyte.gz', 8);

await tf.setBackend(backend);
await tf.ready();
const model = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
  tf.layers.maxPooling2d({ poolSize: 2 }),
  tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
  tf.layers.maxPooling2d({ poolSize: 2 }),
  tf.layers.dropout({ rate: 0.25 }),
  tf.layers.flatten(),
  tf.layers.dense({ units: 128, activation: 'relu' }),
  tf.layers.dropout({ rate: 0.5 }),
  tf.layers.dense({ units: 10, activation: 'softmax' }),
] });
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });

function batch(b) {
  const start = (b * Batch) % (labels.length - Batch);
  const x = tf.tensor4d(Float32Array.from(pixels.subarray(start * 784, (start + Batch) * 784), v => v / 255), [Batch, 28, 28, 1]);
  const y = tf.tensor1d(Float32Array.from(labels.subarray(start, start + Batch)));
  return [x, y];
}

async function step(b) {
  const [x, y] = batch(b);
  await model.trainOnBatch(x, y);
  tf.dispose([x, y]);
}

try {
  for (let b = 0; b < 3; b++) await step(b); // warm-up
} catch (e) {
  console.log(`TensorFlow.js ${tf.version.tfjs} (${backend}): cannot train the seed model: ${e.message}`);
  process.exit(3);
}
const start = process.hrtime.bigint();
for (let b = 0; b < batches; b++) await step(b);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`TensorFlow.js ${tf.version.tfjs} (${backend} backend, Node ${process.version}): seed training step ` +
  `${(seconds * 1e3 / batches).toFixed(2)} ms, ${(batches * Batch / seconds).toFixed(1)} images/s over ${batches} batches of ${Batch}`);
