"""DNGs that carry an embedded JPEG preview, as a camera's RAW files do.

The DNGs in ``../shared/photos/raw`` have none. :func:`with_embedded_preview` appends one to a
DNG the way the TIFF format allows: a new image file directory (a reduced-resolution image,
``NewSubfileType`` 1, JPEG-compressed, YCbCr) chained after the last one, its JPEG stream
at the end of the file. Nothing else in the file moves, so the raw data, its tags and the
orientation stay as they were. LibRaw (rawpy) finds the preview through the IFD chain.

:func:`mosaic_dng` makes a DNG of any size from an sRGB photo the way ``make_dng.py`` does
(linearised, white balance undone, an RGGB Bayer mosaic of 12 bits in 16-bit words,
uncompressed), for camera-sized RAW files: the shared ones are at most 2400 px.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

_ASCII, _SHORT, _LONG, _RATIONAL, _SRATIONAL = 2, 3, 4, 5, 10
_BYTE = 1
_COLOR_MATRIX = (16203, -7686, -2493, -9689, 18758, 415, 371, -1360, 7047)  # make_dng.py's


def mosaic_dng(
    photo: Image.Image, *, orientation: int = 1, make: str = "KiloTest", compressed: bool = False
) -> bytes:
    """A 12-bit RGGB DNG of ``photo`` (RGB, cropped to even sides): uncompressed 16-bit words,
    or ``compressed`` as one lossless-JPEG tile, as cameras and Adobe's converter write."""
    a = np.asarray(photo.convert("RGB"), dtype=np.float32) / 255.0
    h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
    lin = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)[:h, :w]
    cam = lin * np.array([1 / 2.0, 1.0, 1 / 1.5], np.float32)  # camera space: R, B attenuated
    bayer = np.empty((h, w), np.float32)
    bayer[0::2, 0::2] = cam[0::2, 0::2, 0]
    bayer[0::2, 1::2] = cam[0::2, 1::2, 1]
    bayer[1::2, 0::2] = cam[1::2, 0::2, 1]
    bayer[1::2, 1::2] = cam[1::2, 1::2, 2]
    black, white = 256, 4095
    mosaic = (black + bayer * (white - black)).clip(0, white).astype("<u2")
    raw = lossless_jpeg(mosaic) if compressed else mosaic.tobytes()
    model = b"Synthetic DNG\0"
    unique = make.encode() + b" " + model
    entries: list[tuple[int, int, int, bytes | int]] = [
        (254, _LONG, 1, 0),
        (256, _LONG, 1, w),
        (257, _LONG, 1, h),
        (258, _SHORT, 1, 12 if compressed else 16),
        (259, _SHORT, 1, 7 if compressed else 1),  # lossless JPEG, or none
        (262, _SHORT, 1, 32803),  # color filter array
        (271, _ASCII, len(make) + 1, make.encode() + b"\0"),
        (272, _ASCII, len(model), model),
        *([] if compressed else [(273, _LONG, 1, 0)]),  # StripOffsets: patched below
        (274, _SHORT, 1, orientation),
        (277, _SHORT, 1, 1),
        *([] if compressed else [(278, _LONG, 1, h), (279, _LONG, 1, len(raw))]),
        (284, _SHORT, 1, 1),
        *(
            [(322, _LONG, 1, w), (323, _LONG, 1, h), (324, _LONG, 1, 0), (325, _LONG, 1, len(raw))]
            if compressed
            else []
        ),  # one tile: TileWidth, TileLength, TileOffsets (patched below), TileByteCounts
        (33421, _SHORT, 2, struct.pack("<2H", 2, 2)),  # CFARepeatPatternDim
        (33422, _BYTE, 4, bytes([0, 1, 1, 2])),  # CFAPattern: RGGB
        (50706, _BYTE, 4, bytes([1, 4, 0, 0])),  # DNGVersion
        (50707, _BYTE, 4, bytes([1, 2, 0, 0])),  # DNGBackwardVersion
        (50708, _ASCII, len(unique) + 1, unique + b"\0"),  # UniqueCameraModel
        (50714, _LONG, 1, black),  # BlackLevel
        (50717, _LONG, 1, white),  # WhiteLevel
        (
            50721,
            _SRATIONAL,
            9,
            struct.pack("<18i", *(v for c in _COLOR_MATRIX for v in (c, 10000))),
        ),
        (50728, _RATIONAL, 3, struct.pack("<6I", 1, 2, 1, 1, 2, 3)),  # AsShotNeutral
        (50778, _SHORT, 1, 21),  # CalibrationIlluminant1: D65
    ]
    count = len(entries)
    head = 8 + 2 + 12 * count + 4
    extra = bytearray()
    packed: list[bytes] = []
    for tag, kind, n, value in entries:
        if isinstance(value, bytes) and len(value) > 4:
            packed.append(struct.pack("<HHII", tag, kind, n, head + len(extra)))
            extra += value + b"\0" * (len(value) % 2)
            continue
        if isinstance(value, bytes):
            field = value.ljust(4, b"\0")
        elif kind == _SHORT:
            field = struct.pack("<HH", value, 0)
        else:
            field = struct.pack("<I", value)
        packed.append(struct.pack("<HHI", tag, kind, n) + field)
    raw_at = head + len(extra)
    ifd = bytearray(b"".join(packed))
    strip = 12 * [e[0] for e in entries].index(324 if compressed else 273) + 8
    ifd[strip : strip + 4] = struct.pack("<I", raw_at)
    return (
        b"II*\0"
        + struct.pack("<I", 8)
        + struct.pack("<H", count)
        + bytes(ifd)
        + b"\0" * 4
        + extra
        + raw
    )


