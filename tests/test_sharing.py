"""What a result shares of its photo's metadata: everything (the default), all but where it was
taken, or nothing personal (privacy QA: GPS, names and place names went into every result, with no
way to leave them out for sharing)."""

from __future__ import annotations

import struct
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image, IptcImagePlugin

from faceapp.core.export import export_photo, read_provenance
from faceapp.core.photo_io import read_photo
from faceapp.core.sharing import METADATA_KINDS, shared_photo

XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"
 xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
 xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
 exif:GPSLatitude="53,48.0N" exif:GPSLongitude="1,32.5W" photoshop:City="Leeds" Iptc4xmpCore:Location="12 Elm Street">
<photoshop:Country>England</photoshop:Country>
<exif:GPSAltitude>120/1</exif:GPSAltitude>
<Iptc4xmpExt:LocationCreated><rdf:Bag><rdf:li rdf:parseType="Resource"><Iptc4xmpExt:City>Leeds</Iptc4xmpExt:City>
</rdf:li></rdf:Bag></Iptc4xmpExt:LocationCreated>
<dc:creator><rdf:Seq><rdf:li>Ann Smith</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Grandma Rose at 80</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""

PROVENANCE = {"software": "faceapp test", "source": {"name": "Dr visit Emma Jones.jpg", "bytes": 1, "sha256": "ab"}}


def _iptc(number: int, text: str) -> bytes:
    data = text.encode("utf-8")
    return bytes([0x1C, 2, number]) + len(data).to_bytes(2, "big") + data


@pytest.fixture
def photo(tmp_path):
    """A JPEG with everything a family photo's file may say of where and who."""
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif[0x013B] = "Ann Smith"  # Artist
    exif[0x8298] = "(c) Ann Smith"  # Copyright
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (53.0, 48.0, 0.0), "W", (1.0, 32.0, 30.0)
    plain = tmp_path / "plain.jpg"
    Image.fromarray(np.full((30, 40, 3), 120, np.uint8)).save(plain, quality=92, exif=exif.tobytes(), xmp=XMP,
                                                               comment=b"Grandma's 80th, Leeds", dpi=(300, 300))
    record = _iptc(90, "Leeds") + _iptc(101, "England") + _iptc(92, "Elm Street") + _iptc(120, "Grandma Rose") \
        + _iptc(25, "family")
    body = b"Photoshop 3.0\0" + b"8BIM" + struct.pack(">HHI", 0x0404, 0, len(record)) + record + b"\0" * (len(record) % 2)
    jpeg = plain.read_bytes()
    path = tmp_path / "Grandma.jpg"
    path.write_bytes(jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(body) + 2) + body + jpeg[2:])
    return read_photo(path)


def _written(photo, kind, tmp_path):
    dest = export_photo(photo.rgb, None, shared_photo(photo, kind), tmp_path / f"{kind}.jpg",
                        provenance=PROVENANCE)
    with Image.open(dest) as image:
        exif, xmp = image.getexif(), image.info.get("xmp") or b""
        iptc = IptcImagePlugin.getiptcinfo(image) or {}
        comment, dpi = image.info.get("comment"), image.info.get("dpi")
    return exif, xmp, iptc, comment, dpi, read_provenance(dest)


def test_all_keeps_every_word_of_the_photo(photo, tmp_path):
    assert METADATA_KINDS == ("all", "no-location", "none")
    assert shared_photo(photo, "all") is photo
    exif, xmp, iptc, comment, _dpi, _made = _written(photo, "all", tmp_path)
    assert 0x8825 in exif and b"GPSLatitude" in xmp and iptc[(2, 90)] == b"Leeds" and comment


def test_no_location_leaves_out_where_it_was_taken_and_keeps_the_rest(photo, tmp_path):
    exif, xmp, iptc, comment, dpi, made = _written(photo, "no-location", tmp_path)
    assert 0x8825 not in exif or not exif.get_ifd(0x8825)  # no GPS
    for said in (b"GPS", b"Leeds", b"England", b"Elm Street", b"LocationCreated"):
        assert said not in xmp, said
    assert not {key for key in iptc if key[1] in (90, 92, 95, 100, 101, 26, 27)}
    # who, what, the camera and the rights stay
    assert exif[0x013B] == "Ann Smith" and exif[0x8298] == "(c) Ann Smith" and exif[0x010F] == "Camera Maker"
    assert b"Ann Smith" in xmp and b"Grandma Rose at 80" in xmp and iptc[(2, 120)] == b"Grandma Rose"
    ElementTree.fromstring(xmp[xmp.index(b"<x:xmpmeta"):xmp.index(b"</x:xmpmeta>") + 12])  # still well formed
    assert made["source"]["name"] == "Dr visit Emma Jones.jpg" and round(dpi[0]) == 300


def test_none_leaves_out_every_word_of_the_photo_and_its_name(photo, tmp_path):
    exif, xmp, iptc, comment, dpi, made = _written(photo, "none", tmp_path)
    kept = {tag: exif[tag] for tag in exif}
    assert 0x8825 not in kept and 0x013B not in kept and 0x8298 not in kept and 0x010F not in kept
    for said in (b"GPS", b"Leeds", b"Ann Smith", b"Grandma"):
        assert said not in xmp, said
    assert not iptc and not comment
    assert round(dpi[0]) == 300  # what shows its pixels at their size stays
    assert made["software"] == "faceapp test"


def test_none_leaves_out_a_pngs_own_text(tmp_path):
    """Mutation audit: no test held that a PNG's text chunks (Author, Description) are words of the
    photo's that "none" leaves out, as it does a JPEG's."""
    from PIL import PngImagePlugin

    said = PngImagePlugin.PngInfo()
    said.add_text("Author", "Ann Smith")
    said.add_itxt("Description", "Grandma Rose, 12 Elm Street, Leeds")
    path = tmp_path / "Grandma.png"
    Image.fromarray(np.full((30, 40, 3), 120, np.uint8)).save(path, pnginfo=said)
    photo = read_photo(path)
    for kind in ("all", "none"):
        dest = export_photo(photo.rgb, None, shared_photo(photo, kind), tmp_path / f"{kind}.png", provenance=PROVENANCE)
        with Image.open(dest) as image:
            text = {key: value for key, value in image.text.items() if key != "faceapp"}
        assert text == ({"Author": "Ann Smith", "Description": "Grandma Rose, 12 Elm Street, Leeds"} if kind == "all"
                        else {}), kind
        assert read_provenance(dest)["software"] == "faceapp test"


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_no_location_keeps_a_cameras_maker_note_readable(tmp_path, order):
    """Review: leaving the GPS out wrote the EXIF anew without moving the maker note's offsets, and
    the camera's note read garbage in the result."""
    from test_maker_notes import MODEL, _exif_with_note, _model_in

    from faceapp.core.maker_notes import keep_maker_note

    block = _exif_with_note(order, relative=False, footer=True, room=200)
    exif = Image.Exif()
    exif.load(block)
    exif.get_ifd(0x8825)[1] = "N"  # a GPS position beside the note
    with_gps = keep_maker_note(block, exif.tobytes())
    assert _model_in(with_gps, order) == MODEL
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(tmp_path / "dsc.jpg", exif=bytes(with_gps))
    photo = read_photo(tmp_path / "dsc.jpg")
    with Image.open(export_photo(photo.rgb, None, shared_photo(photo, "no-location"), tmp_path / "out.jpg",
                                 provenance=PROVENANCE)) as out:
        written = out.info["exif"]
        assert 0x8825 not in out.getexif() or not out.getexif().get_ifd(0x8825)
    assert _model_in(written, order) == MODEL
