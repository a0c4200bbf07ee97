#!/usr/bin/env python3
"""GpuCnn's resnet20 trained in PyTorch on Fashion-MNIST with a GpuCnn recipe (by default
recipes/resnet20-modern.json), on the CPU in FP32 and channels_last, following GpuCnn's training
loop step for step, so that a run of GpuCnn and a run of this script differ in the engine's
arithmetic and not in the recipe.

    python3 tools/torch-recipe.py DATA_DIR [--recipe recipes/resnet20-modern.json] [--epochs N]
        [--seed S] [--train-limit N] [--threads T] [--out FILE]

DATA_DIR holds the Fashion-MNIST IDX files (gzip or not), e.g. ~/.cache/gpucnn/fashion-mnist.
Every hyperparameter comes from the recipe (a settings file: model, hyperparameters, data);
--epochs, --seed and --train-limit override it, and the schedule spans the epochs given, as
`gpucnn train --config RECIPE --epochs N` does. It prints one line per epoch as GpuCnn does, with
the learning rate of the epoch's last batch, then the test loss and accuracy of the model as the
last epoch leaves it (the weight average with PreciseBN's statistics, scored with test-time flips
where the recipe asks; never the best epoch). --out FILE writes the epochs as GpuCnn's
metrics.csv (epoch,loss,accuracy,val_loss,val_accuracy,seconds,images_per_second,learning_rate),
rewritten after each epoch, and the test result with the settings beside it in FILE's stem +
".json". A recipe for another model, or with an option this script does not implement (an
optimizer other than sgd-nesterov, frozen layers, another image size, an unknown key), is refused
with one line and exit code 2, as is a bad command-line option.

The model is bench/peer/torch_peer.py's resnet20 (imported from that file): GpuCnn's HeResNet
with batch norm as GpuCnn has it (momentum 0.99, epsilon 1e-3). What is matched, with where GpuCnn
does it:
- Data (src/GpuCnn/Data/FashionMnist.cs, ImageSet.cs, Api/Model.cs Fit): the files' order; a train
  limit takes the first images; the last floor(count x validation_split) of them validate, the
  rest train; pixels are uint8 x (1f/255f) in float32.
- Initial weights (Models/Sequential.cs BindParameters, Layers/Parameter.cs, Conv2D.cs, Dense.cs):
  GpuCnn's own generator (Randomness/SeededRandom.cs, Knuth's subtractive generator), ported
  here, draws Glorot-uniform kernels layer by layer in GpuCnn's order and layout (HWIO, then
  transposed to PyTorch's), fan-in k*k*in and fan-out k*k*out; biases and beta 0, gamma 1, moving
  mean 0 and variance 1. So the same seed should give GpuCnn's initial weights to the bit (the
  generator is checked against values GpuCnn's tests pin; resnet20's draw order is read from
  the code, not compared with a GpuCnn-built model).
- Epoch order (Training/Trainer.cs, BatchFeeder.cs): the training indices shuffled by
  SeededRandom(seed*7919 + epoch)'s Fisher-Yates; batches in that order, the last one short
  (ceil(count/batch) batches, its loss the mean over its own rows).
- Augmentation (kernels/GpuCnn.Kernels/DataKernels.cs, CounterRng.cs): the same counter-based hash,
  ported, keyed as GpuCnn keys it (the step seed Hash(seed, optimizer steps so far), the position
  in the epoch's order), so every image gets GpuCnn's shift (dy, dx in [-s, s], zero fill), flip
  (the hash's top bit) and random erasing (chance in 1/65536ths; area 2 to 33 % of the image in
  whole pixels, height 1..H, width area/height, aspect 0.3 to 3.3, up to 10 tries, zero fill).
  The same seed gives the same batches with the same augmentations as GpuCnn (the port is
  checked against a loop-for-loop transcription of the kernels, not against GpuCnn's output).
- Loss (Training/SoftmaxCrossEntropy.cs, kernels LossKernels.cs): softmax cross-entropy against
  (1 - s)*onehot + s/classes (PyTorch's label_smoothing is this); the training loss reported is
  this smoothed loss, validation and test report the plain cross-entropy; accuracy is the first
  argmax; epoch figures are sums over rows divided by rows.
- Optimizer (Training/Optimizer.cs, kernels OptimizerKernels.cs SgdNesterovUpdate): PyTorch's
  SGD(momentum 0.9, nesterov) is GpuCnn's update g' = g + wd*mask*p; v = 0.9v + g';
  p -= lr*(g' + 0.9v); decay only on convolution and dense kernels unless decay_all (Api/Model.cs
  Decays: names ending in /kernel), never on the dense bias or batch norm's gamma and beta.
- Learning rate (Training/Hyperparameters.cs LearningRateAt): set before every batch from the same
  formula (OneCycle: from lr/25 up along a cosine over round(0.3 x steps) - 1 steps, or the
  warm-up, then down to lr/250000; momentum stays 0.9); constant, step, cosine and
  warmup-cosine too; rates rounded to float32 as GpuCnn's are.
- Weight average (Training/EmaWeights.cs, kernels EmaKernels.cs): after step t (1 for the first),
  average = d*average + (1 - d)*live with d = min(decay, (1 + t)/(10 + t)) under the warm-up,
  over the weights and batch norm's moving means and variances alike, starting from the initial
  weights; training goes on from the live weights, and validation, PreciseBN and the test use
  the average.
- PreciseBN (Training/BatchNormRecalibration.cs, Trainer.cs RunEpoch): at each epoch's end, on
  the average, the moving statistics are replaced by the equal-weight mean of the batch means and
  biased batch variances over the first min(N, images/batch) full batches of that epoch's order,
  without augmentation, each batch normalised with its own statistics; the recalibrated
  statistics stay in the average, which later steps keep averaging.
- Batch norm's moving variance in training is Keras's, from the biased batch variance (kernels
  BatchNormKernels.cs), where PyTorch's uses the unbiased one: a hook rescales PyTorch's update.
- Test-time flip (Training/Evaluator.cs): the mean of the logits of an image and its mirror, for
  validation and the test.
- Timing (Trainer.cs): seconds are the epoch's training batches only (not PreciseBN or
  validation); images/s are training images over those seconds.

Where it differs:
- The arithmetic. PyTorch's CPU kernels (oneDNN convolutions, ATen batch norm and reductions)
  round differently from GpuCnn's ILGPU kernels (its own GEMM and Winograd convolutions,
  summation orders), and training amplifies last-bit differences, so the two runs start from
  the same weights and see the same batches but drift apart; one run of each can differ by about
  the spread between seeds, not by nothing. The inputs are the same, not the trajectory.
- The epoch's training loss sums the batch mean times its rows, not each row's loss in double.
- Only a fresh run: no checkpoints, no resuming, no data-parallel ranks; early stopping is
  Keras's rule on val_loss as GpuCnn's, and stops training, nothing else.
- Images/s measure this CPU, not GpuCnn's device; compare accuracies, not speeds.
PyTorch 2.6 and NumPy; the random-stream ports check themselves against the values
tests/GpuCnn.Tests/Randomness/SeededRandomTests.cs pins before training.
"""
import argparse
import copy
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, os.pardir, "bench", "peer", "torch_peer.py")
DEFAULT_RECIPE = os.path.relpath(os.path.join(HERE, os.pardir, "recipes", "resnet20-modern.json"))
SCALE = np.float32(1) / np.float32(255)  # DataKernels.GatherBatch: uint8 x (1f / 255f)
MOMENTUM = 0.9  # Optimizer.cs SgdMomentum
M32 = 0xFFFFFFFF


