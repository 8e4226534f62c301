"""Golden outputs of Pillow for test/preprocess/resize.test.ts and the letterbox/stretch tests.

Run with a Python that has Pillow + numpy (made with Debian's python3-pil 9.4.0, numpy 1.24):
    /usr/bin/python3 test/preprocess/golden/make_pil_golden.py
Writes pil_golden.safetensors next to this file (U8 tensors, deterministic).
Pillow's resampling core (libImaging/Resample.c) is unchanged from 7.x to 11.x.
"""
import json, struct, pathlib
import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).with_name("pil_golden.safetensors")
FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}
rng = np.random.default_rng(1234)
tensors, meta = {}, {}


def add(name, arr):
    tensors[name] = np.ascontiguousarray(arr, dtype=np.uint8)


for i in range(30):
    iw, ih = int(rng.integers(1, 33)), int(rng.integers(1, 33))
    ow, oh = int(rng.integers(1, 41)), int(rng.integers(1, 41))
    f = list(FILTERS)[i % 6]
    a = rng.integers(0, 256, (ih, iw, 3), dtype=np.uint8)
    if i % 2 == 0:
        a = (a // 128 * 255).astype(np.uint8)  # hard edges: overshoot and clipping
    b = np.asarray(Image.fromarray(a).resize((ow, oh), FILTERS[f]))
    add(f"case{i}.in", a)
    add(f"case{i}.out", b)
    meta[f"case{i}"] = f

# One axis unchanged (PIL skips that pass; the other pass then reads the input directly).
for j, (iw, ih, ow, oh, f) in enumerate([(20, 30, 20, 11, "bicubic"), (25, 9, 7, 9, "lanczos"), (13, 17, 13, 40, "bilinear"), (9, 21, 30, 21, "bicubic")]):
    a = rng.integers(0, 256, (ih, iw, 3), dtype=np.uint8)
    add(f"axis{j}.in", a)
    add(f"axis{j}.out", np.asarray(Image.fromarray(a).resize((ow, oh), FILTERS[f])))
    meta[f"axis{j}"] = f

# The reference project's letterbox / stretch (logo_detection_detr.py _preprocess_image), target 224 (here 48: a processor with a 48-px output, to keep this file small).
for name, (w, h) in {"wide": (90, 40), "tall": (31, 77)}.items():
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    pil = Image.fromarray(a)
    max_dim = max(w, h)
    canvas = Image.new("RGB", (max_dim, max_dim), (0, 0, 0))
    canvas.paste(pil, ((max_dim - w) // 2, (max_dim - h) // 2))
    add(f"{name}.in", a)
    add(f"{name}.letterbox", np.asarray(canvas.resize((48, 48), Image.LANCZOS)))
    add(f"{name}.stretch", np.asarray(pil.resize((48, 48), Image.LANCZOS)))

header, off, blobs = {"__metadata__": {"filters": json.dumps(meta), "pillow": Image.__version__}}, 0, []
for k, v in tensors.items():
    b = v.tobytes()
    header[k] = {"dtype": "U8", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
    off += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
OUT.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(OUT, off, "bytes of tensors")
