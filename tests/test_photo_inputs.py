"""The one rule both front-ends list folders by: photos, earlier results, hidden and other files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from faceapp.core.export import export_photo
from faceapp.core.photo_inputs import expand_paths, list_photos, not_opened_text, not_photos_text


def _photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), (90, 80, 70)).save(path)
    return path


def _album(root: Path) -> Path:
    """A folder as a user's album looks: photos, a faceapp result, macOS and thumbnail debris, others."""
    album = root / "album"
    _photo(album / "b.jpg")
    _photo(album / "a.PNG")
    _photo(album / "2019" / "c.webp")
    _photo(album / ".thumbnails" / "b.jpg")  # a hidden folder: not looked into
    (album / "._b.jpg").write_bytes(b"\0\5\26\7 AppleDouble")  # macOS resource fork: hidden
    (album / "clip.psd").write_bytes(b"not read by faceapp")
    (album / "notes.txt").write_text("who is who")
    (album / "gone.jpg").symlink_to(album / "nowhere.jpg")
    export_photo(np.zeros((32, 32, 3), np.uint8), None, None, album / "b_restored.jpg", provenance={"model": "x"})
    return album


def test_a_folder_is_sorted_into_photos_results_hidden_and_other_files(tmp_path):
    album = _album(tmp_path)
    listing = list_photos(album)
    assert listing.photos == (album / "a.PNG", album / "b.jpg")
    assert listing.earlier_results == (album / "b_restored.jpg",)
    assert listing.hidden == (album / "._b.jpg", album / ".thumbnails")
    assert listing.not_photos == (album / "clip.psd", album / "gone.jpg", album / "notes.txt")
    assert not_photos_text(listing.not_photos) == ".psd, .txt, 1 broken link"
    assert not listing.empty and listing.unreadable == ()


def test_photos_are_listed_in_the_order_a_file_manager_shows_them(tmp_path):
    """Locale QA: photos were listed by character code (capitals first, "foto10" before "foto2",
    accented letters after "z"); a file manager sorts by letter, whatever the case or accent, and
    numbers by their value. The filmstrip, Restore all and a CLI batch go in this order."""
    names = ["Zebra.jpg", "apfel.jpg", "cf_03.jpg", "foto10.jpg", "foto2.jpg", "Ärger.jpg", "éclair.jpg", "Foto1.jpg",
             "scan1.jpg", "scan.jpg", "Photo (2).jpg", "Photo.jpg", "ısparta.jpg", "İzmir.jpg", "Łukasz.jpg",
             "Ørsted.jpg"]
    for name in names:
        _photo(tmp_path / name)
    (tmp_path / "\u1369").write_text("a stray file named with a digit that is no decimal (Ethiopic one)")
    assert [p.name for p in list_photos(tmp_path).photos] == [
        "apfel.jpg", "Ärger.jpg", "cf_03.jpg", "éclair.jpg", "Foto1.jpg", "foto2.jpg", "foto10.jpg", "ısparta.jpg",
        "İzmir.jpg", "Łukasz.jpg", "Ørsted.jpg", "Photo.jpg", "Photo (2).jpg", "scan.jpg", "scan1.jpg",
        "Zebra.jpg"]  # (ı and İ among the i's, Ł among the l's, Ø among the o's)
    for year in ("2019", "1999", "Summer 2"):
        _photo(tmp_path / "deep" / year / "a.jpg")
    assert [str(p.relative_to(tmp_path / "deep")) for p in list_photos(tmp_path / "deep", recursive=True).photos] == [
        "1999/a.jpg", "2019/a.jpg", "Summer 2/a.jpg"]


def test_recursive_listing_skips_hidden_folders_and_gives_relative_paths(tmp_path):
    album = _album(tmp_path)
    listing = list_photos(album, recursive=True)
    assert [listing.relative(p) for p in listing.photos] == [Path("2019/c.webp"), Path("a.PNG"), Path("b.jpg")]
    assert album / ".thumbnails" in listing.hidden


