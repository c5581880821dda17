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
    ratio.<name>=<deepgen median / PyTorch median, over all rounds>
    worst.<name>=<the largest of the per-round ratios>
    ceiling.train_step_b64=<deepgen train step GFLOP/s / Eigen GEMM GFLOP/s>
    worst.ceiling.train_step_b64=<the smallest per-round fraction>
    target.<name>: <bound> worst <figure> met|MISSED
    torch.<name>=<PyTorch median, seconds>
A round's ratio is deepgen's median in that round over PyTorch's in the same
round, so "met in every round" reads off one line. The *_bf16 rows are
deepgen's 16-bit sampling option, divided by PyTorch's float32 sampling (the
same workload: PyTorch has no such option); the *_2d rows are the PixelRNN that
also sees the row above and its position (the example program's default:
above+position, 256 cells), against the same model written plainly in PyTorch.
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
    "train_step_2d_b64": ("BM_train_step_2d/64", 3),
    "sample_2d_b1": ("BM_sample_2d/1", 3),
    "sample_2d_b64": ("BM_sample_2d/64", 3),
    "gemm_2048": ("BM_gemm/2048", 5),
}
# deepgen-only rows: (deepgen benchmark, the PyTorch workload they are divided by)
DEEPGEN_ONLY = {
    "sample_b1_bf16": ("BM_sample_bf16/1", "sample_b1"),
    "sample_2d_b1_bf16": ("BM_sample_2d_bf16/1", "sample_2d_b1"),
}
RATIO_NAMES = ["lstm_step_b1", "lstm_step_b256", "train_step_b64", "sample_b1", "sample_b1_bf16", "sample_b64",
               "vae_step_b64", "train_step_2d_b64", "sample_2d_b1", "sample_2d_b1_bf16", "sample_2d_b64"]
# The targets (deepgen / PyTorch at most, in every round); the 2-D rows have none yet.
TARGETS = {"lstm_step_b1": 0.10, "lstm_step_b256": 0.45, "train_step_b64": 0.45, "sample_b1": 0.09,
           "sample_b1_bf16": 0.05, "sample_b64": 0.45, "vae_step_b64": 0.50}