def refuse(message):
    """One line on stderr and exit code 2: a bad option or a recipe this script does not run."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        refuse(f"{message} (see --help)")


# --- GpuCnn's random streams, ported -------------------------------------------------------------

def i32(value):
    """C#'s unchecked int arithmetic."""
    return (value + 2**31) % 2**32 - 2**31


class SeededRandom:
    """src/GpuCnn/Randomness/SeededRandom.cs: Knuth's subtractive generator as .NET's seeded System.Random."""
    MODULUS = 2**31 - 1

    def __init__(self, seed):
        state = [0] * 56
        value = i32(161_803_398 - (self.MODULUS if seed == -2**31 else abs(seed)))
        state[55] = value
        previous, index = 1, 0
        for _ in range(1, 55):
            index += 21
            if index >= 55:
                index -= 55
            state[index] = previous
            previous = i32(value - previous)
            if previous < 0:
                previous = i32(previous + self.MODULUS)
            value = state[index]
        for _ in range(1, 5):
            for i in range(1, 56):
                lagged = i + 30
                if lagged >= 55:
                    lagged -= 55
                state[i] = i32(state[i] - state[1 + lagged])
                if state[i] < 0:
                    state[i] = i32(state[i] + self.MODULUS)
        self.state, self.next, self.next21 = state, 0, 21

    def sample(self):
        self.next = 1 if self.next + 1 >= 56 else self.next + 1
        self.next21 = 1 if self.next21 + 1 >= 56 else self.next21 + 1
        result = i32(self.state[self.next] - self.state[self.next21])
        if result == self.MODULUS:
            result -= 1
        if result < 0:
            result = i32(result + self.MODULUS)
        self.state[self.next] = result
        return result

    def next_double(self):
        return self.sample() * (1.0 / self.MODULUS)

    def shuffle(self, values):
        """Fisher-Yates from the front: position i swaps with Next(i, n)."""
        n = len(values)
        for i in range(n - 1):
            j = int(self.next_double() * (n - i)) + i
            if j != i:
                values[i], values[j] = values[j], values[i]
        return values


