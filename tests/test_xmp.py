"""A result's XMP packet: what faceapp adds (Dublin Core, its provenance) beside the photo's own."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from faceapp.core import xmp
from faceapp.core.export import export_photo, read_provenance
from faceapp.core.photo_io import read_photo

_PACKET = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:fa="urn:faceapp:xmp:1.0#">'
           b'<dc:format>image/jpeg</dc:format><fa:provenance>{"run": 1}</fa:provenance></rdf:Description>'
           b"</rdf:RDF></x:xmpmeta>")


def test_an_older_runs_provenance_is_replaced_where_a_tool_moved_or_requoted_it():
    """exiftool rewrites packets: single quotes, one description for several namespaces. The older
    run's provenance is taken out, what else that description states stays, and this run's is read."""
    again = xmp.with_provenance(_PACKET, '{"run": 2}')
    assert xmp.provenance_text(again) == '{"run": 2}' and again.count(b"provenance>") == 2  # one element
    assert b"<dc:format>image/jpeg</dc:format>" in again
    assert xmp.provenance_text(xmp.with_provenance(_PACKET, None)) is None
    requoted = xmp.with_provenance(None, '{"run": 1}').replace(b'"', b"'")
    assert xmp.provenance_text(xmp.with_provenance(requoted, '{"run": 2}')) == '{"run": 2}'
    assert b"Description" not in xmp.with_provenance(requoted, None)  # its one description was faceapp's


def test_a_control_character_in_a_caption_does_not_break_the_packet():
    merged = xmp.with_dublin_core(_PACKET, {"description": ["Anna\x0b & <Ben>"], "subject": ["a\x00b"]})
    assert b"Anna &amp; &lt;Ben&gt;" in merged and xmp.provenance_text(merged) == '{"run": 1}'  # still parses


def test_a_jpeg_result_keeps_the_photos_own_xmp_when_faceapps_additions_would_not_fit(tmp_path, caplog):
    """The photo's own note in its UserComment sends the provenance into the XMP; where that makes
    the packet too long for a JPEG segment, the photo's own packet is kept without it (it was all
    dropped), and the note stays."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0left is Anna"
    padding = b" " * (65_504 - len(_PACKET) - 200)
    big = _PACKET.replace(b"</x:xmpmeta>", padding + b"</x:xmpmeta>")
    Image.new("RGB", (40, 30), (120, 90, 60)).save(tmp_path / "scan.jpg", exif=exif.tobytes(), xmp=big)
    photo = read_photo(tmp_path / "scan.jpg")
    provenance = {"model": "m", "fidelity": 0.8, "faces": [], "source": {"name": "sc\udcffan.jpg"}}  # not UTF-8
    with caplog.at_level(logging.WARNING):
        dest = export_photo(np.asarray(photo.rgb), None, photo, tmp_path / "out.jpg", provenance=provenance)
    result = read_photo(dest)
    assert result.xmp is not None and b"image/jpeg" in result.xmp and "the photo's own is kept" in caplog.text
    with Image.open(dest) as out:
        assert out.getexif().get_ifd(0x8769)[0x9286] == b"ASCII\0\0\0left is Anna"
    small = export_photo(np.asarray(photo.rgb), None, photo, tmp_path / "out.png", provenance=provenance)
    assert read_provenance(small)["source"]["name"] == "sc\udcffan.jpg"  # a name that is not UTF-8 is written too
