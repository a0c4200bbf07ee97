#!/usr/bin/env python3
"""The peer benchmark's rounds (bench/peer/run.sh runs this inside tools/with-opencl.sh's root):
GpuCnn on PoCL, PyTorch and TorchSharp, each in channels_last and NCHW, time the training step
of the same model on the same Fashion-MNIST images, one system after the other, for R rounds;
each measurement is checked for other work on the machine.

    python3 bench/peer/rounds.py DATA_DIR [--models seed=60,resnet20=20] [--rounds 3] [--threads T]
        [--warmup 5] [--require-idle] [--idle-cores 0.15] [--idle-wait 60]

Idle: before each measurement the CPUs' busy time is sampled for a second (/proc/stat), and
during it the CPU time of everything but the measured process is counted (the machine's busy
time less the process's own user and system time). Above --idle-cores cores, either way, the
line says NOT IDLE. The 1-minute load average is printed with each line but judged only at the
start: after the first measurement it holds the bench's own work. With --require-idle a busy
machine is waited for (up to --idle-wait seconds) and a measurement disturbed by other work is
taken again (twice at most); when that fails the run stops with exit code 3.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

GPUCNN = "GpuCnn, OpenCL on PoCL"
BENCH = "bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll"
TORCHSHARP = "bench/peer/TorchSharpPeer/bin/Release/net10.0/TorchSharpPeer.dll"
CLI = "src/GpuCnn.Cli/bin/Release/net10.0/GpuCnn.Cli.dll"
RATE = re.compile(r"training step .*?([\d.]+) images/s")
PARAMETERS = re.compile(r"([\d,]+) trainable parameters, ([\d,]+) non-trainable")


def fail(message, code=2):
    print(message, file=sys.stderr, flush=True)
    sys.exit(code)


def systems(data, model, batches, warmup, threads):
    """(name, command) in the order each round runs them; GpuCnn's bench times batches after its one warm-up batch."""
    torch = [sys.executable, "bench/peer/torch_peer.py", data, "--device", "cpu", "--model", model, "--rounds", "1",
             "--batches", str(batches), "--warmup", str(warmup), "--threads", str(threads)]
    torchsharp = ["dotnet", TORCHSHARP, data, "--model", model, "--batches", str(batches), "--warmup", str(warmup),
                  "--threads", str(threads)]
    return [
        (GPUCNN, ["dotnet", BENCH, "--device", "opencl", "--models", model, "--layers", "false", "--fashion-mnist", "true",
                  "--batches", str(batches + 1), "--seconds", "0.5"]),
        ("PyTorch channels_last", torch + ["--layout", "channels_last"]),
        ("PyTorch NCHW", torch + ["--layout", "nchw"]),
        ("TorchSharp channels_last", torchsharp + ["--layout", "channels_last"]),
        ("TorchSharp NCHW", torchsharp + ["--layout", "nchw"]),
    ]


def cpu_times():
    """(busy, total) seconds of all CPUs since boot; iowait counts as idle, steal as busy."""
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / HZ, sum(fields) / HZ


def busy_cores(seconds=1.0):
    """Cores' worth of CPU time that the machine spent busy over a short sample."""
    busy0, total0 = cpu_times()
    time.sleep(seconds)
    busy1, total1 = cpu_times()
    return (busy1 - busy0) / max(total1 - total0, 1e-9) * CPUS


def load1():
    return float(open("/proc/loadavg").read().split()[0])


def run(command):
    """Runs a command; its output, wall seconds and the cores' worth of other work during it."""
    busy0, _ = cpu_times()
    clock = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - clock
    busy1, _ = cpu_times()
    others = max(0.0, (busy1 - busy0) - (usage.ru_utime + usage.ru_stime)) / wall
    return os.waitstatus_to_exitcode(status), output, wall, others


