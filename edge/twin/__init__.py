"""On-device twin pipeline."""
