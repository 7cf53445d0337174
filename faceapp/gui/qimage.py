"""The only place where numpy arrays and Qt images meet.

Every conversion copies, so neither side can see the other's memory change underneath it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(rgb: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """An HxWx3 uint8 RGB array (and optional HxW uint8 alpha) as an independent QImage."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    if alpha is not None:
        if alpha.shape != (height, width):
            raise ValueError(f"alpha shape {alpha.shape} does not match the image {rgb.shape[:2]}")
        rgba = np.ascontiguousarray(np.dstack([rgb, alpha.astype(np.uint8)]))
        image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    else:
        data = np.ascontiguousarray(rgb)
        image = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an HxWx3 uint8 RGB array (alpha dropped)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width = converted.height(), converted.width()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    return rows[:, : 3 * width].reshape(height, width, 3).copy()


def rgb_to_pixmap(rgb: np.ndarray, *, max_side: int | None = None) -> QPixmap:
    """An RGB array as a pixmap, optionally scaled down so its longer side is ``max_side``."""
    pixmap = QPixmap.fromImage(rgb_to_qimage(rgb))
    if max_side is not None and max(pixmap.width(), pixmap.height()) > max_side:
        pixmap = pixmap.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return pixmap
