"""``faceapp-cli models list|download|import|verify|delete``: manage model weight files.

``faceapp.cli`` mounts this with :func:`add_models_parser` and :func:`run_models_command`;
``python -m faceapp.cli_models`` runs it alone. Exit codes: 0 ok, 1 failure, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faceapp import paths
from faceapp.cli_json import print_json
from faceapp.core.errors import FaceappError, ModelError, ModelNotFoundError
from faceapp.core.registry import INSTALLED, MISSING, UNVERIFIED, ModelStatus, Registry

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def add_models_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``models`` command (with its sub-commands) to an argparse sub-parser set."""
    parser = subparsers.add_parser(
        "models",
        help="list, download, import, verify or delete models",
        description="Manage the models faceapp restores faces with and their weight files.",
    )
    parser.set_defaults(models_usage=parser.format_usage)
    sub = parser.add_subparsers(dest="models_command", metavar="COMMAND")
    listing = sub.add_parser("list", help="show every model, whether it is installed, its licence")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    get = sub.add_parser("download", help="download a model's weight files (resumes)")
    get.add_argument("name", help="model name, as shown by 'models list'")
    imp = sub.add_parser("import", help="install weight files you already have")
    imp.add_argument("name", help="model name, as shown by 'models list'")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE", help="weight file(s)")
    imp.add_argument("--as", dest="as_file", metavar="FILENAME",
                     help="which file of the model FILE is (default: found by name or content)")
    check = sub.add_parser("verify", help="check that a model's files are complete and intact")
    check.add_argument("name", nargs="?", help="model name (default: every installed model, the model manifests "
                                               "and the face detector)")
    delete = sub.add_parser("delete", help="remove a model's downloaded or imported files")
    delete.add_argument("name", help="model name, as shown by 'models list'")
    return parser


def run_models_command(args: argparse.Namespace, *, registry: Registry | None = None) -> int:
    """Run the parsed ``models`` sub-command; return the exit code."""
    command = getattr(args, "models_command", None)
    if command is None:
        usage = getattr(args, "models_usage", lambda: "usage: faceapp-cli models COMMAND\n")
        sys.stderr.write(usage())
        print("error: name a command: list, download, import, verify or delete", file=sys.stderr)
        return EXIT_USAGE
    try:
        registry = registry or Registry()
        return _COMMANDS[command](registry, args)
    except FaceappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        unknown = isinstance(exc, ModelNotFoundError) and getattr(args, "name", None) and registry is not None \
            and args.name not in {m.name for m in registry.list()}
        return EXIT_USAGE if unknown else EXIT_FAILURE  # a name no manifest has: a usage error, as for restore --model
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM/SIGHUP (faceapp.core.termination)
        print(f"\nInterrupted. {_AFTER_INTERRUPT.get(command, '')}".rstrip(), file=sys.stderr)
        return EXIT_INTERRUPTED


def _list(registry: Registry, args) -> int:
    # (a manifest skipped is said once, as the registry logs it: a note on stderr)
    statuses = [registry.status(m.name) for m in registry.list()]
    try:
        default = registry.default().name if statuses else None
    except ModelError:  # the default model's manifest cannot be read (said in a note): none marked
        default = None
    if args.json:
        print_json([_as_json(s, s.manifest.name == default) for s in statuses])
        return EXIT_OK
    if not statuses:
        print("No models found.")
        return EXIT_OK
    rows = [("NAME", "STATE", "SIZE", "FIDELITY/STEPS", "LICENCE")]
    for status in statuses:
        manifest = status.manifest
        mark = " *" if manifest.name == default else ""
        rows.append((manifest.name + mark, status.state, status.size_text(),
                     f"{manifest.default_fidelity:g} / {manifest.default_steps}", manifest.licence or "unknown"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])
    print("\n* default model. FIDELITY/STEPS: what a restore uses unless --fidelity or --steps is given.")
    bundled = any(entry.bundled for status in statuses for entry in status.files)
    if bundled:
        print(f"Weight files beside a model's manifest are used from there (the app's own in {paths.bundled_models_dir()}); "
              f"downloaded and imported ones live in {registry.weights_dir}")
    else:
        print(f"Weight files live in {registry.weights_dir}")
    # (ML QA: the folder for a model of one's own was named only by an error message)
    print(f"Your own models' manifests go in {paths.user_manifests_dir()}")
    if any(s.state == UNVERIFIED for s in statuses):
        print(f"{UNVERIFIED}: some files were placed there by hand and are not checked yet; "
              "'faceapp-cli models verify NAME' checks them (loading the model does too).")
    return EXIT_OK