def test_a_recursive_listing_leaves_out_recycle_bins_and_photo_libraries(tmp_path, monkeypatch):
    """Portability QA: ``restore ~/Pictures -r`` restored a Mac's Photos library (its originals and
    its thumbnails), writing results into it, and ``E:\\ -r`` a drive's recycle bin; a folder or file
    Windows marks hidden is left out as a dot-named one is."""
    import os
    import stat

    from faceapp.core import photo_inputs

    album = tmp_path / "Pictures"
    _photo(album / "2019" / "a.jpg")
    _photo(album / "$RECYCLE.BIN" / "S-1-5-21" / "$RXK2A1.jpg")
    _photo(album / "System Volume Information" / "x.jpg")
    _photo(album / "Photos Library.photoslibrary" / "originals" / "A" / "IMG_0001.jpeg")
    _photo(album / "marked" / "b.jpg")  # hidden by Windows' attribute (faked here)
    _photo(album / "Recycled" / "c.jpg")  # albums named so are albums (review: left out as a recycle bin)
    _photo(album / "Trip.bundle" / "d.jpg")
    listing = list_photos(album, recursive=True)
    assert [listing.relative(p) for p in listing.photos] == [Path("2019/a.jpg"), Path("marked/b.jpg"),
                                                             Path("Recycled/c.jpg"), Path("Trip.bundle/d.jpg")]
    assert {p.name for p in listing.hidden} == {"$RECYCLE.BIN", "System Volume Information", "Photos Library.photoslibrary"}
    real_stat = os.stat

    class Marked:  # os.stat as Windows gives it, the folder "marked" hidden
        def __init__(self, path, **options):
            self._real = real_stat(path, **options)
            self.st_file_attributes = stat.FILE_ATTRIBUTE_HIDDEN if Path(path).name == "marked" else 0

        def __getattr__(self, name):
            return getattr(self._real, name)

    monkeypatch.setattr(photo_inputs, "_FILE_ATTRIBUTES", True)
    monkeypatch.setattr(photo_inputs.os, "stat", Marked)
    listing = list_photos(album, recursive=True)
    assert album / "marked" in listing.hidden and Path("marked/b.jpg") not in map(listing.relative, listing.photos)


def test_a_tree_deeper_than_the_system_takes_lists_what_it_can(tmp_path):
    """Batch QA: an archive's folders nested past the system's longest path (4,096 bytes on Linux)
    stopped the listing with a traceback. What lies within reach is listed; the rest is unreadable."""
    import os

    album = tmp_path / "album"
    _photo(album / "top.jpg")
    deep = os.open(album, os.O_RDONLY)
    try:
        for level in range(20):  # (made from inside, a step at a time: the whole path is too long to name)
            name = f"{level:02d}" + "y" * 240
            os.mkdir(name, dir_fd=deep)
            inner = os.open(name, os.O_RDONLY, dir_fd=deep)
            os.close(deep)
            deep = inner
    finally:
        os.close(deep)
    for recursive in (True, False):
        listing = list_photos(album, recursive=recursive)
        assert listing.photos == (album / "top.jpg",)
    assert list_photos(album, recursive=True).unreadable  # said, not raised


def test_a_caller_can_tell_a_folder_without_photos(tmp_path):
    album = tmp_path / "empty"
    album.mkdir()
    (album / "clip.psd").write_bytes(b"x")
    listing = list_photos(album)
    assert listing.empty and listing.not_photos == (album / "clip.psd",)
    missing = list_photos(tmp_path / "nosuch")
    assert missing.empty and missing.unreadable == (tmp_path / "nosuch",)


def test_a_folder_without_photos_says_what_it_holds_instead(tmp_path):
    from faceapp.core.photo_inputs import no_photos_text

    album = tmp_path / "album"
    (album / "2019").mkdir(parents=True)
    (album / "notes.txt").write_text("x")
    listing = list_photos(album)
    assert listing.subfolders == (album / "2019",)
    assert list_photos(album, recursive=True).subfolders == ()  # looked into
    text = no_photos_text(listing)
    assert text.startswith("No photos to open in album") and "1 sub-folder" in text and ".txt" in text
    (tmp_path / "empty").mkdir()
    assert no_photos_text(list_photos(tmp_path / "empty")) == "No photos to open in empty: it is empty."


