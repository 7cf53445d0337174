"""How long the window's damage brush holds the event loop on a large photo, per mouse event.

    .venv/bin/python bench/brush_strokes.py [--width 7300] [--height 5470] [--strokes 3] [--moves 60] [--spread]

Shows a grey photo of the given size (40 MP by default) in the compare view with the damage brush
on (offscreen Qt, no main window), drags ``--strokes`` strokes of ``--moves`` moves each through
it (``--spread``: each in another part of the photo, as scratches across a scan; else side by
side), then undoes one, and prints how long each press, move (median and longest) and release took
to be handled and redrawn, in ms. Over 100 ms is a stall a user feels.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=7300)
    parser.add_argument("--height", type=int, default=5470)
    parser.add_argument("--strokes", type=int, default=3)
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--spread", action="store_true", help="strokes across the whole photo")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from faceapp.core.mask_editing import MaskEditor
    from faceapp.gui.compare_view import CompareView
    from faceapp.gui.damage_overlay import DamageOverlay
    from faceapp.gui.qimage import rgb_to_qimage

    app = QApplication([])
    view = CompareView()
    view.resize(1200, 800)
    view.show()
    view.set_images(rgb_to_qimage(np.full((args.height, args.width, 3), 90, np.uint8)))
    layer = DamageOverlay(view)
    editor = MaskEditor(args.width, args.height)
    layer.set_editor(editor)
    layer.show()
    layer.set_brush(True)
    layer.set_brush_radius(20)
    app.processEvents()

    def handled(kind: QEvent.Type, where: QPoint, held: Qt.MouseButton) -> float:
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        event = QMouseEvent(kind, QPointF(where), QPointF(layer.mapToGlobal(where)), button, held,
                            Qt.KeyboardModifier.NoModifier)
        start = time.perf_counter()
        QApplication.sendEvent(layer, event)
        app.processEvents()
        return 1000 * (time.perf_counter() - start)

    print(f"{args.width}x{args.height} photo, view 1200x800, brush radius 20 px"
          + (", strokes across the photo" if args.spread else ""))
    rect = view.image_rect()
    for stroke in range(args.strokes):
        if args.spread:  # (in widget pixels: from one corner's part of the photo to another's)
            share = stroke / max(1, args.strokes - 1)
            left = rect.left() + 20 + (rect.width() - 200) * share
            top = rect.top() + 20 + (rect.height() - 60) * ((stroke * 3) % args.strokes) / max(1, args.strokes - 1)
            points = [QPoint(round(left + 2 * i), round(top + i % 5)) for i in range(args.moves + 1)]
        else:
            points = [QPoint(200 + 10 * i, 200 + 100 * stroke + i % 7) for i in range(args.moves + 1)]
        press = handled(QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton)
        moves = [handled(QEvent.Type.MouseMove, p, Qt.MouseButton.LeftButton) for p in points[1:]]
        release = handled(QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)
        print(f"stroke {stroke + 1}: press {press:.0f} ms, move median {statistics.median(moves):.0f} "
              f"longest {max(moves):.0f} ms, release {release:.0f} ms")
    start = time.perf_counter()
    editor.undo()
    app.processEvents()
    print(f"undo {1000 * (time.perf_counter() - start):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
