"""Training and evaluation of faceapp's own compact restorer and face prior.

Entry points: ``python -m faceapp.training`` (train, export, budget, pack) and
``python -m faceapp.training.evaluate``. Nothing here is imported by the app itself.
"""