def test_the_recent_list_gets_what_was_asked_for_however_it_was_spelt(tmp_path, monkeypatch):
    """Review: a relative path (faceapp photo.jpg, faceapp .) was never found among the photos
    opened, and Open recent stayed empty; sceptic QA: nor was a photo or folder opened through a
    link, once photos opened so kept the link's name."""
    from faceapp.core.photo_inputs import opened_as, recent_entries

    album = tmp_path / "album"
    album.mkdir()
    photo = album / "a.jpg"
    photo.write_bytes(b"")
    (tmp_path / "link").symlink_to(album)
    monkeypatch.chdir(tmp_path)
    opened = [opened_as(photo)]
    assert recent_entries([Path("album/a.jpg")], opened) == [tmp_path / "album" / "a.jpg"]
    assert recent_entries([Path("album")], opened) == [tmp_path / "album"]
    linked = [opened_as(Path("link/a.jpg"))]  # (the photos a folder opened through a link gives)
    assert recent_entries([Path("link")], linked) == [tmp_path / "link"]
    assert recent_entries([Path("link/a.jpg")], linked) == [tmp_path / "link" / "a.jpg"]
    assert recent_entries([Path("elsewhere")], opened) == []
    # sceptic QA: a photo opened again spelt otherwise, on a disk that ignores case, was not moved up (here
    # a link and a hard link give the folder and the photo both spellings, as such a disk does)
    (tmp_path / "ALBUM").symlink_to(album)
    os.link(photo, album / "A.JPG")
    assert recent_entries([Path("ALBUM/A.JPG")], opened) == [tmp_path / "album" / "a.jpg"]
    assert recent_entries([Path("ALBUM")], opened) == [tmp_path / "album"]  # (as its photos name it: review)


def test_a_dropped_folder_gives_its_photos_by_the_clis_rule(tmp_path):
    """Hidden files (macOS's ``._x.jpg``) and faceapp's own earlier results are not loaded; a
    photo or result dropped on its own is."""
    Image.new("RGB", (32, 32)).save(tmp_path / "a.jpg")
    (tmp_path / "._a.jpg").write_bytes(b"\0\5\26\7 AppleDouble")
    (tmp_path / "notes.txt").write_text("who is who")
    export_photo(np.zeros((32, 32, 3), np.uint8), None, None, tmp_path / "a_restored.jpg", provenance={"model": "x"})
    assert expand_paths([tmp_path]) == ([tmp_path / "a.jpg"], [], [])
    assert expand_paths([tmp_path / "a_restored.jpg"]) == ([tmp_path / "a_restored.jpg"], [], [])
    (tmp_path / "a.jpg").unlink()
    photos, [listing], _ = expand_paths([tmp_path])  # a folder without photos comes back with what it holds
    assert photos == [] and listing.earlier_results == (tmp_path / "a_restored.jpg",)


def test_files_named_one_by_one_that_are_no_photos_are_left_out_and_listed(tmp_path):
    """A drop of a photo with its .xmp sidecar and a note opens the photo alone (QA: each other
    file became an error tile); a photo saved without a suffix is opened by its header, and a file
    that claims to be a photo is opened so that its load can say what is wrong with it."""
    Image.new("RGB", (32, 32)).save(tmp_path / "a.jpg")
    Image.new("RGB", (32, 32)).save(tmp_path / "scan", format="PNG")
    (tmp_path / "a.xmp").write_text("<x:xmpmeta/>")
    (tmp_path / "notes.txt").write_text("who is who")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "gone").symlink_to(tmp_path / "moved away")  # cannot be read at all: its load says why
    # a name longer than the system takes (the window's command line crashed on it: review)
    named = [tmp_path / n for n in ("a.jpg", "a.xmp", "notes.txt", "scan", "empty.jpg", "gone", "x" * 300 + ".jpg")]
    photos, empty, not_photos = expand_paths(named)
    assert photos == [tmp_path / n for n in ("a.jpg", "scan", "empty.jpg", "gone", "x" * 300 + ".jpg")] and empty == []
    assert not_photos == [tmp_path / "a.xmp", tmp_path / "notes.txt"]
    said = not_opened_text(not_photos)
    assert said.startswith("Not opened: 2 files (.txt, .xmp), not photos faceapp reads (") and ".jpg" in said
    assert not_opened_text(not_photos[1:]).startswith("Not opened: notes.txt, not a photo faceapp reads (")
