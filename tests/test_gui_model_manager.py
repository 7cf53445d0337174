"""The model manager lists models with state and licence and reports import errors non-modally."""

from __future__ import annotations

import gui_util

from faceapp.core.registry import Registry
from faceapp.gui.model_manager import ModelManagerDialog


def test_lists_models_with_state_and_licence_and_reports_a_bad_import(qtbot, tmp_path):
    name = gui_util.install_tiny_model()
    dialog = ModelManagerDialog(Registry())
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).data(0x0100): [dialog.table.item(r, c).text() for c in range(3)]
            for r in range(dialog.table.rowCount())}
    assert rows[name][1].lower() == "installed" and rows[name][2] == "MIT"
    assert rows["difface-official"][1].lower() == "missing"
    assert "non-commercial" in rows["difface-official"][2].lower()

    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    dialog.import_file("difface-official", junk)
    assert [n.level for n in dialog.notices.notices()] == ["error"]
    assert dialog.notices.notices()[0].action == "models"
    dialog.reject()  # stops the download thread
