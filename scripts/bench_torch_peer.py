#!/usr/bin/env python3
"""PyTorch peer benchmark for scripts/bench-native.ts (a benchmark, not part of the product).

The same CLIP-style ViT as logolab's `buildVisionModel('clip', ...)` with random weights: patch conv
(no bias) + class token + position embeddings, pre_layrnorm, pre-LN encoder layers (q/k/v/out
projections, quick_gelu MLP), post_layernorm on token 0, visual projection. `train` = LoRA (r=8) on
q_proj and v_proj of the upper half of the layers, loss = sum of squared image embeddings, one
forward + backward (no optimizer step), as the tfjs side does.

`--impl torchvision` (inference only) is torchvision's VisionTransformer of the same shapes (GELU
MLP, eval, no_grad): nn.MultiheadAttention's fused native path, PyTorch's fastest CPU inference.
`--layers N` keeps the widths with fewer layers; `--profile` adds the top operators by CPU time
(torch.autograd.profiler) on stderr.

Debian: `apt-get install python3-torch python3-torchvision` (1.13, OpenBLAS); run with /usr/bin/python3.
Prints one JSON line: {"images_per_s", "seconds_per_batch", "reps", "peak_rss_mb", "threads", "torch"}.
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
from torch import nn

PRESETS = {
    # name: (image, patch, hidden, layers, heads, mlp, projection)
    "tiny": (64, 8, 128, 4, 4, 512, 128),
    "vit-b16": (224, 16, 768, 12, 12, 3072, 512),
    "vit-l14": (224, 14, 1024, 24, 16, 4096, 768),
}


class LoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int = 8, alpha: int = 16):
        super().__init__()
        self.base = base
        self.A = nn.Parameter(torch.randn(r, base.in_features) * 0.01)
        self.B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.scaling * ((x @ self.A.t()) @ self.B.t())


class Layer(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.layer_norm1 = nn.LayerNorm(d, eps=1e-5)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.layer_norm2 = nn.LayerNorm(d, eps=1e-5)
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def attn(self, x):
        b, t, d = x.shape
        h, dh = self.heads, d // self.heads
        q = self.q_proj(x).view(b, t, h, dh).transpose(1, 2) * (dh ** -0.5)
        k = self.k_proj(x).view(b, t, h, dh).transpose(1, 2)
        v = self.v_proj(x).view(b, t, h, dh).transpose(1, 2)
        p = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
        return self.out_proj((p @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attn(self.layer_norm1(x))
        h = self.fc1(self.layer_norm2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))


class ViT(nn.Module):
    def __init__(self, image, patch, d, layers, heads, mlp, proj):
        super().__init__()
        self.patch = nn.Conv2d(3, d, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.randn(d) * 0.02)
        self.pos = nn.Parameter(torch.randn((image // patch) ** 2 + 1, d) * 0.02)
        self.pre = nn.LayerNorm(d, eps=1e-5)
        self.layers = nn.ModuleList(Layer(d, heads, mlp) for _ in range(layers))
        self.post = nn.LayerNorm(d, eps=1e-5)
        self.proj = nn.Linear(d, proj, bias=False)

    def forward(self, px):
        x = self.patch(px).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], dim=1) + self.pos
        x = self.pre(x)
        for layer in self.layers:
            x = layer(x)
        return self.proj(self.post(x[:, 0]))


def sgemm(a):
    """GFLOP/s of torch.mm on the ViT-L MLP shape [257·batch, 1024]·[1024, 4096] (bench-native.ts's sgemm limit)."""
    m, k, n = 257 * a.batch, 1024, 4096
    x, w = torch.randn(m, k), torch.randn(k, n)
    torch.mm(x, w)
    times = []
    t_start = time.perf_counter()
    while len(times) < max(a.reps, 10) and (not times or time.perf_counter() - t_start < a.budget):
        t0 = time.perf_counter()
        torch.mm(x, w)
        times.append(time.perf_counter() - t0)
    s = min(times)  # a limit is the best the machine does: the fastest rep
    print(json.dumps({"gflops": 2 * m * n * k / s / 1e9, "shape": [m, k, n], "threads": torch.get_num_threads(), "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--mode", default="infer", choices=["infer", "train", "sgemm"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--budget", type=float, default=60.0, help="stop adding reps after this many seconds")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--impl", default="clip", choices=["clip", "torchvision"])
    ap.add_argument("--layers", type=int, default=0, help="override the number of layers")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    image, patch, d, layers, heads, mlp, proj = PRESETS[a.model]
    layers = a.layers or layers
    if a.mode == "sgemm":
        return sgemm(a)
    if a.impl == "torchvision":
        if a.mode != "infer":
            ap.error("--impl torchvision is the inference peer (--mode infer)")
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=image, patch_size=patch, num_layers=layers, num_heads=heads, hidden_dim=d, mlp_dim=mlp,
                                  num_classes=proj).eval()
    else:
        model = ViT(image, patch, d, layers, heads, mlp, proj).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if a.mode == "train":
        for layer in model.layers[len(model.layers) // 2:]:
            layer.q_proj = LoraLinear(layer.q_proj)
            layer.v_proj = LoraLinear(layer.v_proj)
    px = torch.randn(a.batch, 3, image, image)

    def step():
        if a.mode == "infer":
            with torch.inference_mode():
                return model(px).sum().item()
        model.zero_grad(set_to_none=True)
        loss = (model(px) ** 2).sum()
        loss.backward()
        return loss.item()

    step()  # warm-up
    if a.profile:
        with torch.autograd.profiler.profile() as prof:
            step()
        print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=30), file=sys.stderr)
    times, cpus = [], []
    t_start = time.perf_counter()
    while len(times) < a.reps and (not times or time.perf_counter() - t_start < a.budget):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    s = sorted(times)[len(times) // 2]  # median
    print(json.dumps({
        "images_per_s": a.batch / s, "seconds_per_batch": s, "cpu_seconds_per_batch": sorted(cpus)[len(cpus) // 2], "reps": len(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "impl": a.impl, "layers": layers,
    }))


if __name__ == "__main__":
    sys.exit(main())
