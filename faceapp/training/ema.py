"""Exponential moving average of a network's weights (Polyak averaging), kept in float32."""

from __future__ import annotations

import copy

import torch


class EMA:
    """A float32 copy of ``model`` whose parameters track an exponential moving average.

    The effective decay warms up as min(decay, (1 + n)/(10 + n)) over the first updates, so a
    short run's average is not dominated by the random initialisation.
    """

    def __init__(self, model: torch.nn.Module, *, decay: float) -> None:
        self.decay = float(decay)
        self.updates = 0
        self.module = copy.deepcopy(model).float().eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Move the average towards ``model``'s current weights; copy its buffers."""
        decay = self.current_decay()
        ema_params = list(self.module.parameters())
        params = [p.detach().float() for p in model.parameters()]
        torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        for b_ema, b in zip(self.module.buffers(), model.buffers()):
            b_ema.copy_(b)
        self.updates += 1

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "updates": self.updates, "decay": self.decay}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
