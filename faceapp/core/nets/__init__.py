"""Network definitions: the official DifFace networks (state dicts match their checkpoints) and
faceapp's own CPU-friendly restorer."""