def host():
    cpuinfo = open("/proc/cpuinfo").read()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    flags = set(re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M).group(1).split()) if "flags" in cpuinfo else set()
    vector = ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in ("avx2", "fma", "avx512f"))
    return (model.group(1) if model else "unknown CPU"), vector


def gpucnn_parameters(model):
    result = subprocess.run(["dotnet", CLI, "summary", "--model", model], capture_output=True, text=True)
    trainable = re.search(r"^Trainable params: ([\d,]+)", result.stdout, re.M)
    non_trainable = re.search(r"^Non-trainable params: ([\d,]+)", result.stdout, re.M)
    if result.returncode != 0 or not trainable or not non_trainable:
        fail(f"error: gpucnn summary --model {model} gave no parameter counts:\n{result.stdout}{result.stderr}", 1)
    return int(trainable.group(1).replace(",", "")), int(non_trainable.group(1).replace(",", ""))


def measure(name, command, args):
    """One measurement: (images/s, the system's output, the idle note, whether idle)."""
    for attempt in range(3 if args.require_idle else 1):
        before = busy_cores()
        waited = 0.0
        while args.require_idle and before > args.idle_cores and waited < args.idle_wait:
            time.sleep(2)
            waited += 3
            before = busy_cores()
        if args.require_idle and before > args.idle_cores:
            fail(f"REFUSED: {name}: the machine is not idle ({before:.2f} cores busy after {waited:.0f} s of waiting, "
                 f"load {load1():.2f}); no figure reported", 3)
        load = load1()
        code, output, wall, others = run(command)
        rate = [RATE.search(line) for line in output.splitlines() if RATE.search(line)]
        if code != 0 or not rate:
            fail(f"error: {name} failed (exit code {code}):\n{output}", 1)
        idle = before <= args.idle_cores and others <= args.idle_cores
        note = f"load {load:.2f}, {before:.2f} cores busy before, others {others:.2f} cores during"
        if idle or not args.require_idle:
            return float(rate[-1].group(1)), output, ("idle: " if idle else "NOT IDLE: ") + note, idle
        print(f"  {name}: not idle ({note}); measuring again", flush=True)
    fail(f"REFUSED: {name}: other work ran during three tries ({note}); no figure reported", 3)


def describe(name, output, model, expected):
    """The system's version line, once, and its parameter counts checked against GpuCnn's."""
    if name == GPUCNN:
        device = next((line for line in output.splitlines() if line.startswith("Device:")), "")
        peak = next((line for line in output.splitlines() if line.startswith("FMA peak:")), "")
        print(f"  {name}: {device.removeprefix('Device: ')}\n  {name}: {peak}", flush=True)
        return
    counts = PARAMETERS.search(output)
    if not counts:
        fail(f"error: {name} printed no parameter counts:\n{output}", 1)
    found = tuple(int(c.replace(",", "")) for c in counts.groups())
    version = next((line for line in output.splitlines() if line.startswith(("PyTorch", "TorchSharp"))), name)
    print(f"  {name}: {version}", flush=True)
    if found != expected:
        fail(f"error: {name}'s {model} has {found[0]:,} trainable and {found[1]:,} non-trainable parameters, "
             f"GpuCnn's {expected[0]:,} and {expected[1]:,}: not the same model", 1)


def effective(output, model):
    """GpuCnn's effective GFLOP/s and its share of the FMA peak its own run measured, with that peak:
    on a busy or throttled host one run's peak can come out low, and its share high."""
    step = re.search(rf"^{re.escape(model)} training step \(end to end\).*?([\d.]+) GFLOP/s effective", output, re.M)
    peak = re.search(r"^FMA peak: ([\d.]+) GFLOP/s", output, re.M)
    if not step or not peak:
        return ""
    rate, ceiling = float(step.group(1)), float(peak.group(1))
    return f" ({rate:.1f} GFLOP/s effective, {rate / ceiling:.0%} of this run's FMA peak, {ceiling:.0f} GFLOP/s)"