def with_embedded_preview(dng: bytes, jpeg: bytes) -> bytes:
    """``dng`` with the baseline JPEG ``jpeg`` (unrotated, sensor-up) as its preview image."""
    order = {b"II": "<", b"MM": ">"}.get(dng[:2])
    if order is None or struct.unpack(order + "H", dng[2:4])[0] != 42:
        raise ValueError("not a classic TIFF/DNG")
    with Image.open(io.BytesIO(jpeg)) as im:
        if im.format != "JPEG" or im.mode != "RGB":
            raise ValueError("the preview must be an RGB JPEG")
        width, height = im.size
    # the last IFD of the chain: its next-IFD pointer is patched to the new one
    offset = struct.unpack(order + "I", dng[4:8])[0]
    pointer_at = 4
    while offset:
        count = struct.unpack(order + "H", dng[offset : offset + 2])[0]
        pointer_at = offset + 2 + 12 * count
        offset = struct.unpack(order + "I", dng[pointer_at : pointer_at + 4])[0]
    out = bytearray(dng)
    out += b"\0" * (len(out) % 2)
    jpeg_at = len(out)
    out += jpeg + b"\0" * (len(jpeg) % 2)
    bits_at = len(out)
    out += struct.pack(order + "3H", 8, 8, 8) + b"\0\0"
    entries = [
        (254, _LONG, 1, 1),  # NewSubfileType: reduced-resolution image
        (256, _LONG, 1, width),
        (257, _LONG, 1, height),
        (258, _SHORT, 3, bits_at),  # BitsPerSample 8, 8, 8 (stored apart: 6 bytes)
        (259, _SHORT, 1, 7),  # Compression: JPEG
        (262, _SHORT, 1, 6),  # PhotometricInterpretation: YCbCr
        (273, _LONG, 1, jpeg_at),  # StripOffsets
        (277, _SHORT, 1, 3),  # SamplesPerPixel
        (278, _LONG, 1, height),  # RowsPerStrip: one strip
        (279, _LONG, 1, len(jpeg)),  # StripByteCounts
        (284, _SHORT, 1, 1),  # PlanarConfiguration: chunky
    ]
    ifd_at = len(out)
    out += struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        packed = (
            struct.pack(order + "HH", value, 0)
            if kind == _SHORT and count == 1
            else struct.pack(order + "I", value)
        )
        out += struct.pack(order + "HHI", tag, kind, count) + packed
    out += struct.pack(order + "I", 0)
    out[pointer_at : pointer_at + 4] = struct.pack(order + "I", ifd_at)
    return bytes(out)


