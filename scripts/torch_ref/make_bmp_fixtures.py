"""BMP fixtures and what PIL decodes them to (HF's load_image: open, convert('RGB')).

libvips (sharp's prebuilt) reads no BMP; src/preprocess/bmp.ts does, following Pillow's
BmpImagePlugin. Writes test/fixtures/bmp/*.bmp and expected.json ({name: {width, height, mode, rgb}}
for the files PIL reads, {name: {pil_error}} for those it refuses), read by
test/preprocess/bmp.test.ts. The files are packed by hand (struct) so that every header size, bit
depth, bitfields layout and row order is covered, and some are PIL's own writes. Run with Debian's
python3-pil (9.4.0 when written):
    /usr/bin/python3 scripts/torch_ref/make_bmp_fixtures.py
"""
import io
import json
import os
import random
import struct
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'bmp')
os.makedirs(OUT, exist_ok=True)
rng = random.Random(5)
W, H = 5, 3  # odd width: rows are padded to 4 bytes


def stride(bits, w=W):
    return ((w * bits + 31) >> 3) & ~3


def info_header(size, w, h, bits, compression=0, colors=0, data_size=0):
    """BITMAPINFOHEADER (40 bytes), zero-extended to `size` (V4 108, V5 124, OS/2 v2 64)."""
    hdr = struct.pack('<IiiHHIIiiII', size, w, h, 1, bits, compression, data_size, 2835, 2835, colors, 0)
    return hdr + b'\0' * (size - 40)


def bmp(dib, pixels, extra=b''):
    """BITMAPFILEHEADER + DIB header + extra (masks, palette) + pixel rows."""
    offset = 14 + len(dib) + len(extra)
    return struct.pack('<2sIHHI', b'BM', offset + len(pixels), 0, 0, offset) + dib + extra + pixels


def rows(bits, w, h, pixel):
    """Packed rows (row 0 first as stored) from pixel(x, y) -> bytes for bits >= 8, int index below."""
    out = b''
    for y in range(h):
        if bits >= 8:
            row = b''.join(pixel(x, y) for x in range(w))
        else:
            acc, n, row = 0, 0, bytearray()
            for x in range(w):
                acc = (acc << bits) | pixel(x, y)
                n += bits
                if n == 8:
                    row.append(acc)
                    acc, n = 0, 0
            if n:
                row.append(acc << (8 - n))
            row = bytes(row)
        out += row + b'\0' * (stride(bits, w) - len(row))
    return out


def rand_bytes(n):
    return bytes(rng.randrange(256) for _ in range(n))


def palette(colors, entry=4):
    return b''.join(rand_bytes(3) + (b'\0' if entry == 4 else b'') for _ in range(colors))


def pil_save(mode, w=W, h=H, colors=None):
    im = Image.new(mode, (w, h))
    if mode == 'RGB':
        im.putdata([tuple(rand_bytes(3)) for _ in range(w * h)])
    elif mode == 'P':
        im.putpalette(list(rand_bytes(768)))
        im.putdata([rng.randrange(colors) for _ in range(w * h)])
    elif mode == '1':
        im.putdata([rng.choice((0, 255)) for _ in range(w * h)])
    else:
        im.putdata([rng.randrange(256) for _ in range(w * h)])
    buf = io.BytesIO()
    im.save(buf, format='BMP')
    return buf.getvalue()


px24 = lambda x, y: rand_bytes(3)
cases = {
    # Pillow's own writes: 24-bit, 8-bit palette, greyscale (an identity palette), 1-bit
    'pil_rgb24.bmp': pil_save('RGB'),
    'pil_pal8.bmp': pil_save('P', colors=200),
    'pil_gray8.bmp': pil_save('L'),
    'pil_bw1.bmp': pil_save('1', w=11),
    # top-down (negative height)
    'rgb24_topdown.bmp': bmp(info_header(40, W, -H, 24), rows(24, W, H, px24)),
    # V5 header (124), bottom-up 24-bit
    'rgb24_v5.bmp': bmp(info_header(124, W, H, 24), rows(24, W, H, px24)),
    # OS/2 core header (12 bytes: 16-bit sizes), 24-bit, and 8-bit with 3-byte palette entries
    'core_rgb24.bmp': bmp(struct.pack('<IHHHH', 12, W, H, 1, 24), rows(24, W, H, px24)),
    'core_pal8.bmp': bmp(struct.pack('<IHHHH', 12, W, H, 1, 8), rows(8, W, H, lambda x, y: bytes([rng.randrange(256)])), palette(256, 3)),
    # 4-bit palette, colour count from the bits (16); 1-bit with a colour (not black/white) palette
    'pal4.bmp': bmp(info_header(40, W, H, 4), rows(4, W, H, lambda x, y: rng.randrange(16)), palette(16)),
    'pal1_colour.bmp': bmp(info_header(40, 11, H, 1, colors=2), rows(1, 11, H, lambda x, y: rng.randrange(2)), palette(2)),
    # 8-bit with a short palette (colors = 7) that the pixels stay within
    'pal8_short.bmp': bmp(info_header(40, W, H, 8, colors=7), rows(8, W, H, lambda x, y: bytes([rng.randrange(7)])), palette(7)),
    # 16-bit: BI_RGB is 5-5-5; bitfields 5-6-5 and 5-5-5 (masks after a 40-byte header)
    'rgb555.bmp': bmp(info_header(40, W, H, 16), rows(16, W, H, lambda x, y: struct.pack('<H', rng.randrange(1 << 15)))),
    'rgb565_bitfields.bmp': bmp(info_header(40, W, H, 16, compression=3), rows(16, W, H, lambda x, y: rand_bytes(2)), struct.pack('<III', 0xF800, 0x7E0, 0x1F)),
    'rgb555_bitfields.bmp': bmp(info_header(40, W, H, 16, compression=3), rows(16, W, H, lambda x, y: struct.pack('<H', rng.randrange(1 << 15))), struct.pack('<III', 0x7C00, 0x3E0, 0x1F)),
    # 32-bit BI_RGB: the 4th byte is ignored (BGRX), whatever it holds
    'bgrx32.bmp': bmp(info_header(40, W, H, 32), rows(32, W, H, lambda x, y: rand_bytes(4))),
}


