"""Minimal safetensors reader/writer on plain torch (Debian python3-torch has no `safetensors`).

Format: [u64 LE header length][JSON header: name -> {dtype, shape, data_offsets}, "__metadata__"][data].
"""
import json
import struct
from collections import OrderedDict

import torch

DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64, 'I32': torch.int32, 'F64': torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}


def read(path):
    """name -> tensor (dtype as stored), in file order; and the metadata dict."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = OrderedDict()
    base = 8 + n
    for name, h in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        b, e = h['data_offsets']
        dt = DTYPES[h['dtype']]
        buf = bytearray(raw[base + b:base + e])
        t = torch.frombuffer(buf, dtype=dt) if len(buf) else torch.zeros(0, dtype=dt)
        out[name] = t.reshape(h['shape']).clone()
    return out, meta


def write(path, tensors, metadata=None):
    """tensors: name -> tensor (written contiguous, keys sorted as our TS writer does)."""
    header = {}
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        b = t.view(torch.uint8).numpy().tobytes() if t.dtype in (torch.float16, torch.bfloat16) else t.numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':'))
    h += ' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h.encode())
        for b in blobs:
            f.write(b)
