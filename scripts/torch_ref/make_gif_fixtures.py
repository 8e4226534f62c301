"""GIF fixtures with transparency and what PIL decodes them to (HF's load_image: open, convert('RGB')).

Writes test/fixtures/gif/*.gif and expected.json ({name: {width, height, rgb: [...]}}), read by
test/preprocess/gif.test.ts. Run with Debian's python3-pil (9.4.0 when written):
    /usr/bin/python3 scripts/torch_ref/make_gif_fixtures.py
"""
import io
import json
import os
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'gif')
os.makedirs(OUT, exist_ok=True)
PALETTE = [255, 255, 255, 255, 0, 0, 0, 0, 255, 0, 160, 0]
PIXELS = [0, 1, 2, 3, 2, 0, 1, 0, 3, 3, 0, 1]  # 4x3, index 0 is the transparent one


def palette_gif(transparency):
    im = Image.new('P', (4, 3))
    im.putpalette(PALETTE + [0] * (768 - len(PALETTE)))
    im.putdata(PIXELS)
    buf = io.BytesIO()
    kw = {} if transparency is None else {'transparency': transparency}
    im.save(buf, format='GIF', **kw)
    return buf.getvalue()


def local_palette(gif):
    """The same stream with its global colour table moved onto the first image descriptor."""
    b = bytearray(gif)
    packed = b[10]
    size = 3 * 2 ** ((packed & 7) + 1)
    table = bytes(b[13:13 + size])
    b[10] = packed & 0x70  # no global table
    rest = b[13 + size:]
    p = 0
    while rest[p] == 0x21:  # skip extensions
        p += 2
        while rest[p] != 0:
            p += rest[p] + 1
        p += 1
    assert rest[p] == 0x2C
    rest[p + 9] = 0x80 | (packed & 7)  # local table of the same size
    return bytes(b[:13]) + bytes(rest[:p + 10]) + table + bytes(rest[p + 10:])


def animated():
    frames = []
    for shift in (0, 1):
        im = Image.new('P', (4, 3))
        im.putpalette(PALETTE + [0] * (768 - len(PALETTE)))
        im.putdata([(v + shift) % 4 for v in PIXELS])
        frames.append(im)
    buf = io.BytesIO()
    frames[0].save(buf, format='GIF', save_all=True, append_images=frames[1:], transparency=0, duration=100, loop=0, disposal=2)
    return buf.getvalue()


cases = {
    'transparent_global.gif': palette_gif(0),
    'transparent_local.gif': local_palette(palette_gif(0)),
    'transparent_index2.gif': palette_gif(2),
    'opaque.gif': palette_gif(None),
    'animated_transparent.gif': animated(),
}
expected = {}
for name, data in cases.items():
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    im = Image.open(io.BytesIO(data))
    rgb = im.convert('RGB')
    expected[name] = {'width': rgb.width, 'height': rgb.height, 'mode': im.mode, 'rgb': [c for px in rgb.getdata() for c in px]}
with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump({'pillow': Image.__version__, 'cases': expected}, f, indent=1)
    f.write('\n')
print(json.dumps({k: v['rgb'][:6] for k, v in expected.items()}))
