#!/usr/bin/env python3
"""PyTorch peer of `logolab bench detect --detector detr-r50` (a benchmark, not part of the product).

The same compute as DETR-R50 with random weights: torchvision ResNet-50 trunk (conv1 … layer4, eval
mode), a 1×1 projection 2048 → 256, nn.Transformer (6 encoder + 6 decoder layers, d 256, 8 heads,
FFN 2048, no dropout) over the h·w feature tokens (+ a fixed position embedding) and 100 learned
queries, then the DETR heads (class linear, 3-layer box MLP + sigmoid). Inference under
torch.inference_mode, one image per forward, after warm-up images.

Debian: `apt-get install python3-torch python3-torchvision` (1.13 / 0.14; oneDNN convolutions);
run with /usr/bin/python3. Prints one JSON line:
{"seconds_per_image", "images_per_s", "cpu_s_per_image" (process CPU time, all threads), "images", "input_hw", "threads", "torch", "mkldnn", "peak_rss_mb"}.
"""
import argparse
import json
import resource
import time

import torch
import torchvision
from torch import nn


class DetrPeer(nn.Module):
    def __init__(self, d=256, heads=8, enc=6, dec=6, ffn=2048, queries=100, labels=2):
        super().__init__()
        r = torchvision.models.resnet50(weights=None)
        self.trunk = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)
        self.proj = nn.Conv2d(2048, d, 1)
        self.transformer = nn.Transformer(d, heads, enc, dec, ffn, dropout=0.0, batch_first=True)
        self.query = nn.Parameter(torch.randn(queries, d) * 0.02)
        self.cls = nn.Linear(d, labels + 1)
        self.box = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 4))

    def forward(self, px):
        f = self.proj(self.trunk(px))  # [B, d, h, w]
        b, d, h, w = f.shape
        src = f.flatten(2).transpose(1, 2)  # [B, h·w, d]
        pos = torch.sin(torch.arange(h * w, dtype=src.dtype)[:, None] / (10000 ** (torch.arange(d, dtype=src.dtype) / d)))
        tgt = self.query[None].expand(b, -1, -1)
        hs = self.transformer(src + pos, tgt)
        return self.cls(hs), self.box(hs).sigmoid()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--width", type=int, default=1067)
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = DetrPeer().eval()
    x = torch.randn(1, 3, a.height, a.width)
    with torch.inference_mode():
        for _ in range(a.warmup):
            m(x)
        t, c = time.perf_counter(), time.process_time()
        for _ in range(a.images):
            logits, boxes = m(x)
            float(logits.sum() + boxes.sum())
        s = (time.perf_counter() - t) / a.images
        cpu = (time.process_time() - c) / a.images
    print(json.dumps({
        "seconds_per_image": round(s, 4), "images_per_s": round(1 / s, 4), "cpu_s_per_image": round(cpu, 3), "images": a.images, "input_hw": [a.height, a.width],
        "threads": torch.get_num_threads(), "torch": torch.__version__, "torchvision": torchvision.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