def _download(registry: Registry, args) -> int:
    from tqdm import tqdm

    manifest = registry.get(args.name)
    if registry.is_installed(args.name):
        print(f"The model '{args.name}' is already installed.")
        return EXIT_OK
    if manifest.licence:
        print(f"Licence of '{args.name}': {manifest.licence}", file=sys.stderr)
    bar: tqdm | None = None
    label = ""

    def start(name: str, index: int, count: int) -> None:
        nonlocal bar, label
        if bar is not None:
            bar.close()
        bar, label = None, f"{name} ({index}/{count})"

    def progress(done: int, total: int | None) -> None:
        # the bar appears once the transfer reports: a download that fails at once (offline) prints
        # its error alone, not an empty bar twice before it (QA)
        nonlocal bar
        if bar is None:
            bar = tqdm(desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if total is not None and done >= total:
            bar.close()  # the check that follows is not part of the transfer

    try:
        registry.download(args.name, progress=progress, on_file=start)
    finally:
        if bar is not None:
            bar.close()
    print(f"The model '{args.name}' is installed in {registry.weights_dir}.")
    return EXIT_OK


def _import(registry: Registry, args) -> int:
    if args.as_file and len(args.files) > 1:
        print("error: --as names one file of the model: import one FILE at a time with it.", file=sys.stderr)
        return EXIT_USAGE
    for source in args.files:
        dest = registry.import_file(args.name, source, as_file=args.as_file)
        print(f"Imported {source} as {dest}.")
    status = registry.status(args.name)
    if status.installed:
        print(f"The model '{args.name}' is installed.")
    else:
        missing = ", ".join(f.file.name for f in status.files if f.state not in (INSTALLED, UNVERIFIED))
        print(f"The model '{args.name}' still needs: {missing}.")
    return EXIT_OK


def _verify(registry: Registry, args) -> int:
    """Check one model, or every model with files on disk (installed, damaged or partly there):
    each is reported, and a bad one fails the command without stopping the others' checks."""
    if args.name:
        names = [args.name]
    else:
        names = [m.name for m in registry.list() if any(f.state != MISSING for f in registry.status(m.name).files)]
    if not names and not args.name and not registry.unreadable:
        print("No model is installed.")  # (the face detector is still checked: review)
    failed = []
    for name in names:
        try:
            checked = registry.verify(name)
        except FaceappError as exc:
            for file in getattr(exc, "checked", []):  # the files there and sound, before what is missing
                print(f"{name}: {file.name}: OK ({_METHODS[file.method]})")
            if args.name:
                raise
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        for file in checked:
            print(f"{name}: {file.name}: OK ({_METHODS[file.method]})")
    checks = len(names)
    if not args.name:  # the manifests that could not be read, and the detector, fail it too (fault QA: exit 0)
        for path in registry.unreadable:
            print(f"{path.stem}: FAILED: its manifest {path} cannot be read (the note above says why)", file=sys.stderr)
            failed.append(path.stem)
        checks += len(registry.unreadable) + 1
        if (detector := _verify_detector()) is not None:
            failed.append(detector)
    if failed:
        print(f"error: {len(failed)} of {checks} checks failed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _verify_detector() -> str | None:
    """Check the face detector a restore would use (the user's file, else the bundled copy): says
    how, and returns None; or says why not and returns its name (fault QA: a damaged detector was
    never checked, and found no face in any photo)."""
    from faceapp.core.errors import DetectorUnavailableError
    from faceapp.core.faces import DEFAULT_DETECTOR, FaceDetector

    name = f"detector {DEFAULT_DETECTOR}"
    try:
        detector = FaceDetector(model=DEFAULT_DETECTOR)
    except DetectorUnavailableError as exc:
        print(f"{name}: FAILED: {exc}", file=sys.stderr)
        return name
    print(f"{name}: {detector.weights.name}: OK ({detector.checked})")
    return None


def _delete(registry: Registry, args) -> int:
    result = registry.delete(args.name)
    for path in result.deleted:
        print(f"Deleted {path}")
    for path, why in result.kept:
        print(f"Kept {path}: {why}")
    if not result.deleted:
        print(f"No downloaded or imported files of '{args.name}' to delete.")
    manifest = registry.get(args.name).source
    if manifest.parent != paths.bundled_models_dir():  # (ML QA: deleted, and still listed, without a word why)
        print(f"Its manifest {manifest} stays, so it is still listed: remove that file to take the model off the list.")
    return EXIT_OK


#: What an interrupted command left, and what running it again does.
_AFTER_INTERRUPT = {
    "download": "What arrived is kept: run the same command again to resume.",
    "import": "The file being copied was not imported; an import starts over: run the same command again.",
}
_COMMANDS = {"list": _list, "download": _download, "import": _import, "verify": _verify,
             "delete": _delete}
_METHODS = {"sha256": "checksum matches", "structure": "loads safely, keys and shapes match, numbers finite",
            "sha256 and structure": "checksum matches; loads safely, keys and shapes match, numbers finite",
            "size": "size matches", "present": "present; nothing to check it against"}




def _as_json(status: ModelStatus, is_default: bool) -> dict:
    manifest = status.manifest
    return {
        "name": manifest.name,
        "title": manifest.title,
        "state": status.state,
        "default": is_default,
        "licence": manifest.licence,
        "default_fidelity": manifest.default_fidelity,
        "default_steps": manifest.default_steps,
        "sharp_faces": ({"untouched_below": manifest.sharp_faces.untouched_below,
                         "full_above": manifest.sharp_faces.full_above} if manifest.sharp_faces else None),
        "fidelity_range": ({"works_down_to": manifest.fidelity_range.works_down_to,
                            "below": manifest.fidelity_range.below} if manifest.fidelity_range else None),
        "restorer_tones": {"sigma": manifest.restorer_tones} if manifest.restorer_tones is not None else None,
        "homepage": manifest.homepage,
        "description": manifest.description,
        "size_on_disk": status.size_on_disk,
        "manifest": str(manifest.source),
        "files": [
            {"name": f.file.name, "state": f.state, "path": str(f.path), "size": f.size,
             "expected_size": f.file.size or None, "sha256": f.file.sha256 or None,
             "url": f.file.url or None, "bundled": f.bundled}
            for f in status.files
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Run ``models …`` on its own (``python -m faceapp.cli_models list``)."""
    parser = argparse.ArgumentParser(prog="faceapp-cli")
    add_models_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(["models", *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    return run_models_command(args)


if __name__ == "__main__":
    sys.exit(main())