def ratios(rates, names):
    return ", ".join(f"/ {n} {rates[GPUCNN] / rates[n]:.2f}x" for n in names if n != GPUCNN)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("--models", default="seed=60,resnet20=20", help="model=timed batches, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="the peers' intra-op threads (default: every core)")
    parser.add_argument("--warmup", type=int, default=5, help="the peers' untimed batches before each timing")
    parser.add_argument("--require-idle", action="store_true", help="wait for an idle machine, else refuse (exit code 3)")
    parser.add_argument("--idle-cores", type=float, default=0.15, help="other work, in cores, above which the machine is not idle")
    parser.add_argument("--idle-wait", type=float, default=60, help="seconds to wait for an idle machine with --require-idle")
    args = parser.parse_args()
    try:
        models = [(m, int(b)) for m, b in (p.split("=") for p in args.models.split(","))]
    except ValueError:
        fail(f"error: --models {args.models}: not model=batches[,model=batches]")
    if any(b < 1 for _, b in models) or args.rounds < 1 or args.threads < 1 or args.warmup < 1:
        fail("error: batches, --rounds, --threads and --warmup must be at least 1")

    cpu, vector = host()
    load = load1()
    print(f"Host: {cpu}; {vector}; {CPUS} logical CPUs; load average {' '.join(open('/proc/loadavg').read().split()[0:3])}", flush=True)
    start_busy = busy_cores()
    if load > 0.25 * CPUS or start_busy > args.idle_cores:
        print(f"NOT IDLE at the start: load {load:.2f}, {start_busy:.2f} cores busy", flush=True)
        if args.require_idle:
            print("  (--require-idle: each measurement waits for an idle machine)", flush=True)
    print(f"Peers: PyTorch and TorchSharp with {args.threads} intra-op threads each (torch.set_num_threads; "
          f"{CPUS} logical CPUs), {args.warmup} warm-up batches; GpuCnn: PoCL's threads on every CPU, 1 warm-up batch. "
          f"Batch 128, Adam; {args.rounds} round{'s' if args.rounds > 1 else ''}, the systems one after the other in each.", flush=True)

    medians = []
    for model, batches in models:
        expected = gpucnn_parameters(model)
        print(f"\n{model}: {batches} timed batch{'es' if batches > 1 else ''} per measurement; GpuCnn's {model}: {expected[0]:,} trainable parameters, "
              f"{expected[1]:,} non-trainable (moving statistics)", flush=True)
        per_round = []
        for round_ in range(1, args.rounds + 1):
            rates, all_idle = {}, True
            for name, command in systems(args.data_dir, model, batches, args.warmup, args.threads):
                rate, output, note, idle = measure(name, command, args)
                if round_ == 1:
                    describe(name, output, model, expected)
                rates[name] = rate
                all_idle &= idle
                extra = effective(output, model) if name == GPUCNN else ""
                print(f"{model} round {round_}  {name:<26} {rate:>8,.0f} images/s{extra}  {note}", flush=True)
            names = list(rates)
            print(f"{model} round {round_} ratios: GpuCnn {ratios(rates, names)}{'' if all_idle else '  (NOT IDLE)'}", flush=True)
            per_round.append((rates, all_idle))
        names = list(per_round[0][0])
        busy = sum(1 for _, idle in per_round if not idle)
        spread = {n: [r[GPUCNN] / r[n] for r, _ in per_round] for n in names if n != GPUCNN}
        line = ", ".join(f"/ {n} {statistics.median(v):.2f}x ({min(v):.2f}-{max(v):.2f})" for n, v in spread.items())
        medians.append(f"{model} median of {args.rounds} round{'s' if args.rounds > 1 else ''}: GpuCnn {line}"
                       + (f"  (NOT IDLE in {busy} of {args.rounds} rounds)" if busy else ""))
        print(medians[-1], flush=True)

    print("\n" + "\n".join(medians), flush=True)


HZ = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count()

if __name__ == "__main__":
    main()
