"""Normalisation and word error rate (expected values counted by hand)."""
import pytest

from edge.voice.textnorm import normalize, wer, word_errors, words_to_digits


@pytest.mark.parametrize("text, expected", [
    ("My back pain is Eight out of ten.", "my back pain is 8 out of 10"),
    ("twenty-one days", "21 days"),
    ("twenty one days", "21 days"),
    ("I'm short of breath!", "im short of breath"),
    ("  Lisinopril,   amoxicillin. ", "lisinopril amoxicillin"),
])
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_words_to_digits_keeps_other_words():
    assert words_to_digits("for three days, since one") == "for 3 days, since 1"


def test_word_errors_counts_substitutions_insertions_deletions():
    assert word_errors("the cat sat", "the cat sat") == (0, 3)
    assert word_errors("the cat sat", "the cat sat down") == (1, 3)  # one insertion
    assert word_errors("the cat sat", "the sat") == (1, 3)  # one deletion
    assert word_errors("the cat sat", "a dog sat") == (2, 3)  # two substitutions
    assert word_errors("eight out of ten", "8 out of 10.") == (0, 4)  # numbers and punctuation normalised


def test_corpus_wer_pools_words():
    # (1 + 0) errors over (3 + 2) reference words.
    assert wer(["the cat sat", "hello there"], ["the cat", "hello there"]) == pytest.approx(1 / 5)
    with pytest.raises(ValueError):
        wer(["a"], [])
