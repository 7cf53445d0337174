"""faceapp's CPU-friendly networks: the UNet's pixel-unshuffle option and the convolutional restorer."""

from __future__ import annotations

import pytest
import torch

from faceapp.core.loading import build_network, load_network, save_safetensors
from faceapp.core.nets.conv_restorer import ConvRestorer
from faceapp.core.nets.unet import AttentionBlock, UNetModel

torch.set_num_threads(1)


def _unet(**overrides):
    config = dict(image_size=32, in_channels=3, model_channels=32, out_channels=6, num_res_blocks=1,
                  attention_resolutions=[8], channel_mult=[1, 1], num_head_channels=32, use_scale_shift_norm=True)
    return UNetModel(**{**config, **overrides})


def test_unshuffled_unet_keeps_the_image_contract():
    net = _unet(unshuffle=2).eval()
    x = torch.randn(2, 3, 32, 32)
    out = net(x, torch.tensor([10, 700]))
    assert out.shape == (2, 6, 32, 32)
    assert net.input_blocks[0][0].in_channels == 12  # 2×2 patches folded into channels
    # attention sizes count from the folded side: 32 px / 2 = 16 → levels at 16 and 8; attention at 8
    has_attention = [any(isinstance(m, AttentionBlock) for m in block) for block in net.input_blocks]
    assert has_attention == [False, False, False, True]  # stem, res@16, downsample, res+attention@8


def test_unshuffled_unet_output_channels_unfold_in_order():
    """ε comes out in channels 0–2 and the variance values in 3–5 (pixel shuffle keeps channel groups)."""
    net = _unet(unshuffle=2).eval()
    final = net.out[-1]
    with torch.no_grad():
        final.bias.zero_()
        final.bias[:12] = 1.0  # the folded channels of output channels 0, 1, 2
    out = net(torch.randn(1, 3, 32, 32), torch.tensor([5]))
    assert torch.all(out[:, :3] == 1.0) and torch.all(out[:, 3:] == 0.0)


def test_unshuffle_one_is_the_official_network():
    assert _unet().state_dict().keys() == _unet(unshuffle=1).state_dict().keys()
    with pytest.raises(ValueError, match="unshuffle"):
        _unet(unshuffle=3)  # does not divide 32


def test_full_resolution_tail_starts_silent_then_refines_every_pixel():
    """A tail added to a trained network leaves its output as it was until trained; once its weights
    move, it changes the output pixel by pixel (not in 2×2 blocks) and sees the timestep."""
    plain = _unet(unshuffle=2).eval()
    grown = _unet(unshuffle=2, tail_channels=8).eval()
    missing, unexpected = grown.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("tail.") for k in missing)
    x, t = torch.randn(2, 3, 32, 32), torch.tensor([10, 700])
    with torch.no_grad():
        assert torch.equal(grown(x, t), plain(x, t))
        torch.nn.init.normal_(grown.tail.last.weight, std=0.1)
        delta = grown(x, t) - plain(x, t)
        other_t = grown(x, torch.tensor([500, 20])) - plain(x, torch.tensor([500, 20]))
    assert delta.abs().min() > 0
    blocks = delta[:, :, ::2, ::2]  # top-left pixel of each 2×2 patch against its right neighbour
    assert not torch.allclose(blocks, delta[:, :, ::2, 1::2])
    assert not torch.allclose(delta, other_t)
    with pytest.raises(ValueError, match="tail_channels"):
        _unet(tail_channels=-1)


def test_conv_restorer_starts_as_the_identity_and_keeps_shape():
    net = ConvRestorer(unshuffle=2, channels=(16, 32), blocks=(1, 1), attention_head_channels=16).eval()
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(net(x), x)  # zero-initialised head: an untrained restorer changes nothing
    with torch.no_grad():
        net.head.bias.fill_(0.1)
    assert net(x).shape == x.shape and not torch.equal(net(x), x)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.rand(1, 3, 30, 30))


def test_conv_restorer_round_trips_through_safetensors(tmp_path):
    config = {"unshuffle": 2, "channels": [16, 32], "blocks": [1, 2], "attention_head_channels": 16}
    net = build_network("conv_restorer", config)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05)
    path = save_safetensors(net.state_dict(), tmp_path / "r.safetensors", dtype=None)
    loaded = load_network("conv_restorer", config, path)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), net.eval()(x))
