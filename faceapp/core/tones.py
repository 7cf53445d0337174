"""Keeping the restorer's tones: the prior adds detail, the restorer keeps colour and broad shape.

A small prior samples plausible fine texture but drifts in what is broad: skin turns blotchy, a
cheek changes colour, and the further towards "realistic" the slider goes, the more. A model whose
manifest has ``[restorer_tones]`` therefore keeps the low frequencies of its restorer's estimate
and takes only what is finer from the prior's sample:

    out = sample + G_σ * (estimate − sample)

where G_σ is a Gaussian blur of σ face pixels: what the blur keeps (tones, broad shapes) comes from
the restorer's estimate, what it removes (texture, fine edges) from the prior's sample. This is the
low-pass data consistency of ILVR (Choi et al. 2021) applied once, to the finished sample; done at
every DDIM step it also smooths away the texture the prior adds in its last steps (measured in
MODEL_CARD.md). The sample's outermost pixel is the restorer's too, the next one half its
(:func:`keep_restorer_rim`),
and a damage hole's fill keeps the same tones (:func:`keep_restorer_tones_in_hole`). A model without
the section samples exactly as DifFace does.
"""

from __future__ import annotations

import math

import torch
from torchvision.transforms.v2 import functional as tvf


def blur_kernel_size(sigma: float) -> int:
    """The odd kernel width that covers ±3σ of a Gaussian of ``sigma`` pixels."""
    return 2 * math.ceil(3.0 * sigma) + 1


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` (…xHxW) blurred by a Gaussian of ``sigma`` pixels, reflect-padded (its kernel cut to
    less than twice the image's shorter side, as reflect padding needs); a ValueError unless σ > 0."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    size = min(blur_kernel_size(sigma), 2 * min(x.shape[-2:]) - 1)
    size -= 1 - size % 2
    return tvf.gaussian_blur(x, [size, size], [float(sigma), float(sigma)])


def keep_restorer_tones(samples: torch.Tensor, estimate: torch.Tensor, sigma: float) -> torch.Tensor:
    """``samples`` (Bx3xHxW) with their low frequencies, below a Gaussian blur of ``sigma`` pixels,
    replaced by those of ``estimate`` (1x3xHxW or Bx3xHxW, same range), clamped to [−1, 1]."""
    return (samples + _blur(estimate.to(samples.dtype) - samples, sigma)).clamp(-1.0, 1.0)


#: The prior's outermost pixels, where its convolutions saw zero padding: weight of the restorer's
#: estimate in them, from the edge inwards.
RIM_WEIGHTS = (1.0, 0.5)


def keep_restorer_rim(samples: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
    """``samples`` (Bx3xHxW) with their outermost pixels taken from ``estimate`` (1x3xHxW or
    Bx3xHxW): the edge row and column wholly, the next half (:data:`RIM_WEIGHTS`). The small
    prior's edge pixels, computed over zero padding, differ from the restorer's by 7–10 grey levels
    where the rest differs by 2–3, a speckled coloured frame around an aligned crop restored as a
    picture of its own (a face pasted into its photo fades out before its edge)."""
    height, width = samples.shape[-2:]
    rows, cols = torch.arange(height, device=samples.device), torch.arange(width, device=samples.device)
    depth = torch.minimum(torch.minimum(rows, height - 1 - rows)[:, None],  # how far in from the nearest edge
                          torch.minimum(cols, width - 1 - cols)[None, :])
    shares = torch.tensor((*RIM_WEIGHTS, 0.0), dtype=samples.dtype, device=samples.device)
    weight = shares[depth.clamp(max=len(RIM_WEIGHTS))]
    return samples + weight * (estimate.to(samples.dtype) - samples)


def keep_restorer_tones_in_hole(samples: torch.Tensor, reference: torch.Tensor, hole: torch.Tensor,
                                sigma: float) -> torch.Tensor:
    """``samples`` (Bx3xHxW) inside ``hole`` (1x1xHxW, 1 = filled by the prior) with their low
    frequencies replaced by those of ``reference`` (1x3xHxW: the known pixels around the hole and
    the restorer's estimate in it), clamped to [−1, 1]; outside the hole, ``reference``.

    The sample's own low frequencies are measured over the hole alone (a blur normalised by the
    blurred hole), so that a fill darker or lighter than its surroundings loses all of its offset,
    up to the hole's rim: a plain blur of the difference would leave a stroke a few σ wide with
    a fifth of it."""
    hole = hole.to(samples.dtype)
    reference = reference.to(samples.dtype)
    own_low = _blur(samples * hole, sigma) / _blur(hole, sigma).clamp_min(1e-12)  # (used inside the hole only, where > 0)
    filled = (samples - own_low + _blur(reference, sigma)).clamp(-1.0, 1.0)
    return hole * filled + (1.0 - hole) * reference
