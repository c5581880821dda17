#!/usr/bin/env python3
"""deepgen against PyTorch on the CPU, side by side, in one run.

    /usr/bin/python3 benchmarks/compare_pytorch.py [--build build] [--rounds 3]

Runs the workloads of benchmarks/bench_cpu.cpp in PyTorch, written plainly as
a user would (nn.LSTM(167, 512) on one-hot float inputs + nn.Linear; the
lecture-shaped VAE as nn.Linear layers on the flattened one-hot image), and
deepgen's bench_cpu, alternating round by round so both see the same machine.

PyTorch gets its fastest setting per workload, found by trying each of
torch.set_num_threads(1|2), with and without glibc's
MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised (without them a fresh
multi-MiB buffer is returned to the kernel when freed and page-faulted back
on the next step). Each setting runs in its own process, since glibc reads
those variables at start-up.

Prints one table, then lines for scripts:
    ratio.<name>=<deepgen median / PyTorch median>
    ceiling.train_step_b64=<deepgen train step GFLOP/s / Eigen GEMM GFLOP/s>
    torch.<name>=<PyTorch median, seconds>
Exit status 2, with the reason, when PyTorch or the benchmark binary is missing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

K, H, P = 167, 512, 400
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "1073741824"}

# name: (deepgen benchmark, repeats per PyTorch process)
WORKLOADS = {
    "lstm_step_b1": ("BM_lstm_step/1", 7),
    "lstm_step_b16": ("BM_lstm_step/16", 7),
    "lstm_step_b64": ("BM_lstm_step/64", 7),
    "lstm_step_b256": ("BM_lstm_step/256", 7),
    "train_step_b64": ("BM_train_step/64", 3),
    "sample_b1": ("BM_sample/1", 3),
    "sample_b64": ("BM_sample/64", 3),
    "complete_test": ("BM_complete_test", 3),
    "vae_step_b64": ("BM_vae_step/64", 5),
    "gemm_2048": ("BM_gemm/2048", 5),
}
RATIO_NAMES = ["lstm_step_b1", "lstm_step_b256", "train_step_b64", "sample_b1", "sample_b64", "vae_step_b64"]


# ---- the PyTorch side (runs in a child process: --worker NAME) -------------------------------

def torch_workload(name):
    """A function that runs one iteration of workload `name`, after any set-up."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)

    class PixelRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(K, H, batch_first=True)
            self.fc = nn.Linear(H, K)

        def forward(self, images):
            x = F.one_hot(images, K).float()
            x = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)  # input: the previous pixel
            return self.fc(self.lstm(x)[0])

        @torch.no_grad()
        def complete(self, images, keep, temperature=1.0):
            B = images.shape[0]
            out = images.clone()
            x = torch.zeros(B, keep + 1, K)
            if keep:
                x[:, 1:] = F.one_hot(images[:, :keep], K).float()
            y, state = self.lstm(x)
            h = y[:, -1]
            for t in range(keep, P):
                probs = torch.softmax(self.fc(h) / temperature, dim=-1)
                nxt = torch.multinomial(probs, 1)[:, 0]
                out[:, t] = nxt
                if t + 1 < P:
                    y, state = self.lstm(F.one_hot(nxt, K).float()[:, None], state)
                    h = y[:, 0]
            return out

    if name.startswith("lstm_step_b"):
        B = int(name[len("lstm_step_b"):])
        lstm = nn.LSTM(K, H, batch_first=True)
        x = F.one_hot(torch.randint(0, K, (B,)), K).float()[:, None]
        state = (torch.rand(1, B, H) * 2 - 1, torch.rand(1, B, H) * 2 - 1)

        @torch.no_grad()
        def run():
            for _ in range(100):
                lstm(x, state)
        return run, 100  # iterations per call

    if name == "train_step_b64":
        model = PixelRNN()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        images = torch.randint(0, K, (64, P))

        def run():
            opt.zero_grad()
            loss = F.cross_entropy(model(images).reshape(-1, K), images.reshape(-1))
            loss.backward()
            opt.step()
        return run, 1

    if name.startswith("sample_b"):
        model = PixelRNN()
        B = int(name[len("sample_b"):])
        images = torch.zeros(B, P, dtype=torch.long)
        return (lambda: model.complete(images, 0)), 1

    if name == "complete_test":
        model = PixelRNN()
        images = torch.randint(0, K, (40, P))
        return (lambda: model.complete(images, P // 2)), 1

    if name == "vae_step_b64":
        D = 10
        enc = nn.Sequential(nn.Linear(P * K, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 2 * D))
        dec = nn.Sequential(nn.Linear(D, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, P * K))
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
        images = torch.randint(0, K, (64, P))

        def run():
            opt.zero_grad()
            x = F.one_hot(images, K).float().reshape(64, -1)
            m, s = enc(x).chunk(2, dim=1)
            z = m + torch.exp(s / 2) * torch.randn_like(m)
            logits = dec(z).reshape(64 * P, K)
            recon = F.cross_entropy(logits, images.reshape(-1), reduction="sum") / 64
            kl = 0.5 * (torch.exp(s) + m * m - 1 - s).sum() / 64
            (recon + kl).backward()
            opt.step()
        return run, 1

    if name == "gemm_2048":
        a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
        return (lambda: torch.mm(a, b)), 1

    raise SystemExit(f"unknown workload {name}")


def worker(name, threads, repeats):
    import torch
    torch.set_num_threads(threads)
    run, per_call = torch_workload(name)
    run()  # warm-up: first touch of every buffer
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) / per_call)
    print(json.dumps({"times": times, "torch": torch.__version__}))


