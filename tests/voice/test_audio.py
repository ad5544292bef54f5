"""Decoding and input limits: formats, resampling, and every kind of bad file refused with a clear reason."""
import struct
import wave

import numpy as np
import pytest
import soundfile as sf

from edge.voice import audio
from edge.voice.stream import StreamFormat
from protocol.errors import InputError


def tone(seconds=1.0, rate=16_000, freq=220.0, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize("fmt, ext", [("WAV", "wav"), ("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")])
def test_formats_decode_to_16k_mono(tmp_path, fmt, ext):
    path = tmp_path / f"a.{ext}"
    sf.write(path, tone(1.0, 44_100, channels=2), 44_100, format=fmt)
    got = audio.load_file(path)
    assert got.samples.dtype == np.float32 and got.samples.ndim == 1
    assert got.duration == pytest.approx(1.0, abs=0.06)  # MP3 pads a frame
    assert got.source_rate == 44_100 and got.source_channels == 2
    # The 220 Hz tone survives resampling: its spectral peak is still at 220 Hz.
    spectrum = np.abs(np.fft.rfft(got.samples[:16_000]))
    assert np.argmax(spectrum) * 16_000 / 16_000 == pytest.approx(220, abs=2)


def test_empty_file(tmp_path):
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        audio.load_file(tmp_path / "e.wav")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no audio file"):
        audio.load_file(tmp_path / "nope.wav")


def test_corrupt_header(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, tone(), 16_000)
    data = bytearray(good.read_bytes())
    data[8:12] = b"JUNK"  # RIFF form type no longer WAVE
    bad = tmp_path / "bad.wav"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="unsupported or corrupt"):
        audio.load_file(bad)


def test_header_only_wav_has_no_frames(tmp_path):
    path = tmp_path / "h.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
    with pytest.raises(InputError, match="no audio frames"):
        audio.load_file(path)


@pytest.mark.parametrize("payload, name", [
    (b"%PDF-1.4 not audio at all" * 10, "doc.pdf"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "image.wav"),
    (b"hello, this is a text file\n" * 20, "notes.txt"),
])
def test_unsupported_format(tmp_path, payload, name):
    (tmp_path / name).write_bytes(payload)
    with pytest.raises(InputError, match="unsupported or corrupt"):
        audio.load_file(tmp_path / name)


def test_two_hour_file_refused_fast_from_its_header(tmp_path, monkeypatch):
    # A real 2-hour 16 kHz PCM16 WAV header over a sparse file: the limit is read from the header, no decoding.
    path = tmp_path / "long.wav"
    frames = 2 * 3600 * 16_000
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + frames * 2) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16_000, 32_000, 2, 16))
        f.write(b"data" + struct.pack("<I", frames * 2))
        f.truncate(44 + frames * 2)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the samples were read: the limit must come from the header")

    monkeypatch.setattr(sf, "read", no_decoding)
    with pytest.raises(InputError, match=r"120\.0 min long; the limit is 10 min"):
        audio.load_file(path)


def test_two_hour_array_refused():
    with pytest.raises(InputError, match="limit is 10 min"):
        audio.from_array(np.zeros((2 * 3600 * 8_000,), np.int8), 8_000)


def test_too_short(tmp_path):
    sf.write(tmp_path / "s.wav", tone(0.1), 16_000)
    with pytest.raises(InputError, match="at least 0.3 s"):
        audio.load_file(tmp_path / "s.wav")


def test_silence_is_detected():
    assert audio.is_silent(audio.from_array(np.zeros(16_000, np.float32), 16_000))
    assert not audio.is_silent(audio.from_array(tone(), 16_000))


def test_nan_samples_refused():
    x = tone()
    x[100] = np.nan
    with pytest.raises(InputError, match="NaN"):
        audio.from_array(x, 16_000)


def test_pcm16_chunks():
    pcm = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    assert audio.pcm16_to_float(pcm).ravel().tolist() == pytest.approx([0.0, 0.5, -1.0, 32767 / 32768])
    assert audio.pcm16_to_float(pcm, channels=2).shape == (2, 2)
    with pytest.raises(InputError, match="whole number"):
        audio.pcm16_to_float(pcm[:3])


@pytest.mark.parametrize("data, message", [
    ({"encoding": "opus"}, "not supported"),
    ({"sample_rate": 100}, "outside 8000"),
    ({"channels": 0}, "outside 1"),
    ({"sample_rate": "fast"}, "integers"),
])
def test_stream_format_checked(data, message):
    with pytest.raises(InputError, match=message):
        StreamFormat.from_message(data)
