"""The Qt desktop application: displays and dispatches; all restoration work runs in the core."""
