"""Keep Python's full garbage collections short, so they do not freeze the window.

A full collection walks every tracked object while holding the GIL, which stops the UI thread as
well. Once torch, Qt and a model are loaded that is several hundred thousand objects: on a busy
two-core machine one such collection took 150–330 ms. The objects alive after start-up and after
a model has loaded (modules, classes, network layers) live until the app quits, so they are moved
out of the collector's sight; later collections only walk what was made since.
"""

from __future__ import annotations

import gc


def freeze_long_lived_objects() -> None:
    """Exclude every object alive now from future garbage collections (``gc.freeze``).

    Call after start-up and after loading a model. Reference counting still frees frozen
    objects; only reference cycles among them are never reclaimed, which is why this is for
    objects that live as long as the app.
    """
    gc.freeze()
