"""Network definitions whose state dicts match the official DifFace checkpoints."""