CEILING_TARGET = 0.85  # train_step_b64's GFLOP/s over the GEMM's, at least


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

    class PixelRNN2D(nn.Module):
        """The 2-D context model written plainly: the previous pixel, the three
        above it (zeros outside the image) and the pixel's row and column, each
        one-hot, concatenated into one float input per step."""
        W = 20
        I = 4 * K + 2 * 20

        def __init__(self, hidden=256):
            super().__init__()
            self.lstm = nn.LSTM(self.I, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, K)
            t = torch.arange(P)
            self.register_buffer("position", torch.cat([F.one_hot(t // self.W, 20), F.one_hot(t % self.W, 20)], 1).float())

        def step_input(self, images, t):
            """(B, I) input of step t from images (B, P) (pixels < t read)."""
            B, W = images.shape[0], self.W
            x = torch.zeros(B, self.I)
            r, c = divmod(t, W)
            if t > 0:
                x[torch.arange(B), images[:, t - 1]] = 1
            for block, dc in ((1, -1), (2, 0), (3, 1)):
                if r > 0 and 0 <= c + dc < W:
                    x[torch.arange(B), block * K + images[:, t - W + dc]] = 1
            x[:, 4 * K:] = self.position[t]
            return x

        def inputs(self, images):
            B, W = images.shape[0], self.W
            img = images.reshape(B, P // W, W)
            prev = torch.cat([torch.zeros(B, 1, K), F.one_hot(images[:, :-1], K).float()], 1)
            pad = F.pad(F.one_hot(img, K).float(), (0, 0, 1, 1, 1, 0))  # (B, rows+1, W+2, K): a zero row above, zero columns beside
            above = [pad[:, :-1, c0:c0 + W].reshape(B, P, K) for c0 in (0, 1, 2)]  # above-left, above, above-right
            return torch.cat([prev] + above + [self.position.expand(B, P, -1)], 2)

        def forward(self, images):
            return self.fc(self.lstm(self.inputs(images))[0])

        @torch.no_grad()
        def sample(self, B):
            out = torch.zeros(B, P, dtype=torch.long)
            state = None
            for t in range(P):
                y, state = self.lstm(self.step_input(out, t)[:, None], state)
                out[:, t] = torch.multinomial(torch.softmax(self.fc(y[:, 0]), dim=-1), 1)[:, 0]
            return out

    def train_step(model):
        """One Adam step of `model` on a batch of 64 random images: the loss over every pixel."""
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        images = torch.randint(0, K, (64, P))

        def run():
            opt.zero_grad()
            loss = F.cross_entropy(model(images).reshape(-1, K), images.reshape(-1))
            loss.backward()
            opt.step()
        return run, 1

    if name == "train_step_2d_b64":
        return train_step(PixelRNN2D())

    if name.startswith("sample_2d_b"):
        model = PixelRNN2D()
        B = int(name[len("sample_2d_b"):])
        return (lambda: model.sample(B)), 1

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
        return train_step(PixelRNN())

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


def deepgen_benchmark(n):
    return WORKLOADS[n][0] if n in WORKLOADS else DEEPGEN_ONLY[n][0]


def run_deepgen(binary, names, repetitions):
    filt = "|".join("^" + deepgen_benchmark(n) + "(/|$)" for n in names)
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
            if deepgen_benchmark(n) == run:
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

    names = [n for n in (args.only.split(",") if args.only else list(WORKLOADS) + list(DEEPGEN_ONLY))]
    for n in names:
        if n not in WORKLOADS and n not in DEEPGEN_ONLY:
            sys.exit(f"compare_pytorch: unknown workload '{n}'; choose from "
                     f"{', '.join(list(WORKLOADS) + list(DEEPGEN_ONLY))}")
    # PyTorch runs every workload asked for, and the one each deepgen-only row is divided by.
    torch_names = [n for n in WORKLOADS if n in names or any(DEEPGEN_ONLY[d][1] == n for d in names
                                                             if d in DEEPGEN_ONLY)]
    reference = {n: (DEEPGEN_ONLY[n][1] if n in DEEPGEN_ONLY else n) for n in names}
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
    for n in torch_names:
        trial = {s: statistics.median(run_torch(n, *s, max(2, WORKLOADS[n][1] // 2))["times"]) for s in settings}
        best[n] = min(trial, key=trial.get)
        print(f"# {n}: PyTorch " + ", ".join(f"{setting_name(*s)} {v * 1e3:.3f} ms" for s, v in trial.items()),
              file=sys.stderr)

    # 2. Alternate: PyTorch (best setting), then deepgen, round after round.
    # torch_rounds[n][r]: PyTorch's times in round r; deepgen_rounds[n][r]: deepgen's median in round r.
    torch_rounds = {n: [] for n in torch_names}
    deepgen_rounds = {n: [] for n in names}
    deepgen_gflops = {n: [] for n in names}
    context = {}
    for r in range(args.rounds):
        for n in torch_names:
            torch_rounds[n].append(run_torch(n, *best[n], WORKLOADS[n][1])["times"])
        got, context = run_deepgen(binary, names, 3)
        for n in names:
            t, gf = got.get(n, (float("nan"), float("nan")))
            deepgen_rounds[n].append(t)
            deepgen_gflops[n].append(gf)
        print(f"# round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = lambda xs: statistics.median(xs) if xs else float("nan")
    torch_med = {n: med([t for rnd in torch_rounds[n] for t in rnd]) for n in torch_names}
    ratio = {n: med(deepgen_rounds[n]) / torch_med[reference[n]] for n in names}
    worst = {n: max(d / med(tr) for d, tr in zip(deepgen_rounds[n], torch_rounds[reference[n]])) for n in names}
    ceiling = med(deepgen_gflops["gemm_2048"]) if "gemm_2048" in names else float("nan")
    print(f"\nPyTorch {torch_version} vs deepgen, {context.get('num_cpus', '?')} CPUs "
          f"at {context.get('mhz_per_cpu', '?')} MHz, medians of {args.rounds} alternating rounds\n")
    print("| workload | PyTorch | PyTorch setting | deepgen | deepgen / PyTorch | worst round | deepgen GFLOP/s | "
          "of GEMM ceiling |")
    print("|---|---|---|---|---|---|---|---|")

    def fmt(s):
        return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"
    for n in names:
        t, d, gf = torch_med[reference[n]], med(deepgen_rounds[n]), med(deepgen_gflops[n])
        setting = setting_name(*best[reference[n]]) + (f" ({reference[n]})" if reference[n] != n else "")
        print(f"| {n} | {fmt(t)} | {setting} | {fmt(d)} | {ratio[n]:.3f} | {worst[n]:.3f} | {gf:.1f} | "
              f"{gf / ceiling:.2f} |")
    print()
    for n in RATIO_NAMES:
        if n in names:
            print(f"ratio.{n}={ratio[n]:.4f}")
            print(f"worst.{n}={worst[n]:.4f}")
    have_ceiling = "train_step_b64" in names and "gemm_2048" in names
    if have_ceiling:
        per_round = [a / b for a, b in zip(deepgen_gflops["train_step_b64"], deepgen_gflops["gemm_2048"])]
        print(f"ceiling.train_step_b64={med(deepgen_gflops['train_step_b64']) / ceiling:.4f}")
        print(f"worst.ceiling.train_step_b64={min(per_round):.4f}")
    for n, bound in TARGETS.items():
        if n in names:
            print(f"target.{n}: <= {bound} worst {worst[n]:.4f} {'met' if worst[n] <= bound else 'MISSED'}")
    if have_ceiling:
        print(f"target.ceiling.train_step_b64: >= {CEILING_TARGET} worst {min(per_round):.4f} "
              f"{'met' if min(per_round) >= CEILING_TARGET else 'MISSED'}")
    for n in torch_names:
        print(f"torch.{n}={torch_med[n]:.6g}")


if __name__ == "__main__":
    main()
