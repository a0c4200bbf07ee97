// Runs an ONNX file on a batch of NHWC float32 pictures and prints the output as JSON.
// Usage: node run.mjs MODEL.onnx INPUT.f32 N H W C   (INPUT.f32: N·H·W·C little-endian floats)
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

const [model, input, n, h, w, c] = process.argv.slice(2);
const dims = [n, h, w, c].map(Number);
const bytes = readFileSync(input);
const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(readFileSync(model));
const results = await session.run({ input: new ort.Tensor('float32', data, dims) });
const logits = results[session.outputNames[0]];
console.log(JSON.stringify({ name: session.outputNames[0], dims: logits.dims, data: Array.from(logits.data) }));
