#!/usr/bin/env python3
"""Time one PixelRNN training step (forward, backward, Adam) in PyTorch on the
lecture's shapes: nn.LSTM(167, 512, batch_first) on one-hot inputs + nn.Linear,
400-pixel sequences. Prints the median of repeats, per thread setting, so it
can be set beside deepgen's number from `bench_pixelrnn_step`.
Run: /usr/bin/python3 benchmarks/pytorch_pixelrnn_step.py [BATCH] [REPEATS]"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

B = int(sys.argv[1]) if len(sys.argv) > 1 else 32
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
K, H, P = 167, 512, 400


class PixelRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(K, H, batch_first=True)
        self.fc = nn.Linear(H, K)

    def forward(self, images):
        x = F.one_hot(images, K).float()
        x = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        return self.fc(self.lstm(x)[0])


for threads in (1, 2):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = PixelRNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randint(0, K, (B, P))
    times = []
    for i in range(REPEATS + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(images).reshape(-1, K), images.reshape(-1))
        loss.backward()
        opt.step()
        if i:  # the first step warms up
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"pytorch {torch.__version__} threads={threads} batch={B}: median {med * 1e3:.0f} ms/step "
          f"(min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}), {B * P / med:.0f} pixels/s")
