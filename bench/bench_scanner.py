"""Scanner speed and accuracy on generated 1600×1200 photos: our pipeline end to end vs bare RapidOCR.

Targets (issue 6): ≤ 1 s per 1600×1200 photo end to end; field accuracy ≥ 95% at moderate degradation.
Run: .venv/bin/python bench/bench_scanner.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="6 moderate photos instead of 30 per degradation level")
    args = ap.parse_args()
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    from edge.vision.scanner import image, scan, synth

    levels = ["moderate"] if args.quick else ["clean", "moderate", "heavy"]
    n = 6 if args.quick else 30
    bare_engine = RapidOCR()  # the library's defaults: the reference side
    warm = synth.lab_report(999).image
    bare_engine(warm)
    scan.scan(warm)  # model loading is not per-photo cost
    print(f"{n} photos per level, 1600×1200 JPEG, half lab reports, half prescription labels")
    print(f"{'level':9} {'ours s/photo':>12} {'bare OCR s/photo':>16} {'ratio':>6} {'field accuracy':>15}")
    for level in levels:
        samples = synth.dataset(n, level, seed=1000)
        ours, bare, correct, total = [], [], 0, 0
        for s in samples:
            t = time.perf_counter()
            result, _ = scan.scan(s.image)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            bare_engine(np.asarray(image.decode(s.image))[..., ::-1].copy())
            bare.append(time.perf_counter() - t)
            c, tot, _ = synth.score(s, result)
            correct, total = correct + c, total + tot
        to, tb = statistics.median(ours), statistics.median(bare)
        print(f"{level:9} {to:12.3f} {tb:16.3f} {to / tb:6.2f} {correct / total:14.1%}  ({correct}/{total} fields)")
    big = Path("/tmp/healthsync-100mp.png")
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    big.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10_000, 10_000, 8, 2, 0, 0, 0))
                    + chunk(b"IEND", b""))
    t = time.perf_counter()
    try:
        image.decode(big)
    except Exception as exc:  # the refusal is the point
        print(f"100 MP image refused in {1000 * (time.perf_counter() - t):.2f} ms: {exc}")
    print("targets: ≤ 1 s per photo, ≥ 95% field accuracy at moderate")


if __name__ == "__main__":
    main()