# ---- the driver ------------------------------------------------------------------------------

def run_torch(name, threads, malloc, repeats):
    env = dict(os.environ)
    for k in MALLOC_ENV:
        env.pop(k, None)
    if malloc:
        env.update(MALLOC_ENV)
    # No OMP_NUM_THREADS: OpenBLAS (pthreads) would read it too, and PyTorch's
    # matrix products here run on OpenBLAS with its own two threads.
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(k, None)
    out = subprocess.run([sys.executable, __file__, "--worker", name, "--threads", str(threads),
                          "--repeats", str(repeats)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def setting_name(threads, malloc):
    return f"{threads} thread{'s' if threads > 1 else ''}{', malloc env' if malloc else ''}"


def run_deepgen(binary, names, repetitions):
    filt = "|".join("^" + WORKLOADS[n][0] + "(/|$)" for n in names)
    out = subprocess.run([binary, f"--benchmark_filter={filt}", "--benchmark_format=json",
                          f"--benchmark_repetitions={repetitions}"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    result = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate" or b.get("aggregate_name") != "median":
            continue
        run = "/".join(p for p in b["run_name"].split("/") if not p.startswith(("repeats:", "iterations:"))
                       and p != "real_time")
        for n in names:
            if WORKLOADS[n][0] == run:
                result[n] = (b["real_time"] * scale[b["time_unit"]], b.get("GFLOP/s", 0.0) / 1e9)
    return result, data.get("context", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="CMake build folder holding benchmarks/bench_cpu")
    ap.add_argument("--rounds", type=int, default=3, help="alternating PyTorch/deepgen rounds")
    ap.add_argument("--only", default="", help="comma-separated workloads (default: all)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.threads, args.repeats)

    names = [n for n in (args.only.split(",") if args.only else WORKLOADS)]
    for n in names:
        if n not in WORKLOADS:
            sys.exit(f"compare_pytorch: unknown workload '{n}'; choose from {', '.join(WORKLOADS)}")
    binary = os.path.join(args.build, "benchmarks", "bench_cpu")
    if not os.access(binary, os.X_OK):
        print(f"compare_pytorch: {binary} not found; build it first: cmake --build {args.build} --target bench_cpu",
              file=sys.stderr)
        sys.exit(2)
    probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"compare_pytorch: PyTorch is not available to {sys.executable} (Debian: apt-get install "
              "python3-torch libopenblas0-pthread; run with /usr/bin/python3); no comparison made",
              file=sys.stderr)
        sys.exit(2)
    torch_version = probe.stdout.strip()

    # 1. PyTorch's fastest setting per workload.
    settings = [(t, m) for t in (1, 2) for m in (False, True)]
    best = {}
    for n in names:
        trial = {s: statistics.median(run_torch(n, *s, max(2, WORKLOADS[n][1] // 2))["times"]) for s in settings}
        best[n] = min(trial, key=trial.get)
        print(f"# {n}: PyTorch " + ", ".join(f"{setting_name(*s)} {v * 1e3:.3f} ms" for s, v in trial.items()),
              file=sys.stderr)

    # 2. Alternate: PyTorch (best setting), then deepgen, round after round.
    torch_times = {n: [] for n in names}
    deepgen_times = {n: [] for n in names}
    deepgen_gflops = {n: [] for n in names}
    context = {}
    for r in range(args.rounds):
        for n in names:
            torch_times[n] += run_torch(n, *best[n], WORKLOADS[n][1])["times"]
        got, context = run_deepgen(binary, names, 3)
        for n, (t, gf) in got.items():
            deepgen_times[n].append(t)
            deepgen_gflops[n].append(gf)
        print(f"# round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = lambda xs: statistics.median(xs) if xs else float("nan")
    ceiling = med(deepgen_gflops["gemm_2048"]) if "gemm_2048" in names else float("nan")
    print(f"\nPyTorch {torch_version} vs deepgen, {context.get('num_cpus', '?')} CPUs "
          f"at {context.get('mhz_per_cpu', '?')} MHz, medians of {args.rounds} alternating rounds\n")
    print(f"| workload | PyTorch | PyTorch setting | deepgen | deepgen / PyTorch | deepgen GFLOP/s | of GEMM ceiling |")
    print(f"|---|---|---|---|---|---|---|")

    def fmt(s):
        return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"
    for n in names:
        t, d, gf = med(torch_times[n]), med(deepgen_times[n]), med(deepgen_gflops[n])
        print(f"| {n} | {fmt(t)} | {setting_name(*best[n])} | {fmt(d)} | {d / t:.3f} | {gf:.1f} | "
              f"{gf / ceiling:.2f} |")
    print()
    for n in RATIO_NAMES:
        if n in names:
            print(f"ratio.{n}={med(deepgen_times[n]) / med(torch_times[n]):.4f}")
    if "train_step_b64" in names and "gemm_2048" in names:
        print(f"ceiling.train_step_b64={med(deepgen_gflops['train_step_b64']) / ceiling:.4f}")
    for n in names:
        print(f"torch.{n}={med(torch_times[n]):.6g}")


if __name__ == "__main__":
    main()
