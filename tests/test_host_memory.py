"""The C heap keeps freed tensor memory for the next network op, and gives it back after a job.

Each case runs in its own Python process: the heap settings are process-wide and only take
effect before the memory in question is first allocated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from faceapp.core import host_memory

pytestmark = pytest.mark.skipif(host_memory._glibc() is None, reason="the heap tuning speaks glibc's mallopt")

# Forwards of faceapp's CPU prior (4 faces of 256 px, fp32; its full-resolution activations are
# 32 MiB, above what glibc ever serves from its heap by itself): the minor page faults of the
# later calls say whether their activations got fresh pages from the system or reused freed ones.
# Measured on a 2-core Xeon: ~130,000 per call untouched, under 5,000 per call tuned.
_PROBE = textwrap.dedent("""
    import json, resource, sys
    import torch

    SETUP

    from faceapp.core.host_memory import return_freed_memory
    from faceapp.core.loading import build_network
    from faceapp.training.config import load_config

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    torch.set_num_threads(1)
    cfg = load_config("prior_cpu").model
    prior = build_network(cfg.arch, cfg.config).eval()
    x, t = torch.randn(4, 3, 256, 256), torch.tensor([400] * 4)
    with torch.inference_mode():
        prior(x, t)
        before = faults()
        for _ in range(CALLS):
            prior(x, t)
        later_faults = faults() - before
        big = torch.zeros(8, 32, 256, 256)
        outputs = [torch.nn.functional.silu(big) for _ in range(8)]  # 512 MiB at once, then freed
        del outputs
    held = rss_mb()
    return_freed_memory()
    print(json.dumps({"faults": later_faults, "held_mb": held, "after_mb": rss_mb()}))
""")

#: later calls' faults, in all, above which their activations evidently came from fresh pages
_FRESH_PAGES = 150_000


def _run(setup: str, calls: int = 3, **env: str) -> dict:
    code = _PROBE.replace("SETUP", setup).replace("CALLS", str(calls))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cpu_engine_reuses_freed_memory_instead_of_faulting_in_fresh_pages():
    setup = ("from faceapp.core.engine import FaceEngine\n"
             "FaceEngine.from_networks(torch.nn.Identity(), None, face_size=32, name='tiny', device='cpu')")
    assert _run("")["faults"] > _FRESH_PAGES  # glibc alone maps fresh pages for every large activation
    assert _run(setup)["faults"] < _FRESH_PAGES / 3


def test_the_environment_variable_turns_the_tuning_off():
    setup = "from faceapp.core.host_memory import keep_freed_memory\nassert not keep_freed_memory()"
    assert _run(setup, FACEAPP_KEEP_FREED_MEMORY="0")["faults"] > _FRESH_PAGES


def test_freed_memory_goes_back_to_the_system_after_a_job():
    kept = _run("from faceapp.core.host_memory import keep_freed_memory\nassert keep_freed_memory()", calls=0)
    assert kept["held_mb"] - kept["after_mb"] > 400  # the 512 MiB of freed outputs
