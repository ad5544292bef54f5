"""Image decoding limits and preprocessing: bad input is refused with a clear InputError, before decoding."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from edge.vision.scanner import image
from protocol.errors import InputError


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height, with one tiny (wrong) data chunk: decoding it would fail."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + \
        chunk(b"IEND", b"")


def jpeg(rgb: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_100_megapixel_image_is_refused_from_its_header():
    with pytest.raises(InputError, match="100 MP; the limit is 40 MP"):
        image.decode(png_header(10_000, 10_000))  # the size error, not a decode error: nothing was decoded


def test_an_image_beyond_pillows_own_bomb_limit_is_refused_cleanly():
    with pytest.raises(InputError, match="too large|MP"):
        image.decode(png_header(20_000, 20_000))


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"%PDF-1.7 this is not an image", "not a readable image"),
    (b"\x89PNG\r\n\x1a\n", "not a readable image"),
])
def test_non_images(data, message):
    with pytest.raises(InputError, match=message):
        image.decode(data)


def test_truncated_jpeg():
    data = jpeg(np.full((200, 300, 3), 128, np.uint8))
    with pytest.raises(InputError, match="damaged or truncated"):
        image.decode(data[: len(data) // 2])


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such image file"):
        image.decode(tmp_path / "nope.jpg")


def test_exif_orientation_is_applied():
    img = Image.fromarray(np.zeros((100, 200, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    assert image.decode(buf.getvalue()).shape == (200, 100, 3)


def test_too_small_to_scan():
    with pytest.raises(InputError, match="too small"):
        image.preprocess(np.zeros((4, 4, 3), np.uint8))


@pytest.mark.parametrize("angle", [-4.0, 0.0, 3.0])
def test_deskew_recovers_the_rotation(angle):
    from edge.vision.scanner import synth

    rgb = image.decode(synth.lab_report(1).image)
    rotated = np.asarray(Image.fromarray(rgb).rotate(angle, fillcolor=(248, 247, 242)))
    gray = np.asarray(Image.fromarray(rotated).convert("L"))
    # PIL rotates counter-clockwise for positive angles; the correction is the opposite rotation
    assert image.estimate_skew(gray) == pytest.approx(-angle, abs=0.5)


def test_preprocess_scales_and_reports_an_invertible_transform():
    rgb = np.full((1200, 1600, 3), 240, np.uint8)
    out, steps = image.preprocess(rgb, max_side=800)
    assert out.shape == (600, 800, 3) and steps["scale"] == 0.5 and steps["clahe"] is True
    assert np.allclose(np.array(steps["affine"])[:, :2], np.eye(2) * 0.5)  # blank page: no rotation