def v4_bitfields(masks, bits=32):
    # V4 header: masks at offset 40 of the DIB header (r, g, b, a), inside the header itself
    hdr = bytearray(info_header(108, W, H, bits, compression=3))
    hdr[40:56] = struct.pack('<IIII', *masks)
    return bytes(hdr)


for name, masks in {
    'bgra32_v4.bmp': (0xFF0000, 0xFF00, 0xFF, 0xFF000000),
    'rgba32_v4.bmp': (0xFF, 0xFF00, 0xFF0000, 0xFF000000),
    'abgr32_v4.bmp': (0xFF000000, 0xFF0000, 0xFF00, 0xFF),
    'xbgr32_v4.bmp': (0xFF000000, 0xFF0000, 0xFF00, 0x0),
    'bgrx32_v4.bmp': (0xFF0000, 0xFF00, 0xFF, 0x0),
}.items():
    cases[name] = bmp(v4_bitfields(masks), rows(32, W, H, lambda x, y: rand_bytes(4)))

# run-length encoded, bottom-up: encoded runs, absolute runs (word-aligned), end of line, end of
# bitmap. No delta: Pillow 9.4 reads the two bytes after a delta's own as its offsets (bmp.test.ts
# checks deltas against the format's definition instead)
rle8 = bytes([W, 3, 0, 0,  0, 3, 9, 8, 7, 0, 2, 4, 0, 0,  2, 1, 3, 6, 0, 1])
rle4 = bytes([W, 0x12, 0, 0,  0, 4, 0x34, 0x56, 1, 0x70, 0, 0,  W, 0xAB, 0, 1])
cases['rle8.bmp'] = bmp(info_header(40, W, H, 8, compression=1, data_size=len(rle8)), rle8, palette(256))
cases['rle4.bmp'] = bmp(info_header(40, W, H, 4, compression=2, data_size=len(rle4)), rle4, palette(16))

# what PIL refuses (and so do we): an unknown header size, bitfields it does not list, a bit depth
# it has no mode for, pixel data cut short, a run-length stream that ends before the last row
refused = {
    'rle8_short.bmp': bmp(info_header(40, W, H, 8, compression=1), bytes([W, 3, 0, 0, 2, 4, 0, 1]), palette(256)),
    'header56.bmp': bmp(info_header(56, W, H, 24), rows(24, W, H, px24)),
    'bitfields_odd.bmp': bmp(v4_bitfields((0xFF00, 0xFF0000, 0xFF000000, 0xFF)), rows(32, W, H, lambda x, y: rand_bytes(4))),
    'bits2.bmp': bmp(info_header(40, W, H, 2), rows(2, W, H, lambda x, y: rng.randrange(4)), palette(4)),
    'truncated.bmp': bmp(info_header(40, W, H, 24), rows(24, W, H, px24))[:-9],
}
expected = {}
for name, data in {**cases, **refused}.items():
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    try:
        im = Image.open(io.BytesIO(data))
        rgb = im.convert('RGB')
        expected[name] = {'width': rgb.width, 'height': rgb.height, 'mode': im.mode, 'rgb': [c for px in rgb.getdata() for c in px]}
    except Exception as e:  # noqa: BLE001 -- the fixture records what PIL said
        expected[name] = {'pil_error': f'{type(e).__name__}: {e}'}
    assert (name in refused) == ('pil_error' in expected[name]), (name, expected[name])
with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump({'pillow': Image.__version__, 'cases': expected}, f, indent=1)
    f.write('\n')
print(json.dumps({k: v.get('mode', v.get('pil_error')) for k, v in expected.items()}, indent=1))