def hash32(seed, counter):
    """kernels/GpuCnn.Kernels/CounterRng.cs Hash, for one counter."""
    seed &= M32
    state = ((counter & M32) * 747796405 + 2891336453 + seed * 0x9E3779B9) & M32
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & M32
    word = ((word >> 22) ^ word) ^ seed
    word = (word * 0x85EBCA6B) & M32
    word ^= word >> 13
    word = (word * 0xC2B2AE35) & M32
    return word ^ (word >> 16)


def counter_hash(seed, counters):
    """The same hash over an array of counters (uint64 arithmetic, masked to 32 bits); int64 results."""
    m = np.uint64(M32)
    s = np.uint64(seed & M32)
    c = np.asarray(counters, dtype=np.uint64) & m
    state = (c * np.uint64(747796405) + np.uint64(2891336453) + ((s * np.uint64(0x9E3779B9)) & m)) & m
    word = (((state >> ((state >> np.uint64(28)) + np.uint64(4))) ^ state) * np.uint64(277803737)) & m
    word = ((word >> np.uint64(22)) ^ word) ^ s
    word = (word * np.uint64(0x85EBCA6B)) & m
    word ^= word >> np.uint64(13)
    word = (word * np.uint64(0xC2B2AE35)) & m
    return (word ^ (word >> np.uint64(16))).astype(np.int64)


def glorot_uniform(random, count, fan_in, fan_out):
    """Layers/Parameter.cs GlorotUniform: (float)(NextDouble()*2 - 1) * MathF.Sqrt(6f / (fanIn + fanOut))."""
    limit = np.sqrt(np.float32(6) / np.float32(fan_in + fan_out))
    draws = np.array([random.next_double() for _ in range(count)], dtype=np.float64)
    return (draws * 2 - 1).astype(np.float32) * limit


def check_streams():
    """The values tests/GpuCnn.Tests/Randomness/SeededRandomTests.cs pins for seed 42, and the hash's two ports agreeing."""
    random = SeededRandom(42)
    draws = [random.next_double() for _ in range(4)]
    order = SeededRandom(42).shuffle(list(range(54_000)))[:8]
    weights = glorot_uniform(SeededRandom(42), 4, 9, 288)  # the seed model's first kernel, 3x3x1x32
    hashes = [hash32(seed, c) for seed in (0, 42, 0xDEADBEEF) for c in (0, 1, 54_000 * 64 + 37, M32)]
    ported = [int(v) for seed in (0, 42, 0xDEADBEEF) for v in counter_hash(seed, [0, 1, 54_000 * 64 + 37, M32])]
    if (draws != [0.66810646591154232, 0.14090729837348093, 0.12551828945312568, 0.52276427602524134]
            or order != [36077, 7609, 6779, 28230, 9098, 14183, 39119, 27701]
            or weights.tolist() != np.array([0.047787227, -0.10207844, -0.10645303, 0.0064711473], np.float32).tolist()
            or hashes != ported):
        sys.exit("error: the port of GpuCnn's random streams does not give the values GpuCnn's tests pin")


# --- the recipe ------------------------------------------------------------------------------------

SCHEDULES = ("constant", "step", "cosine", "onecycle", "warmup-cosine")
# Hyperparameters.cs's defaults, for keys a settings file may leave out.
DEFAULTS = {
    "epochs": 15, "batch_size": 128, "learning_rate": 1e-3, "optimizer": "adam", "seed": 42,
    "validation_split": 0.1, "augmentation": {"max_shift": 0, "flip": False, "erase_probability": 0.0},
    "early_stopping_patience": None, "lr_schedule": "constant", "step_every": 5, "step_gamma": 0.5,
    "bn_recalibrate": 0, "weight_decay": 0.0, "decay_all": False, "label_smoothing": 0.0,
    "warmup_epochs": 0.0, "test_time_flip": False, "ema": None, "freeze": None,
}
DATA_KEYS = ("data_dir", "cache_dir", "train_limit", "image_height", "image_width", "channels", "skip_bad_images")


