"""Regenerate the voice test fixtures: espeak-ng speech → sox → 16 kHz mono PCM16 WAV (needs espeak-ng and sox).

Run once on a dev machine (`apt-get install espeak-ng sox`); the WAVs are committed so CI needs neither tool.
"""
import json
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
VOICE = "en-us"
WORDS_PER_MINUTE = "150"


def main() -> None:
    """Synthesize every utterance listed in utterances.json."""
    for item in json.loads((HERE / "utterances.json").read_text()):
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            subprocess.run(["espeak-ng", "-v", VOICE, "-s", WORDS_PER_MINUTE, "-w", str(raw), item["text"]], check=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(HERE / item["file"])],
                           check=True)
        print(item["file"])


if __name__ == "__main__":
    main()