def camera_preview(source_jpeg: bytes, size: tuple[int, int], quality: int = 90) -> bytes:
    """The camera's own JPEG of the frame: the photo the DNG was made from, at the DNG's pixel
    size (as ``make_dng.py`` shrank and cropped it)."""
    with Image.open(io.BytesIO(source_jpeg)) as im:
        rgb = im.convert("RGB")
    rgb.thumbnail((2400, 2400))
    rgb = rgb.crop((0, 0, *size))
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def lossless_jpeg(mosaic: np.ndarray, precision: int = 12) -> bytes:
    """A Bayer mosaic (h x w, uint16) as a lossless JPEG (ITU T.81 process 14, predictor 1,
    one Huffman table), the compression camera DNGs carry: each row's even and odd columns
    as two interleaved components of width w/2, so each is predicted from its own color."""
    h, w = mosaic.shape
    x = mosaic.reshape(h, w // 2, 2).astype(np.int32)
    pred = np.empty_like(x)
    pred[0, 0] = 1 << (precision - 1)
    pred[0, 1:] = x[0, :-1]
    pred[1:, 0] = x[:-1, 0]
    pred[1:, 1:] = x[1:, :-1]
    diff = (x - pred).reshape(-1)
    mag = np.abs(diff)
    ssss = np.zeros(diff.shape, np.int64)
    nz = mag > 0
    ssss[nz] = np.floor(np.log2(mag[nz])).astype(np.int64) + 1
    extra = np.where(diff < 0, diff + (1 << ssss) - 1, diff).astype(np.int64)
    lengths = _huffman_lengths(np.bincount(ssss, minlength=17))
    order = sorted((n, s) for s, n in enumerate(lengths) if n)  # the dummy (17) sorts last
    codes = np.zeros(18, np.int64)
    code, prev = 0, order[0][0]
    for n, s in order:
        code <<= n - prev
        codes[s], prev = code, n
        code += 1
    lens = np.array(lengths, np.int64)
    values = (codes[ssss] << ssss) | extra
    bits = lens[ssss] + ssss
    payload = _pack_bits(values, bits).replace(b"\xff", b"\xff\x00")
    counts = [sum(1 for n, _ in order if n == i) for i in range(1, 17)]
    symbols = bytes(s for _, s in order if s < 17)
    counts[order[-1][0] - 1] -= 1  # the dummy symbol is not in the table
    dht = bytes([0x00, *counts]) + symbols
    sof = struct.pack(">BHHB", precision, h, w // 2, 2) + bytes([1, 0x11, 0, 2, 0x11, 0])
    sos = bytes([2, 1, 0x00, 2, 0x00, 1, 0, 0])  # two components, predictor 1, Pt 0
    segments = b"".join(
        m + struct.pack(">H", len(body) + 2) + body
        for m, body in ((b"\xff\xc4", dht), (b"\xff\xc3", sof), (b"\xff\xda", sos))
    )
    return b"\xff\xd8" + segments + payload + b"\xff\xd9"


def _huffman_lengths(freq: np.ndarray) -> list[int]:
    """Code lengths (at most 16) for symbols 0..16, plus a dummy symbol 17 of the lowest
    frequency that takes the all-ones code JPEG forbids."""
    import heapq

    heap: list[tuple[float, int, list[int]]] = [
        (float(f), s, [s]) for s, f in enumerate(freq.tolist()) if f
    ]
    heap.append((0.5, 17, [17]))
    heapq.heapify(heap)
    lengths = [0] * 18
    tie = 18
    while len(heap) > 1:
        fa, _, a = heapq.heappop(heap)
        fb, _, b = heapq.heappop(heap)
        for s in a + b:
            lengths[s] += 1
        heapq.heappush(heap, (fa + fb, tie, a + b))
        tie += 1
    if max(lengths) > 16:
        raise ValueError("a Huffman code longer than 16 bits")
    return lengths


def _pack_bits(values: np.ndarray, bits: np.ndarray) -> bytes:
    """Variable-length codes (``bits[i]`` low bits of ``values[i]``, MSB first) as bytes,
    the last byte padded with ones."""
    out: list[bytes] = []
    carry = np.zeros(0, np.uint8)
    step = 1 << 18
    for start in range(0, len(values), step):
        v, n = values[start : start + step], bits[start : start + step]
        as_bits = np.unpackbits(v.astype(">u4").view(np.uint8).reshape(-1, 4), axis=1)
        keep = np.arange(32)[None, :] >= (32 - n)[:, None]
        stream = np.concatenate([carry, as_bits[keep]])
        whole = len(stream) // 8 * 8
        out.append(np.packbits(stream[:whole]).tobytes())
        carry = stream[whole:]
    if len(carry):
        tail = np.concatenate([carry, np.ones(8 - len(carry), np.uint8)])
        out.append(np.packbits(tail).tobytes())
    return b"".join(out)