def f32(value):
    return float(np.float32(value))


def load_recipe(path, args):
    """The recipe's hyperparameters as a dict, with the command line's overrides; refuses what is not implemented."""
    try:
        with open(path, encoding="utf-8") as f:
            recipe = json.load(f)
    except (OSError, ValueError) as e:
        refuse(f"cannot read the recipe {path}: {e}")
    if not isinstance(recipe, dict):
        refuse(f"{path} is not a settings object (model, hyperparameters, data)")
    for key in recipe:
        if key not in ("model", "hyperparameters", "data"):
            refuse(f"{path}: unknown key '{key}' (this script reads model, hyperparameters and data)")
    if recipe.get("model") != "resnet20":
        refuse(f"{path} trains model {recipe.get('model')!r}; this script trains only resnet20")
    given = recipe.get("hyperparameters") or {}
    for key in given:
        if key not in DEFAULTS:
            refuse(f"{path}: hyperparameter '{key}' is not one this script implements")
    h = {**DEFAULTS, **given}
    augmentation = {**DEFAULTS["augmentation"], **(h["augmentation"] or {})}
    for key in augmentation:
        if key not in DEFAULTS["augmentation"]:
            refuse(f"{path}: augmentation '{key}' is not one this script implements")
    h["augmentation"] = augmentation
    data = recipe.get("data") or {}
    for key in data:
        if key not in DATA_KEYS:
            refuse(f"{path}: data key '{key}' is not one this script implements")
    if (data.get("image_height", 28), data.get("image_width", 28), data.get("channels", 1)) != (28, 28, 1):
        refuse(f"{path}: images of {data.get('image_height')}x{data.get('image_width')}x{data.get('channels')}; this script trains on Fashion-MNIST's 28x28x1")

    if h["optimizer"] != "sgd-nesterov":
        refuse(f"{path}: optimizer '{h['optimizer']}' is not implemented here (only sgd-nesterov)")
    if h["lr_schedule"] not in SCHEDULES:
        refuse(f"{path}: lr_schedule '{h['lr_schedule']}' is not one of {', '.join(SCHEDULES)}")
    if h["freeze"] is not None:
        refuse(f"{path}: freezing layers ('freeze': {h['freeze']!r}) is not implemented here")
    ema = h["ema"]
    if ema is not None:
        if not isinstance(ema, dict) or set(ema) - {"decay", "warmup"} or "decay" not in ema:
            refuse(f"{path}: 'ema' must be null or {{\"decay\", \"warmup\"}}")
        if not 0 < f32(ema["decay"]) < 1:
            refuse(f"{path}: 'ema' has decay {ema['decay']}; it must be between 0 and 1 (both excluded)")

    h["train_limit"] = data.get("train_limit")
    for key, value in (("epochs", args.epochs), ("seed", args.seed), ("train_limit", args.train_limit)):
        if value is not None:
            h[key] = value
    ints = ("epochs", "batch_size", "seed", "step_every", "bn_recalibrate")
    numbers = ("learning_rate", "validation_split", "step_gamma", "weight_decay", "label_smoothing", "warmup_epochs")
    if any(not isinstance(h[k], int) or isinstance(h[k], bool) for k in ints) \
            or not isinstance(augmentation["max_shift"], int) or isinstance(augmentation["max_shift"], bool):
        refuse(f"{path}: {', '.join(ints)} and max_shift must be integers")
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in [h[k] for k in numbers] + [augmentation["erase_probability"]]):
        refuse(f"{path}: {', '.join(numbers)} and erase_probability must be numbers")
    if not all(isinstance(v, bool) for v in (h["decay_all"], h["test_time_flip"], augmentation["flip"])):
        refuse(f"{path}: decay_all, test_time_flip and flip must be true or false")
    if augmentation["max_shift"] < 0 or not 0 <= augmentation["erase_probability"] <= 1:
        refuse(f"{path}: max_shift must be at least 0 and erase_probability in [0, 1]")
    if h["epochs"] < 1 or h["batch_size"] < 1 or h["bn_recalibrate"] < 0:
        refuse("epochs and batch_size must be at least 1, bn_recalibrate at least 0")
    if not 0 <= h["validation_split"] < 1:
        refuse(f"validation_split {h['validation_split']} must be in [0, 1)")
    if h["train_limit"] is not None and (not isinstance(h["train_limit"], int) or h["train_limit"] < 1):
        refuse("train_limit must be a positive integer")
    return h


