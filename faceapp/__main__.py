"""``python -m faceapp`` opens the desktop application."""

from faceapp.gui.app import main

raise SystemExit(main())
