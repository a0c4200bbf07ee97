#!/usr/bin/env python3
"""GpuCnn's seed and resnet20 models in PyTorch, trained as GpuCnn trains them (Adam 1e-3 with
Keras's epsilon, batch 128, shuffled Fashion-MNIST training images held on the device), to time
their training step beside GpuCnn's bench on the same device, eager NCHW and channels_last.

    python3 bench/peer/torch_peer.py DATA_DIR [--model seed|resnet20] [--layout both|nchw|channels_last]
        [--device auto|cuda|cpu] [--batches N] [--warmup W] [--rounds R] [--threads T] [--tf32]

DATA_DIR holds the Fashion-MNIST IDX files (gzip or not). --layout both alternates NCHW and
channels_last R times (default 2). On a CPU intra-op threads are set to T (default: every core).
On a GPU the convolutions and matrix products run in strict FP32 (no TF32), as GpuCnn's kernels
do, unless --tf32. Runs on PyTorch 2.6 and later. Each result is one line:
"PyTorch V DEVICE LAYOUT (round r): MODEL training step T ms, R images/s over N batches of 128".
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
    """src/GpuCnn/Models/ModelZoo.cs Seed: the Keras Fashion-MNIST CNN."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(1600, 128), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(128, 10))


def batch_norm(channels):
    """Keras's batch norm as GpuCnn has it: moving averages with momentum 0.99 (PyTorch's 0.01), epsilon 1e-3."""
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class ResidualBlock(nn.Module):
    """src/GpuCnn/Layers/ResidualBlock.cs: conv 3x3 (stride s) -> BN -> ReLU -> conv 3x3 -> BN, plus
    the shortcut (the identity, or a 1x1 convolution of stride s and BN where the shape changes),
    then ReLU. No convolution has a bias; padding "same" is k/2 on every side in both."""

    def __init__(self, in_channels, filters, stride):
        super().__init__()
        self.conv_a = nn.Conv2d(in_channels, filters, 3, stride, padding=1, bias=False)
        self.bn_a = batch_norm(filters)
        self.conv_b = nn.Conv2d(filters, filters, 3, 1, padding=1, bias=False)
        self.bn_b = batch_norm(filters)
        self.projection = (nn.Sequential(nn.Conv2d(in_channels, filters, 1, stride, bias=False), batch_norm(filters))
                           if stride != 1 or in_channels != filters else None)

    def forward(self, x):
        y = self.bn_b(self.conv_b(torch.relu_(self.bn_a(self.conv_a(x)))))
        y += x if self.projection is None else self.projection(x)
        return torch.relu_(y)


def resnet20_model():
    """src/GpuCnn/Models/ModelZoo.cs HeResNet with 3 blocks a stage: a 3x3 stem of 16 filters with BN
    and ReLU, stages of 3 blocks at 16, 32 and 64 filters (stride 2 at the first block of the later
    two), global average pooling, a 10-way dense layer."""
    layers = [nn.Conv2d(1, 16, 3, padding=1, bias=False), batch_norm(16), nn.ReLU(inplace=True)]
    channels = 16
    for filters in (16, 32, 64):
        for block in range(3):
            layers.append(ResidualBlock(channels, filters, 2 if block == 0 and filters > 16 else 1))
            channels = filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


MODELS = {"seed": seed_model, "resnet20": resnet20_model}


def parameter_counts(model):
    """Trainable parameters, and the batch norms' moving means and variances (Keras's non-trainable ones)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    moving = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable, moving


def set_fp32(strict):
    """Strict FP32 (or TF32) for cuDNN convolutions and cuBLAS matrix products, on old and new PyTorch."""
    precision = "ieee" if strict else "tf32"
    try:
        torch.backends.cuda.matmul.fp32_precision = precision
        torch.backends.cudnn.conv.fp32_precision = precision
    except AttributeError:
        torch.backends.cuda.matmul.allow_tf32 = not strict
        torch.backends.cudnn.allow_tf32 = not strict


def time_layout(model_name, images, labels, device, channels_last, batches, warmup, sync):
    torch.manual_seed(42)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = MODELS[model_name]().to(device).to(memory_format=layout)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    criterion = nn.CrossEntropyLoss()
    count = labels.shape[0]
    order = torch.randperm(count, device=device)

    def batch(b):
        start = (b * BATCH) % (count - BATCH)
        index = order[start:start + BATCH]
        return images.index_select(0, index).contiguous(memory_format=layout), labels.index_select(0, index)

    def step(b):
        x, y = batch(b)
        loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for b in range(warmup):  # allocations, oneDNN's primitive choice, cuDNN's algorithm search
        step(b)
    # The layout really reaches the convolutions: the first one's output keeps it.
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    with torch.no_grad():
        if first(batch(0)[0]).is_contiguous(memory_format=torch.channels_last) != channels_last:
            sys.exit(f"error: the first convolution's output is not in the {'channels_last' if channels_last else 'NCHW'} layout")
    sync()
    clock = time.perf_counter()
    for b in range(batches):
        step(b)
    sync()
    return time.perf_counter() - clock


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("--model", default="seed", choices=sorted(MODELS))
    parser.add_argument("--layout", default="both", choices=["both", "nchw", "channels_last"])
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    parser.add_argument("--batches", type=int, default=0, help="timed batches (default: 400 on a GPU, 30 on a CPU)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed batches before each timing")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (alternating NCHW and channels_last with --layout both)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads on a CPU (default: every core)")
    parser.add_argument("--tf32", action="store_true", help="let cuDNN and cuBLAS use TF32 (default: strict FP32, as GpuCnn)")
    args = parser.parse_args()
    if args.batches < 0 or args.warmup < 1 or args.rounds < 1 or args.threads < 1:
        sys.exit("error: --batches must be >= 0, and --warmup, --rounds and --threads >= 1")

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
        torch.set_num_threads(args.threads)
        name = f"{torch.get_num_threads()} threads (torch.set_num_threads), oneDNN {torch.backends.mkldnn.is_available()}"
        sync = lambda: None

    pixels = read_idx(args.data_dir, "train-images-idx3-ubyte", 16)
    label_bytes = read_idx(args.data_dir, "train-labels-idx1-ubyte", 8)
    count = label_bytes.shape[0]
    images = torch.from_numpy(pixels.copy()).reshape(count, 1, 28, 28).to(device).float().div_(255)
    labels = torch.from_numpy(label_bytes.astype(np.int64)).to(device)
    trainable, moving = parameter_counts(MODELS[args.model]())
    gpu = f"; cuDNN benchmark {torch.backends.cudnn.benchmark}, {'TF32 allowed' if args.tf32 else 'strict FP32'}" if on_gpu else ""
    print(f"PyTorch {torch.__version__} on {device.type} ({name}){gpu}; {count} training images on the device", flush=True)
    print(f"PyTorch {args.model}: {trainable:,} trainable parameters, {moving:,} non-trainable (moving statistics)", flush=True)

    layouts = {"both": (False, True), "nchw": (False,), "channels_last": (True,)}[args.layout]
    for round_ in range(1, args.rounds + 1):
        for channels_last in layouts:
            seconds = time_layout(args.model, images, labels, device, channels_last, batches, args.warmup, sync)
            layout = "channels_last" if channels_last else "NCHW"
            print(f"PyTorch {torch.__version__} {device.type} {layout} (round {round_}): {args.model} training step "
                  f"{seconds * 1e3 / batches:.3f} ms, {batches * BATCH / seconds:.1f} images/s over {batches} batches of {BATCH}",
                  flush=True)


if __name__ == "__main__":
    main()
