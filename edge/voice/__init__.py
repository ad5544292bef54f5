"""On-device voice pipeline."""
