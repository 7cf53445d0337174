"""Telling a damage mask from a photo when ``--mask`` names a folder of photos and masks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from faceapp.core.mask_files import colour_mask_warning, looks_like_mask, match_mask, separate_masks


def _mask(path, *, size=(300, 200), mode="L"):
    mask = np.zeros(size[::-1], np.uint8)
    mask[50:53, 20:280] = 255  # a thin scratch
    mask[120:180, 100:140] = 255  # a stain
    Image.fromarray(mask).convert(mode).save(path, **({"quality": 90} if path.suffix == ".jpg" else {}))
    return path


def _photo(path, *, grey=False):
    y, x = np.mgrid[0:200, 0:300]
    rgb = np.stack([x * 255 // 300, y * 255 // 200, (x + y) * 255 // 500], axis=2).astype(np.uint8)
    image = Image.fromarray(rgb)
    image = image.convert("L") if grey else image
    image.save(path, **({"quality": 90} if path.suffix == ".jpg" else {}))
    return path


def test_black_and_white_masks_look_like_masks_and_photos_do_not(tmp_path):
    assert looks_like_mask(_mask(tmp_path / "a.png"))
    assert looks_like_mask(_mask(tmp_path / "b.jpg", mode="RGB"))  # JPEG ringing allowed for
    assert looks_like_mask(_mask(tmp_path / "c.png", size=(3000, 2000)))  # thin strokes survive the reduction
    assert not looks_like_mask(_photo(tmp_path / "d.jpg"))
    assert not looks_like_mask(_photo(tmp_path / "e.png", grey=True))  # a black-and-white photo has mid greys
    (tmp_path / "f.png").write_bytes(b"not an image")
    assert not looks_like_mask(tmp_path / "f.png")
    ramp = (np.mgrid[0:200, 0:300][1] * 218).astype(np.uint16)  # a 16-bit grey scan: judged in its own range
    Image.fromarray(ramp).save(tmp_path / "scan.png")
    assert Image.open(tmp_path / "scan.png").mode.startswith("I") and not looks_like_mask(tmp_path / "scan.png")


def test_red_strokes_and_soft_edges_are_a_mask_and_only_a_photo_is_warned_of(tmp_path):
    """QA: red strokes on black, and a mask blurred at its edges, were both asked "is it a photo?"."""
    import cv2

    grey = np.asarray(Image.open(_mask(tmp_path / "white.png")))
    red = np.zeros((*grey.shape, 3), np.uint8)
    red[..., 0] = grey
    Image.fromarray(red).save(tmp_path / "red.png")
    assert looks_like_mask(tmp_path / "red.png") and colour_mask_warning(tmp_path / "red.png") is None
    Image.fromarray(cv2.GaussianBlur(grey, (0, 0), 2.0)).save(tmp_path / "soft.png")
    assert not looks_like_mask(tmp_path / "soft.png")  # (too grey to be told from a photo beside it)
    assert colour_mask_warning(tmp_path / "soft.png") is None
    assert "is it a photo?" in colour_mask_warning(_photo(tmp_path / "photo.jpg"))
    assert "is it a photo?" in colour_mask_warning(_photo(tmp_path / "grey.png", grey=True))


def test_judging_a_large_image_prints_no_warning_of_pillows(tmp_path, monkeypatch):
    """Security QA: a 110 MP photo without a face, judged for "it looks like a damage mask", printed
    Pillow's raw DecompressionBombWarning (faceapp's own limit is said in its words)."""
    import warnings

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300 * 200 * 2 // 3)  # (the mask is over it, not over twice it)
    path = _mask(tmp_path / "large.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert looks_like_mask(path)


def test_a_layer_saved_from_an_editor_is_judged_by_what_it_shows_not_the_colour_under_its_transparency(tmp_path):
    """A mask exported from an editor's layer: white strokes, the rest transparent, over whatever
    colour the pixels kept there (mutation audit: nothing held that the transparency counts)."""
    photo = np.asarray(Image.open(_photo(tmp_path / "under.png")))
    strokes = np.asarray(Image.open(_mask(tmp_path / "strokes.png"))) > 0
    layer = np.dstack([np.where(strokes[..., None], 255, photo), np.where(strokes, 255, 0)]).astype(np.uint8)
    Image.fromarray(layer, "RGBA").save(tmp_path / "layer.png")
    assert looks_like_mask(tmp_path / "layer.png") and colour_mask_warning(tmp_path / "layer.png") is None


def test_the_file_that_looks_like_a_mask_is_the_mask_whichever_suffix_it_has(tmp_path):
    photo = _photo(tmp_path / "old.png")
    mask = _mask(tmp_path / "old.jpg", mode="RGB")
    assert match_mask(tmp_path, photo).mask == mask
    assert match_mask(tmp_path, mask).mask is None
    inputs = [(photo, photo.relative_to(tmp_path)), (mask, mask.relative_to(tmp_path))]
    sorted_out = separate_masks(inputs, tmp_path)
    assert sorted_out.photos == inputs[:1] and sorted_out.masks == 1 and not sorted_out.unclear


def test_a_mask_named_with_mask_wins_and_a_mask_folder_of_its_own_needs_no_judging(tmp_path):
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir(), masks.mkdir()
    photo = _photo(photos / "old.jpg")
    _photo(photos / "old.png")  # the same photo in another format
    named = _mask(photos / "old_mask.png")
    assert match_mask(photos, photo).mask == named
    elsewhere = _photo(masks / "old.png")  # in a folder of its own, the name decides
    assert match_mask(masks, photo).mask == elsewhere


def test_a_mask_is_found_whichever_unicode_form_its_name_is_in(tmp_path):
    """Unicode QA: the photo's name decomposed ("e" + accent, as a Mac writes it), its mask's
    composed: "holds no damage mask", and the mask was restored as a photo."""
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir(), masks.mkdir()
    photo = _photo(photos / "Zoe\u0308.jpg")
    mask = _mask(masks / "Zo\u00eb_mask.png")
    assert match_mask(masks, photo).mask == mask

def test_two_photos_or_two_masks_of_one_name_are_left_unclear(tmp_path):
    jpg, png = _photo(tmp_path / "old.jpg"), _photo(tmp_path / "old.png")
    inputs = [(jpg, jpg.relative_to(tmp_path)), (png, png.relative_to(tmp_path))]
    sorted_out = separate_masks(inputs, tmp_path)
    assert sorted_out.photos == inputs and sorted_out.masks == 0
    assert sorted_out.unclear == [(jpg, png)]  # once per pair
    (tmp_path / "sub").mkdir()
    spelt_otherwise = tmp_path / "sub" / ".." / "old.png"  # the mask folder named another way than the photos'
    assert len(separate_masks([(jpg, jpg.relative_to(tmp_path)), (spelt_otherwise, Path("old.png"))],
                              tmp_path / "sub" / "..").unclear) == 1


def test_a_saved_mask_never_replaces_its_photo_and_is_left_out_of_the_photos(tmp_path):
    """Review: saving a PNG photo's mask under the photo's own name replaced the photo with black;
    a saved mask came back as a photo (without a face) when its folder was opened again."""
    import pytest

    from faceapp.core.errors import ExportError
    from faceapp.core.mask_files import mask_file_for, write_mask
    from faceapp.core.photo_inputs import list_photos

    photo = _photo(tmp_path / "scan.png")
    before = photo.read_bytes()
    mask = np.zeros((200, 300), np.uint8)
    mask[10:20, 10:50] = 255
    with pytest.raises(ExportError, match="never replaces it"):
        write_mask(mask, photo, photo=photo, overwrite=True)
    assert photo.read_bytes() == before
    from faceapp.core.export import export_photo

    result = export_photo(np.zeros((200, 300, 3), np.uint8), None, None, tmp_path / "scan_restored.png",
                          provenance={"software": "faceapp"})
    with pytest.raises(ExportError, match="not a damage mask faceapp saved"):  # faceapp's own, but no mask (review)
        write_mask(mask, result, photo=photo, overwrite=True)
    written = write_mask(mask, mask_file_for(photo), photo=photo)
    assert written == tmp_path / "scan_mask.png" and looks_like_mask(written)
    assert list_photos(tmp_path).photos == (photo,) and written in list_photos(tmp_path).earlier_results
    assert write_mask(mask, written, photo=photo, overwrite=True) == written  # its own mask: replaced


def test_a_mask_whose_suffix_is_in_capitals_is_found(tmp_path):
    """Batch QA: land1.PNG in the mask folder (a camera's or Windows' spelling) was not found: the
    photo was left unrepaired, "no face found", without a word about the mask."""
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir(), masks.mkdir()
    photo = _photo(photos / "land1.png")
    mask = _mask(masks / "land1.PNG")
    assert match_mask(masks, photo).mask == mask
    named = _mask(photos / "old_mask.JPG")
    assert match_mask(photos, _photo(photos / "old.jpg")).mask == named


def test_a_mask_whose_suffix_is_in_mixed_case_is_found_and_its_folder_read_again_when_it_changes(tmp_path):
    """Review: land1.Png (neither all small nor all capitals) was not found; a mask added to the
    folder during a batch is found (the folder's listing is read again when it changes)."""
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir(), masks.mkdir()
    photo, other = _photo(photos / "land1.jpg"), _photo(photos / "land2.jpg")
    mask = _mask(masks / "land1.Png")
    dated = os.stat(masks).st_mtime_ns - 60_000_000_000  # (a folder changed a minute ago: its listing is kept)
    os.utime(masks, ns=(dated, dated))
    assert match_mask(masks, photo).mask == mask
    assert match_mask(masks, other).mask is None
    added = _mask(masks / "land2_mask.Tif")
    os.utime(masks, ns=(dated, dated))  # its date as it was: the listing read once is used (a batch lists it once)…
    assert match_mask(masks, other).mask is None
    os.utime(masks, ns=(dated + 1_000_000_000, dated + 1_000_000_000))  # …until the folder's date moves on
    assert match_mask(masks, other).mask == added
    assert separate_masks([(photos / "land1.jpg", Path("land1.jpg")), (other, Path("land2.jpg"))], masks).without_mask == []
    _mask(masks / "land1.jpg", mode="RGB")  # a PNG comes first, whatever the case of its suffix (review)
    assert match_mask(masks, photo).mask == mask


def test_a_photo_beside_a_heic_or_jfif_photo_of_its_name_is_not_its_mask(tmp_path):
    """Review: IMG_1234.HEIC beside IMG_1234.JPG (a phone's copy) offered the JPEG as the HEIC's
    damage mask, unjudged; a mask of its name beside it is still found."""
    photo = tmp_path / "family.jfif"
    _photo(tmp_path / "family.jpg").rename(photo)
    _photo(tmp_path / "family.jpg")  # the colour copy
    assert match_mask(tmp_path, photo).mask is None
    (tmp_path / "family.jpg").unlink()
    mask = _mask(tmp_path / "family.png")
    assert match_mask(tmp_path, photo).mask == mask
