"""Restoration logic: networks, sampler, models, photos. Never imports Qt."""
