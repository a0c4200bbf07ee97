#!/usr/bin/env python3
"""The Keras seed model in PyTorch, trained as GpuCnn trains it (Adam 1e-3 with Keras's epsilon,
batch 128, shuffled Fashion-MNIST training images held on the device), to time its training step
beside GpuCnn's bench on the same device: eager NCHW, then eager channels_last, alternating.

    python3 bench/peer/torch_seed.py DATA_DIR [--device auto|cuda|cpu] [--batches N] [--rounds R] [--tf32]

DATA_DIR holds the Fashion-MNIST IDX files (gzip or not). On a GPU the convolutions and matrix
products run in strict FP32 (no TF32), as GpuCnn's kernels do, unless --tf32. Runs on PyTorch 2.6
and later. Each result is one line: "PyTorch V DEVICE LAYOUT: seed training step T ms, R images/s ...".
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn

BATCH = 128


def read_idx(folder, name, header):
    for path in (os.path.join(folder, name + ".gz"), os.path.join(folder, name)):
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                return np.frombuffer(f.read()[header:], dtype=np.uint8)
    sys.exit(f"error: {name} not found in {folder}")


def seed_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))


def set_fp32(strict):
    """Strict FP32 (or TF32) for cuDNN convolutions and cuBLAS matrix products, on old and new PyTorch."""
    precision = "ieee" if strict else "tf32"
    try:
        torch.backends.cuda.matmul.fp32_precision = precision
        torch.backends.cudnn.conv.fp32_precision = precision
    except AttributeError:
        torch.backends.cuda.matmul.allow_tf32 = not strict
        torch.backends.cudnn.allow_tf32 = not strict


def time_layout(images, labels, device, channels_last, batches, sync):
    torch.manual_seed(42)
    model = seed_model().to(device)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    criterion = nn.CrossEntropyLoss()
    count = labels.shape[0]
    order = torch.randperm(count, device=device)

    def step(b):
        start = (b * BATCH) % (count - BATCH)
        index = order[start:start + BATCH]
        x = images.index_select(0, index).contiguous(memory_format=layout)
        loss = criterion(model(x), labels.index_select(0, index))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for b in range(10):  # warm-up: allocations, cuDNN's algorithm search
        step(b)
    sync()
    clock = time.perf_counter()
    for b in range(batches):
        step(b)
    sync()
    return time.perf_counter() - clock


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    parser.add_argument("--batches", type=int, default=0, help="timed batches (default: 400 on a GPU, 30 on a CPU)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of NCHW and channels_last")
    parser.add_argument("--tf32", action="store_true", help="let cuDNN and cuBLAS use TF32 (default: strict FP32, as GpuCnn)")
    args = parser.parse_args()

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda but PyTorch sees no CUDA device")
    device = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu")
    on_gpu = device.type == "cuda"
    batches = args.batches or (400 if on_gpu else 30)
    if on_gpu:
        set_fp32(strict=not args.tf32)
        torch.backends.cudnn.benchmark = True
        name = torch.cuda.get_device_name(device)
        sync = torch.cuda.synchronize
    else:
        name = f"{torch.get_num_threads()} threads"
        sync = lambda: None

    pixels = read_idx(args.data_dir, "train-images-idx3-ubyte", 16)
    label_bytes = read_idx(args.data_dir, "train-labels-idx1-ubyte", 8)
    count = label_bytes.shape[0]
    images = torch.from_numpy(pixels.copy()).reshape(count, 1, 28, 28).to(device).float().div_(255)
    labels = torch.from_numpy(label_bytes.astype(np.int64)).to(device)
    print(f"PyTorch {torch.__version__} on {device.type} ({name}); cuDNN benchmark {torch.backends.cudnn.benchmark}, "
          f"{'TF32 allowed' if args.tf32 else 'strict FP32'}; {count} training images on the device", flush=True)

    for round_ in range(1, args.rounds + 1):
        for channels_last in (False, True):
            seconds = time_layout(images, labels, device, channels_last, batches, sync)
            layout = "channels_last" if channels_last else "NCHW"
            print(f"PyTorch {torch.__version__} {device.type} {layout} (round {round_}): seed training step "
                  f"{seconds * 1e3 / batches:.3f} ms, {batches * BATCH / seconds:.1f} images/s over {batches} batches of {BATCH}",
                  flush=True)


if __name__ == "__main__":
    main()
