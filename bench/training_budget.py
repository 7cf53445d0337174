"""Budget check of faceapp's compact model configs: parameters, fp16 size, FLOPs, CPU time.

    .venv/bin/python bench/training_budget.py [--restorer CONFIG] [--prior CONFIG] [--steps 6]

By default the shipped model's networks (restorer_cpu_deep, prior_cpu) at its 6 steps.

One face at default settings = one restorer call + ``steps`` prior calls at 256 px on 2 CPU
threads (best of several runs, since the machine may be shared). Exits 2 when over budget.
"""

from __future__ import annotations

import sys

from faceapp.training.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["budget", *sys.argv[1:]]))
