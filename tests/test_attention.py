"""faceapp's attention: the kernel chosen for CPU training computes what the fused one does."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from faceapp.core.nets.attention import attention


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16-autocast"])
def test_training_attention_matches_the_fused_kernel_in_values_and_gradients(bf16):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 64, 32, requires_grad=True) for _ in range(3))
    upstream = torch.randn(2, 4, 64, 32)

    def run(fn):
        for t in (q, k, v):
            t.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = fn(q, k, v)
        out.float().backward(upstream)
        return out.detach().float(), [t.grad.clone() for t in (q, k, v)]

    ours, our_grads = run(attention)
    fused, fused_grads = run(F.scaled_dot_product_attention)
    tol = dict(atol=0.05, rtol=0.05) if bf16 else dict(atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours, fused, **tol)
    for mine, theirs in zip(our_grads, fused_grads):
        torch.testing.assert_close(mine, theirs, **tol)


def test_inference_uses_the_fused_kernel_exactly():
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 2, 16, 8) for _ in range(3))
    with torch.inference_mode():
        assert torch.equal(attention(q, k, v), F.scaled_dot_product_attention(q, k, v))
