"""Generates test/fixtures/generated/bin/: `pytorch_model.bin` twins of the tiny reference models and
crafted torch checkpoints for the TypeScript reader (src/io/torch/). Run with Debian's torch:

    /usr/bin/python3 scripts/torch_ref/make_bin_fixtures.py

Twins: the state dict read from test/fixtures/<model>/model/model.safetensors (same keys, same
float32 values), saved by torch.save (ZIP format, pickle protocol 2) with the `_metadata` attribute
a real `model.state_dict()` carries; dinov2_tiny is saved as two shards + pytorch_model.bin.index.json
(as transformers' save_pretrained shards). config.json is copied.

Crafted (crafted/): views.bin (transposed, sliced, offset, stepped, expanded and 0-d views sharing
one storage; also re-zipped deflated and with ZIP64 records: views_deflated.bin, views_zip64.bin), dtypes.bin (float16, bfloat16, int64, an empty tensor, an int64 past int32),
training.bin (a dict holding a dict: not a state dict), legacy.bin (pre-1.6 serialization),
evil_os_system.bin / evil_eval.bin (pickles whose loading would run a shell command / eval),
expected.safetensors (each crafted tensor made contiguous: float32, int32).
"""
import builtins
import json
import os
import shutil
import sys
import zipfile
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIX = os.path.join(ROOT, 'test', 'fixtures')
OUT = os.path.join(FIX, 'generated', 'bin')
MARKER = '/tmp/logolab-unpickle-executed'


def state_dict(tensors):
    sd = OrderedDict(tensors)
    sd._metadata = OrderedDict([('', {'version': 1})])  # what nn.Module.state_dict() attaches
    return sd


def twin(name, shards=1):
    src = os.path.join(FIX, name, 'model')
    dst = os.path.join(OUT, name)
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, 'config.json'), os.path.join(dst, 'config.json'))
    tensors, _ = st.read(os.path.join(src, 'model.safetensors'))
    keys = list(tensors)
    if shards == 1:
        torch.save(state_dict(tensors), os.path.join(dst, 'pytorch_model.bin'))
        return
    weight_map = {}
    per = (len(keys) + shards - 1) // shards
    for i in range(shards):
        fname = f'pytorch_model-{i + 1:05d}-of-{shards:05d}.bin'
        part = OrderedDict((k, tensors[k]) for k in keys[i * per:(i + 1) * per])
        torch.save(state_dict(part), os.path.join(dst, fname))
        weight_map.update({k: fname for k in part})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    with open(os.path.join(dst, 'pytorch_model.bin.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)


class RunsShell:
    def __reduce__(self):
        return (os.system, (f'touch {MARKER}',))


class Evals:
    def __reduce__(self):
        return (builtins.eval, (f"__import__('os').system('touch {MARKER}')",))


def repack(src, dst, method, zip64=False):
    """The same entries re-zipped: deflated, or with every ZIP64 structure (local/central extra
    fields, ZIP64 end record) forced by lowering zipfile's limits, as a >4 GiB checkpoint has."""
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    if zip64:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
    try:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', method) as zout:
            for info in zin.infolist():
                out = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                out.compress_type = method
                zout.writestr(out, zin.read(info.filename))
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved


def crafted():
    d = os.path.join(OUT, 'crafted')
    os.makedirs(d, exist_ok=True)
    expected = {}
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10) * 0.25 - 3.0
    views = OrderedDict([
        ('base', base),
        ('transposed', base.t()),               # stride (1, 10)
        ('rows_2_5', base[2:5]),                # storage offset 20
        ('cols_3_7', base[:, 3:7]),             # offset 3, stride (10, 1)
        ('stepped', base[::2, 1::3]),           # stride (20, 3), offset 1
        ('element', base[4, 7]),                # 0-d, offset 47
        ('expanded', torch.tensor([1.5, -2.0, 4.0]).expand(4, 3)),  # stride (0, 1)
    ])
    # all views of `base` share one storage: torch writes it once
    assert len({v.storage().data_ptr() for k, v in views.items() if k != 'expanded'}) == 1
    torch.save(state_dict(views), os.path.join(d, 'views.bin'))
    repack(os.path.join(d, 'views.bin'), os.path.join(d, 'views_deflated.bin'), zipfile.ZIP_DEFLATED)
    repack(os.path.join(d, 'views.bin'), os.path.join(d, 'views_zip64.bin'), zipfile.ZIP_STORED, zip64=True)
    expected.update({f'views.{k}': v.contiguous() for k, v in views.items()})

    g = torch.Generator().manual_seed(7)
    f16 = torch.randn(5, 7, generator=g).half()
    bf16 = torch.randn(4, 3, generator=g).bfloat16()
    dtypes = OrderedDict([
        ('half', f16),
        ('half_t', f16.t()),
        ('bfloat16', bf16),
        ('int64', torch.tensor([0, 1, -2, 2 ** 31 - 1, -2 ** 31], dtype=torch.int64)),
        ('empty', torch.zeros(0, 3)),
        ('too_big', torch.tensor([2 ** 40], dtype=torch.int64)),
    ])
    torch.save(state_dict(dtypes), os.path.join(d, 'dtypes.bin'))
    for k, v in dtypes.items():
        if k == 'too_big':
            continue
        expected[f'dtypes.{k}'] = v.to(torch.int32) if v.dtype == torch.int64 else v.float().contiguous()

    torch.save({'model': state_dict({'w': torch.ones(2)}), 'epoch': 3}, os.path.join(d, 'training.bin'))
    torch.save(state_dict({'w': torch.ones(2)}), os.path.join(d, 'legacy.bin'), _use_new_zipfile_serialization=False)
    torch.save({'weight': torch.zeros(2), 'payload': RunsShell()}, os.path.join(d, 'evil_os_system.bin'))
    torch.save({'weight': torch.zeros(2), 'payload': Evals()}, os.path.join(d, 'evil_eval.bin'))
    st.write(os.path.join(d, 'expected.safetensors'), expected, {'made_by': f'torch {torch.__version__}'})


def main():
    for name in ['clip_tiny', 'siglip_tiny', 'detr_tiny']:
        twin(name)
    twin('dinov2_tiny', shards=2)
    crafted()
    print(f'wrote {OUT} with torch {torch.__version__}')


if __name__ == '__main__':
    main()
