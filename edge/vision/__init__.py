"""On-device vision pipeline."""