def learning_rate_at(h, epoch, batch, batches):
    """Training/Hyperparameters.cs LearningRateAt: the rate of one batch, rounded to float32."""
    step, total = epoch * batches + batch, h["epochs"] * batches
    warmup = round(h["warmup_epochs"] * batches)  # Math.Round: half to even, as Python's round
    lr = f32(h["learning_rate"])
    schedule = h["lr_schedule"]

    def anneal(start, end, t):
        return end + (start - end) / 2 * (math.cos(math.pi * min(1, t)) + 1)

    if schedule == "onecycle":
        peak = lr
        start = peak / 25
        end = start / 1e4
        rise = (warmup if warmup > 0 else round(0.3 * total)) - 1
        if step <= rise:
            return f32(anneal(start, peak, step / rise if rise > 0 else 1))
        return f32(anneal(peak, end, (step - rise) / max(1.0, total - 1 - rise)))
    if schedule == "warmup-cosine":
        if step < warmup:
            return f32(lr * (step + 1.0) / warmup)
        return f32(lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))))
    if schedule == "step":
        rate = np.float32(lr) * np.float32(h["step_gamma"]) ** np.float32(epoch // max(1, h["step_every"]))
    elif schedule == "cosine":
        rate = np.float32(lr) * np.float32(0.5) * (np.float32(1) + np.cos(np.float32(math.pi) * np.float32(epoch) / np.float32(max(1, h["epochs"]))))
    else:
        rate = np.float32(lr)
    return f32(float(rate) * (step + 1.0) / warmup) if step < warmup else f32(rate)


# --- data --------------------------------------------------------------------------------------------

class Augmentation:
    def __init__(self, max_shift=0, flip=False, erase_probability=0.0, mirror_all=False):
        self.max_shift, self.flip, self.mirror_all = int(max_shift), bool(flip), mirror_all
        self.erase_chance = round(erase_probability * 65536)  # Augmentation.EraseChance


NONE, MIRROR = Augmentation(), Augmentation(mirror_all=True)


def erase(batch, positions, seed, chance):
    """DataKernels.Erase, over the batch's images at once: the same draws, zeroed in place."""
    _, height, width = batch.shape
    erase_seed = (seed ^ 0x5BD1E995) & M32
    counter = (positions.astype(np.uint64) * np.uint64(64)) & np.uint64(M32)
    pending = counter_hash(erase_seed, counter) % 65536 < chance
    area = height * width
    fewest, most = area * 2 // 100, area * 33 // 100
    for attempt in range(10):
        if not pending.any():
            break
        erased = fewest + counter_hash(erase_seed, counter + np.uint64(4 * attempt + 1)) % (most - fewest + 1)
        h = 1 + counter_hash(erase_seed, counter + np.uint64(4 * attempt + 2)) % height
        w = erased // h
        fits = pending & (w >= 1) & (w <= width) & ~((h == height) & (w == width)) & (10 * h >= 3 * w) & (10 * h <= 33 * w)
        if not fits.any():
            continue
        tops = counter_hash(erase_seed, counter + np.uint64(4 * attempt + 3)) % np.where(fits, height - h + 1, 1)
        lefts = counter_hash(erase_seed, counter + np.uint64(4 * attempt + 4)) % np.where(fits, width - w + 1, 1)
        for b in np.flatnonzero(fits):
            batch[b, tops[b]:tops[b] + h[b], lefts[b]:lefts[b] + w[b]] = 0
        pending &= ~fits


def gather(images, labels, order, offset, rows, augmentation, seed):
    """DataKernels.GatherBatch: images order[offset:offset+rows] scaled to [0, 1], augmented as drawn
    from CounterRng.Hash(seed, position in the order); an NCHW float tensor in channels_last, and the labels."""
    index = order[offset:offset + rows]
    source = images[index]
    _, height, width = source.shape
    positions = np.arange(offset, offset + rows, dtype=np.uint64)
    a = augmentation
    if a.max_shift == 0 and not a.flip and not a.mirror_all:
        batch = source.astype(np.float32) * SCALE
    else:
        bits = counter_hash(seed, positions)
        span = 2 * a.max_shift + 1
        dy = bits % span - a.max_shift
        dx = bits // span % span - a.max_shift
        flip = np.full(rows, True) if a.mirror_all else ((bits >> 31) & int(a.flip)) != 0
        y = np.arange(height)[None, :, None]
        x = np.arange(width)[None, None, :]
        sy = y - dy[:, None, None]
        sx = np.where(flip[:, None, None], width - 1 - x, x) - dx[:, None, None]
        inside = (sy >= 0) & (sy < height) & (sx >= 0) & (sx < width)
        picked = source[np.arange(rows)[:, None, None], np.clip(sy, 0, height - 1), np.clip(sx, 0, width - 1)]
        batch = np.where(inside, picked.astype(np.float32) * SCALE, np.float32(0))
    if a.erase_chance > 0:
        erase(batch, positions, seed, a.erase_chance)
    x = torch.from_numpy(np.ascontiguousarray(batch)).reshape(rows, 1, height, width)
    return x.contiguous(memory_format=torch.channels_last), torch.from_numpy(labels[index].astype(np.int64))


def read_set(peer, folder, prefix):
    """An IDX images file and its labels, through torch_peer's reader: (count x 28 x 28 uint8, count uint8)."""
    labels = peer.read_idx(folder, f"{prefix}-labels-idx1-ubyte", 8)
    pixels = peer.read_idx(folder, f"{prefix}-images-idx3-ubyte", 16)
    if pixels.size != labels.size * 28 * 28:
        sys.exit(f"error: {prefix}-images-idx3-ubyte in {folder} does not hold {labels.size} images of 28x28")
    return pixels.reshape(labels.size, 28, 28), labels


# --- the model, its average and batch norm -------------------------------------------------------------

def load_peer():
    spec = importlib.util.spec_from_file_location("torch_peer", PEER)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer


def initialise(model, seed):
    """Sequential.BindParameters: one SeededRandom(seed) draws every Glorot-uniform kernel in layer order (HWIO)."""
    random = SeededRandom(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                out, inp, kh, kw = module.weight.shape
                values = glorot_uniform(random, module.weight.numel(), kh * kw * inp, kh * kw * out)
                module.weight.copy_(torch.from_numpy(values.reshape(kh, kw, inp, out).transpose(3, 2, 0, 1).copy()))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.Linear):
                values = glorot_uniform(random, module.weight.numel(), module.in_features, module.out_features)
                module.weight.copy_(torch.from_numpy(values.reshape(module.in_features, module.out_features).T.copy()))
                module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()


def batch_norms(model):
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def _before_batch_norm(module, inputs):
    x = inputs[0]
    module.rows = x.numel() // x.shape[1]  # N*H*W, the rows each channel's statistics cover
    if module.training and module.momentum is not None:
        module.previous_variance = module.running_var.clone()


def _after_batch_norm(module, inputs, output):
    """Keras's moving variance (BatchNormKernels.BatchNormVariance) takes the biased batch variance b,
    PyTorch's the unbiased u = b*n/(n-1): of the update m*u, keep m*u*(n-1)/n = m*b. Through .data, as
    the backward pass checks the version of the moving variance it was given (in training it does not read it)."""
    previous = module.__dict__.pop("previous_variance", None)
    if previous is not None:
        with torch.no_grad():
            variance = module.running_var.data
            variance.sub_((variance - (1 - module.momentum) * previous) / module.rows)


def hook_batch_norms(model):
    for bn in batch_norms(model):
        bn.register_forward_pre_hook(_before_batch_norm)
        bn.register_forward_hook(_after_batch_norm)


class WeightAverage:
    """Training/EmaWeights.cs: an average of the weights and of batch norm's moving statistics, in a copy of the model."""

    def __init__(self, model, decay, warmup):
        self.model = copy.deepcopy(model)  # the average starts as the weights before the first step
        self.decay, self.warmup = f32(decay), bool(warmup)
        self.pairs = list(zip(self.model.parameters(), model.parameters()))
        self.pairs += [(a, l) for ab, lb in zip(batch_norms(self.model), batch_norms(model))
                       for a, l in ((ab.running_mean, lb.running_mean), (ab.running_var, lb.running_var))]

    def update(self, step):
        """After optimizer step `step` (1 for the first): average = d*average + (1 - d)*live."""
        d = f32(min(self.decay, (1.0 + step) / (10.0 + step))) if self.warmup else self.decay
        rest = f32(np.float32(1) - np.float32(d))
        with torch.no_grad():
            for average, live in self.pairs:
                average.mul_(d).add_(live, alpha=rest)


def recalibrate(model, images, labels, order, batch_size, batches):
    """BatchNormRecalibration.Run: moving statistics = the equal-weight mean over the first full batches of
    the order, unaugmented, each normalised with its own statistics; the variance the mean of biased ones."""
    norms = batch_norms(model)
    count = min(batches, len(order) // batch_size)
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # PyTorch's cumulative average: moving = (1 - w)*moving + w*batch, w = 1/(b+1)
    training = model.training
    model.train()
    with torch.no_grad():
        for b in range(count):
            model(gather(images, labels, order, b * batch_size, batch_size, NONE, 0)[0])
    for bn, momentum in zip(norms, momenta):
        bn.running_var.mul_((bn.rows - 1) / bn.rows)  # every batch full: mean of unbiased = n/(n-1) x mean of biased
        bn.momentum = momentum
    model.train(training)
    return count


def evaluate(model, images, labels, order, batch_size, flip):
    """Evaluator.Evaluate over images[order]: inference, plain cross-entropy and accuracy, with the mean of
    an image's and its mirror's logits under flip."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.inference_mode():
        for offset in range(0, len(order), batch_size):
            rows = min(batch_size, len(order) - offset)
            x, y = gather(images, labels, order, offset, rows, NONE, 0)
            logits = model(x)
            if flip:
                logits = 0.5 * (logits + model(gather(images, labels, order, offset, rows, MIRROR, 0)[0]))
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return loss / len(order), correct / len(order)


# --- training ----------------------------------------------------------------------------------------------

def no_improvement_for(history, patience):
    """Trainer.NoImprovementFor: Keras's EarlyStopping on val_loss."""
    losses = [m["val_loss"] for m in history]
    if len(history) <= patience or any(math.isnan(v) for v in losses):
        return False
    best = min(losses)
    return all(v > best for v in losses[-patience:])


def write_csv(path, history):
    columns = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_second", "learning_rate")
    text = ",".join(columns) + "\n" + "".join(
        ",".join(str(m[c]) if c == "epoch" else repr(float(m[c])).replace("nan", "NaN") for c in columns) + "\n" for m in history)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="folder of the Fashion-MNIST IDX files")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, help="a GpuCnn settings file (default: recipes/resnet20-modern.json)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the recipe's); the schedule spans them")
    parser.add_argument("--seed", type=int, help="seed of the weights, the order and the augmentation (default: the recipe's)")
    parser.add_argument("--train-limit", type=int, help="train (and validate) on the first N training images")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op CPU threads (default: every core)")
    parser.add_argument("--out", help="write the epochs' metrics to this CSV, and the test result to its stem + .json")
    args = parser.parse_args()
    if args.threads < 1:
        refuse("--threads must be at least 1")
    if args.out:
        if os.path.splitext(args.out)[1].lower() == ".json":
            refuse("--out names the CSV; the test result goes to its stem + .json")
        try:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        except OSError as e:
            refuse(f"cannot make the folder of --out {args.out}: {e}")
    if not os.path.isdir(args.data_dir):
        refuse(f"data folder {args.data_dir} not found")
    h = load_recipe(args.recipe, args)
    check_streams()

    torch.set_num_threads(args.threads)
    torch.manual_seed(h["seed"] & M32)  # nothing in this model draws from PyTorch's generator; for certainty
    peer = load_peer()
    images, labels = read_set(peer, args.data_dir, "train")
    test_images, test_labels = read_set(peer, args.data_dir, "t10k")
    if h["train_limit"] is not None:
        images, labels = images[:h["train_limit"]], labels[:h["train_limit"]]
    validation_count = math.floor(len(labels) * h["validation_split"])
    train_count = len(labels) - validation_count
    batch_size = h["batch_size"]
    if batch_size > train_count:
        refuse(f"batch size {batch_size} is larger than the {train_count} training images")
    batches = (train_count + batch_size - 1) // batch_size
    validation = np.arange(train_count, len(labels))

    model = peer.resnet20_model()
    initialise(model, h["seed"])
    model = model.to(memory_format=torch.channels_last).train()
    average = WeightAverage(model, h["ema"]["decay"], h["ema"].get("warmup", False)) if h["ema"] else None
    hook_batch_norms(model)
    if average:
        hook_batch_norms(average.model)
    evaluated = average.model if average else model
    decayed = [p for p in model.parameters() if h["decay_all"] or p.dim() > 1]  # conv and dense kernels
    kept = [p for p in model.parameters() if not (h["decay_all"] or p.dim() > 1)]
    optimizer = torch.optim.SGD([{"params": decayed, "weight_decay": f32(h["weight_decay"])},
                                 {"params": kept, "weight_decay": 0.0}],
                                lr=f32(h["learning_rate"]), momentum=MOMENTUM, nesterov=True)
    training_augmentation = Augmentation(**h["augmentation"])

    epochs = h["epochs"]
    augment = h["augmentation"]
    print(f"PyTorch {torch.__version__} on the CPU ({torch.get_num_threads()} threads), FP32, channels_last; "
          f"model resnet20 from {os.path.relpath(PEER)}", flush=True)
    print(f"Recipe {args.recipe}: {epochs} epochs, batch {batch_size}, sgd-nesterov lr {h['learning_rate']} ({h['lr_schedule']}), "
          f"weight decay {h['weight_decay']}{' on every parameter' if h['decay_all'] else ' on kernels'}, "
          f"label smoothing {h['label_smoothing']}, shift {augment['max_shift']}, flip {augment['flip']}, "
          f"erasing {augment['erase_probability']}, EMA {h['ema']}, PreciseBN {h['bn_recalibrate']} batches, "
          f"test-time flip {h['test_time_flip']}, seed {h['seed']}", flush=True)
    print(f"Training on {train_count} images, validating on {validation_count}, testing on {len(test_labels)}.", flush=True)

    history, steps, learning_rate = [], 0, f32(h["learning_rate"])
    for epoch in range(epochs):
        clock = time.perf_counter()
        order = np.array(SeededRandom(i32(h["seed"] * 7919 + epoch)).shuffle(list(range(train_count))), dtype=np.int64)
        model.train()
        loss_sum, correct = 0.0, 0
        for batch in range(batches):
            learning_rate = learning_rate_at(h, epoch, batch, batches)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate
            rows = min(batch_size, train_count - batch * batch_size)
            x, y = gather(images, labels, order, batch * batch_size, rows, training_augmentation, hash32(h["seed"], steps))
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=f32(h["label_smoothing"]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
            if average:
                average.update(steps)
            loss_sum += loss.item() * rows
            correct += (logits.detach().argmax(1) == y).sum().item()
        if not math.isfinite(loss_sum):
            sys.exit(f"error: the training loss became {loss_sum / train_count} in epoch {epoch + 1}; try a lower learning rate")
        seconds = time.perf_counter() - clock
        if h["bn_recalibrate"] > 0:
            recalibrate(evaluated, images, labels, order, batch_size, h["bn_recalibrate"])
        val_loss = val_accuracy = float("nan")
        if validation_count > 0:
            val_loss, val_accuracy = evaluate(evaluated, images, labels, validation, batch_size, h["test_time_flip"])
        metrics = {"epoch": epoch + 1, "loss": loss_sum / train_count, "accuracy": correct / train_count,
                   "val_loss": val_loss, "val_accuracy": val_accuracy, "seconds": seconds,
                   "images_per_second": train_count / seconds, "learning_rate": learning_rate}
        history.append(metrics)
        line = (f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {train_count / seconds:.0f} img/s - "
                f"loss: {metrics['loss']:.4f} - accuracy: {metrics['accuracy']:.4f}")
        if validation_count > 0:
            line += f" - val_loss: {val_loss:.4f} - val_accuracy: {val_accuracy:.4f}"
        print(line + f" - lr: {learning_rate:.6g}", flush=True)
        if args.out:
            write_csv(args.out, history)
        if h["early_stopping_patience"] is not None and no_improvement_for(history, h["early_stopping_patience"]):
            print(f"Early stopping: val_loss has not improved for {h['early_stopping_patience']} epochs.", flush=True)
            break

    test_loss, test_accuracy = evaluate(evaluated, test_images, test_labels, np.arange(len(test_labels)), batch_size,
                                      h["test_time_flip"])
    how = ", ".join(filter(None, ["weight average" if average else "live weights",
                                  f"PreciseBN over {min(h['bn_recalibrate'], train_count // batch_size)} batches" if h["bn_recalibrate"] else "",
                                  "test-time flip" if h["test_time_flip"] else ""]))
    print(f"Test accuracy: {test_accuracy:.4f} - test loss: {test_loss:.4f} (epoch {len(history)}, the last: {how})", flush=True)
    if args.out:
        result = {"test_accuracy": test_accuracy, "test_loss": test_loss, "epochs_trained": len(history),
                  "recipe": args.recipe, "hyperparameters": h, "train_images": train_count,
                  "validation_images": validation_count, "test_images": len(test_labels),
                  "torch": torch.__version__, "threads": torch.get_num_threads(), "metrics_csv": args.out}
        with open(os.path.splitext(args.out)[0] + ".json", "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
