"""A result's XMP packet: what faceapp adds (Dublin Core, its provenance) beside the photo's own."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
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


_ELEMENTS = b"""<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about='' xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'
  xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#' xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'>
  <mwg-rs:Regions rdf:parseType='Resource'>
   <mwg-rs:AppliedToDimensions rdf:parseType='Resource'><stDim:h>400</stDim:h><stDim:unit>pixel</stDim:unit>
    <stDim:w>225</stDim:w></mwg-rs:AppliedToDimensions>
   <mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType='Resource'>
    <mwg-rs:Area rdf:parseType='Resource'><stArea:h>0.22</stArea:h><stArea:unit>normalized</stArea:unit>
     <stArea:w>0.45</stArea:w><stArea:x>0.35</stArea:x><stArea:y>0.60</stArea:y></mwg-rs:Area>
    <mwg-rs:Name>Anna</mwg-rs:Name></rdf:li></rdf:Bag></mwg-rs:RegionList>
  </mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>"""
_ATTRIBUTES = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
               b'<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
               b'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
               b'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"><mwg-rs:Regions rdf:parseType="Resource">'
               b'<mwg-rs:AppliedToDimensions stDim:w="225" stDim:h="400" stDim:unit="pixel"/><mwg-rs:RegionList>'
               b'<rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Anna"><mwg-rs:Area stArea:x="0.35" stArea:y="0.6" '
               b'stArea:w="0.45" stArea:h="0.22" stArea:unit="normalized"/></rdf:Description></rdf:li></rdf:Bag>'
               b'</mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>')


def _regions(xmp: bytes) -> tuple[dict[str, float], list[dict[str, float]]]:
    """(the AppliedToDimensions' w and h, each Area's x, y, w, h), read with an XML parser."""

    dim, area = "{http://ns.adobe.com/xap/1.0/sType/Dimensions#}", "{http://ns.adobe.com/xmp/sType/Area#}"
    root = ElementTree.fromstring(xmp)

    def fields(node, namespace):
        values = {k[len(namespace):]: v for k, v in node.attrib.items() if k.startswith(namespace)}
        values.update({child.tag[len(namespace):]: child.text for child in node if child.tag.startswith(namespace)})
        return {k: float(v) for k, v in values.items() if k != "unit"}

    mwg = "{http://www.metadataworkinggroup.com/schemas/regions/}"
    return (fields(next(root.iter(mwg + "AppliedToDimensions")), dim),
            [fields(node, area) for node in root.iter(mwg + "Area")])


@pytest.mark.parametrize("packet", [_ELEMENTS, _ATTRIBUTES], ids=["elements", "attributes"])
def test_face_regions_stated_on_a_turned_pictures_stored_pixels_are_turned_with_it(packet):
    """A face tag (MWG region) stated on the 225x400 pixels as stored, the picture turned a quarter
    clockwise (EXIF 6) to 400x225: the tag sat across another part of the picture once the photo
    was turned (QA). A region stated on the upright picture already is left as it is."""
    dimensions, [area] = _regions(xmp.upright_regions(packet, 6, (225, 400)))
    assert dimensions == {"w": 400, "h": 225}
    assert area == pytest.approx({"x": 0.4, "y": 0.35, "w": 0.22, "h": 0.45})
    _, [area] = _regions(xmp.upright_regions(packet, 8, (225, 400)))
    assert area == pytest.approx({"x": 0.6, "y": 0.65, "w": 0.22, "h": 0.45})
    assert xmp.upright_regions(packet, 6, (400, 225)) == packet  # stated on the upright picture
    assert xmp.upright_regions(packet, 3, (225, 400)) == packet  # a half turn does not tell
    dimensions, [area] = _regions(xmp.result_packet(packet, (450, 800), None))  # enlarged 2x: the pixels say so
    assert dimensions == {"w": 450, "h": 800} and area["x"] == pytest.approx(0.35)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_a_turned_photos_face_regions_come_out_turned_in_its_result(tmp_path, suffix):
    """Photo-archivist QA: a TIFF's region came out turned the wrong way, Pillow giving a turned
    TIFF's size as upright already, where a JPEG's is the stored one."""
    exif = Image.Exif()
    exif[0x0112] = 6
    if suffix == ".tif":
        exif[700] = _ELEMENTS  # (a TIFF's XMP is its tag 700)
    Image.new("RGB", (225, 400), (90, 80, 70)).save(tmp_path / f"dsc{suffix}", exif=exif.tobytes(), xmp=_ELEMENTS)
    photo = read_photo(tmp_path / f"dsc{suffix}")
    assert (photo.width, photo.height) == (400, 225)
    written = read_photo(export_photo(photo.rgb, None, photo, tmp_path / "out.jpg"))
    dimensions, [area] = _regions(written.xmp.split(b"?>", 1)[-1].rsplit(b"<?xpacket", 1)[0])
    assert dimensions == {"w": 400, "h": 225} and area["x"] == pytest.approx(0.4)


def test_a_result_drops_the_extended_xmp_pointer_and_a_cmyk_photos_stale_colour_mode():
    """A result carries no extended XMP, so its pointer would dangle; a CMYK scan's result is RGB
    without that CMYK profile (QA: Photoshop's ColorMode=CMYK and the SWOP profile's name stayed)."""
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
              b'xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="4E7B69DB" '
              b'photoshop:ICCProfile="U.S. Web Coated (SWOP) v2"><photoshop:ColorMode>4</photoshop:ColorMode>'
              b'<xmpNote:HasExtendedXMP>4E7B69DB</xmpNote:HasExtendedXMP>'
              b'<photoshop:ICCProfile>U.S. Web Coated (SWOP) v2</photoshop:ICCProfile>'
              b'<photoshop:Headline>Rose</photoshop:Headline></rdf:Description></rdf:RDF></x:xmpmeta>')
    rgb = xmp.result_packet(packet, (40, 30), None, converted_from_cmyk=True)
    assert b"HasExtendedXMP" not in rgb and b"ICCProfile" not in rgb and b"SWOP" not in rgb
    assert b"<photoshop:ColorMode>3</photoshop:ColorMode>" in rgb and b"<photoshop:Headline>Rose<" in rgb

    ElementTree.fromstring(rgb)  # still well-formed
    kept = xmp.result_packet(packet, (40, 30), None)
    assert b"HasExtendedXMP" not in kept and kept.count(b"SWOP") == 2 and b">4</photoshop:ColorMode>" in kept


def test_a_result_is_a_new_document_derived_from_its_photo(tmp_path):
    """A result carried its photo's document and instance ids and dates, so an asset manager took
    it for the same file (QA): it gets ids of its own, names the photo's as what it derives from,
    and its modification dates (XMP and EXIF) are when it was written; the photo's own dates stay."""
    import re

    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
              b'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#" '
              b'xmp:ModifyDate="2019-03-01T10:00:00+01:00" xmp:CreateDate="1972-06-15T14:30:00" '
              b'xmpMM:DocumentID="xmp.did:1111" xmpMM:InstanceID="xmp.iid:2222">'
              b'<xmpMM:DerivedFrom rdf:parseType="Resource"><stRef:instanceID>xmp.iid:0</stRef:instanceID>'
              b'</xmpMM:DerivedFrom><xmpMM:Pantry><rdf:Bag><rdf:li><rdf:Description xmpMM:InstanceID="xmp.iid:P1" '
              b'xmp:ModifyDate="2018-01-01T00:00:00"><xmpMM:DerivedFrom rdf:parseType="Resource"><stRef:instanceID>'
              b'xmp.iid:P0</stRef:instanceID></xmpMM:DerivedFrom></rdf:Description></rdf:li></rdf:Bag></xmpMM:Pantry>'
              b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    exif = Image.Exif()
    exif.update({0x0132: "2019:03:01 10:00:00"})
    exif.get_ifd(0x8769).update({0x9003: "1972:06:15 14:30:00", 0x9290: "42", 0x9291: "17"})  # (and fractions)
    Image.new("RGB", (40, 30), (90, 80, 70)).save(tmp_path / "scan.jpg", exif=exif.tobytes(), xmp=packet)
    photo = read_photo(tmp_path / "scan.jpg")
    with Image.open(export_photo(photo.rgb, None, photo, tmp_path / "out.jpg", provenance={"software": "faceapp"})) as out:
        written, result_exif = out.info["xmp"], out.getexif()
    body = written.split(b"?>", 1)[-1].rsplit(b"<?xpacket", 1)[0]

    root = ElementTree.fromstring(body)
    mm, ref = "{http://ns.adobe.com/xap/1.0/mm/}", "{http://ns.adobe.com/xap/1.0/sType/ResourceRef#}"
    values = {}
    for description in root.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"):
        values.update(description.attrib)
        values.update({child.tag: child for child in description})
    assert values[mm + "DocumentID"] not in ("xmp.did:1111", None) and values[mm + "InstanceID"] != "xmp.iid:2222"
    assert b">xmp.iid:0<" not in body  # the photo's own earlier DerivedFrom went
    assert b'xmpMM:InstanceID="xmp.iid:P1"' in body and b"xmp.iid:P0" in body  # a Pantry's records keep theirs
    assert b'xmp:ModifyDate="2018-01-01T00:00:00"' in body  # (review: they were rewritten too)
    [derived] = [d for d in root.iter(mm + "DerivedFrom") if ref + "documentID" in {c.tag for c in d}]
    assert {child.tag: child.text for child in derived} == {ref + "instanceID": "xmp.iid:2222",
                                                            ref + "documentID": "xmp.did:1111"}
    assert values[mm + "OriginalDocumentID"].text == "xmp.did:1111"
    assert values["{http://ns.adobe.com/xap/1.0/}CreateDate"] == "1972-06-15T14:30:00"
    assert not values["{http://ns.adobe.com/xap/1.0/}ModifyDate"].startswith("2019")
    assert result_exif[0x0132][:4] != "2019" and re.fullmatch(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d", result_exif[0x0132])
    assert result_exif.get_ifd(0x8769)[0x9003] == "1972:06:15 14:30:00"
    assert 0x9290 not in result_exif.get_ifd(0x8769)  # the old change date's fraction (review)
    assert result_exif.get_ifd(0x8769)[0x9291] == "17"  # the photo's own


def test_a_malformed_packet_is_kept_as_it_is_and_quickly():
    """Review: an element left open (here 10,000 of them) made the searches for its end scan the
    rest of the packet again and again: 1.4 s for 64 KB, minutes for Pillow's 1 MB."""
    import time

    broken = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><a:AppliedToDimensions stDim:w="30" stDim:h="40"/>'
              + b'<a:Area stArea:x="0.5">' * 10_000)
    started = time.perf_counter()
    assert xmp.result_packet(broken, (40, 30), None) == broken
    assert xmp.upright_regions(broken, 6, (30, 40)) == broken
    assert time.perf_counter() - started < 1.0


def test_a_pantrys_ingredients_keep_their_sizes_and_ids():
    """Review and QA: Photoshop's Pantry records the documents placed in the photo, each with its own
    size, ids and dates; the result's size and new ids were written over theirs too, and a photo
    stating no ids of its own was said to derive from an ingredient."""
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
              b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
              b'tiff:ImageWidth="400"><xmpMM:Pantry><rdf:Bag><rdf:li><rdf:Description tiff:ImageWidth="6000" '
              b'xmpMM:InstanceID="xmp.iid:P1" xmp:ModifyDate="2019-01-01T00:00:00"/></rdf:li></rdf:Bag>'
              b'</xmpMM:Pantry></rdf:Description></rdf:RDF></x:xmpmeta>')
    enlarged = xmp.result_packet(packet, (800, 450), None)
    assert b'tiff:ImageWidth="800"' in enlarged and b'tiff:ImageWidth="6000"' in enlarged
    derived = xmp.as_derived(enlarged, "2026-12-05T12:00:00+00:00", new_id=lambda: "NEW")
    # no ids of its own: new ones, not an ingredient's, nor derived from one; the ingredient's date kept
    assert b"xmp.iid:P1" in derived and b'xmp:ModifyDate="2019-01-01T00:00:00"' in derived
    assert b"DerivedFrom" not in derived and b"<xmpMM:DocumentID>xmp.did:NEW</xmpMM:DocumentID>" in derived
    assert b"<xmp:ModifyDate>2026-12-05T12:00:00+00:00</xmp:ModifyDate>" in derived


def test_a_result_is_a_new_document_even_where_the_photos_xmp_has_a_bare_ampersand_or_no_ids(tmp_path, caplog):
    """Metadata QA: "(c) Smith & Sons" kept the packet from parsing, and the result carried the
    photo's document and instance ids as they were; a packet without ids or dates got none."""
    def packet(body: bytes) -> bytes:
        return (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                b'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"' + body + b'</rdf:Description></rdf:RDF></x:xmpmeta>')

    broken = packet(b' xmpMM:DocumentID="xmp.did:OLD" xmpMM:InstanceID="xmp.iid:OLD">'
                    b'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) Smith & Sons &amp; &#169; &copy;</rdf:li></rdf:Alt>'
                    b'</dc:rights>')  # (&copy;: HTML's, which XMP does not define: review)
    bare = packet(b'><dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) Anna</rdf:li></rdf:Alt></dc:rights>')
    hopeless = packet(b' xmpMM:DocumentID="xmp.did:OLD"><dc:rights>open')
    for name, given in (("broken", broken), ("bare", bare), ("hopeless", hopeless)):
        Image.new("RGB", (40, 30), (120, 90, 60)).save(tmp_path / f"{name}.jpg", xmp=given)
        photo = read_photo(tmp_path / f"{name}.jpg")
        with caplog.at_level(logging.WARNING):
            dest = export_photo(np.asarray(photo.rgb), None, photo, tmp_path / f"{name}_out.jpg", provenance={"model": "m"})
        written = read_photo(dest).xmp
        root = ElementTree.fromstring(written) if name != "hopeless" else None
        if name == "broken":
            assert b"Smith &amp; Sons &amp; &#169; &amp;copy;" in written and b"xmp.did:OLD</stRef:documentID>" in written
            assert b'xmpMM:DocumentID="xmp.did:OLD"' not in written
        if name == "bare":
            assert b"xmpMM:DocumentID>xmp.did:" in written and b"xmp:ModifyDate>" in written and root is not None
        if name == "hopeless":
            assert b'xmpMM:DocumentID="xmp.did:OLD"' in written and "not well-formed XML" in caplog.text


def test_a_resolution_stated_only_in_the_xmp_is_the_photos(tmp_path):
    """QA: Photoshop's 300 dpi stated in the XMP alone (no EXIF resolution, a JFIF header without a
    unit) became 72 dpi in the result's EXIF while its XMP still said 300."""
    def packet(unit: str) -> bytes:
        return (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                b'<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:XResolution="300/1" '
                b'tiff:YResolution="300/1" tiff:ResolutionUnit="' + unit.encode() + b'"/></rdf:RDF></x:xmpmeta>')

    Image.new("RGB", (40, 30), (90, 80, 70)).save(tmp_path / "scan.jpg", xmp=packet("2"))
    photo = read_photo(tmp_path / "scan.jpg")
    assert photo.dpi == (300.0, 300.0)
    with Image.open(export_photo(photo.rgb, None, photo, tmp_path / "out.jpg")) as out:
        assert out.info.get("dpi") == (300, 300)  # (its JFIF header; the EXIF, when there is one, says the same)
    Image.new("RGB", (40, 30), (90, 80, 70)).save(tmp_path / "ratio.jpg", xmp=packet("1"))  # no unit: no resolution
    assert read_photo(tmp_path / "ratio.jpg").dpi is None


@pytest.mark.parametrize("trap", [
    b'<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>',
])
def test_a_packet_declaring_entities_is_not_passed_on(tmp_path, caplog, trap):
    """Security QA: a photo's XMP with an external entity (aimed at /etc/passwd) or a billion laughs
    went into the result as it was, for the next program that reads it; XMP never declares one."""
    packet = trap + _PACKET.replace(b"<dc:format>image/jpeg</dc:format>", b"<dc:format>&lol2;&xxe;</dc:format>")
    Image.new("RGB", (40, 30), (120, 90, 60)).save(tmp_path / "scan.jpg", xmp=packet)
    photo = read_photo(tmp_path / "scan.jpg")
    assert photo.xmp is not None and b"ENTITY" in photo.xmp
    with caplog.at_level(logging.WARNING):
        dest = export_photo(np.asarray(photo.rgb), None, photo, tmp_path / "out.jpg", provenance={"model": "m"})
    kept = read_photo(dest).xmp or b""
    assert b"ENTITY" not in kept and b"DOCTYPE" not in kept and "declares entities" in caplog.text
    assert read_provenance(dest)["model"] == "m"  # faceapp's own packet is still written


def test_descriptions_added_to_a_packet_are_about_what_its_own_are_about():
    """Metadata QA: to a packet whose descriptions are about "uuid:…" (older Photoshop, Windows Photo
    Gallery), the result's DerivedFrom was added in a description about "", another resource in RDF."""
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b"<rdf:Description rdf:about='uuid:faf5bdd5' xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\" "
              b'xmpMM:DocumentID="xmp.did:OLD"/></rdf:RDF></x:xmpmeta>')
    derived = xmp.as_derived(packet, "2026-12-05T12:00:00+00:00")
    root = ElementTree.fromstring(derived)
    abouts = {d.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
              for d in root.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")}
    assert abouts == {"uuid:faf5bdd5"} and b"DerivedFrom" in derived


_MM = "{http://ns.adobe.com/xap/1.0/mm/}"
_EVT = "{http://ns.adobe.com/xap/1.0/sType/ResourceEvent#}"


def _events(packet: bytes) -> list[dict[str, str]]:
    """The events of a packet's own History (not its Pantry's), each as {field: value}."""
    root = ElementTree.fromstring(packet)
    pantry = {id(n) for p in root.iter(_MM + "Pantry") for n in p.iter()}
    [history] = [h for h in root.iter(_MM + "History") if id(h) not in pantry]
    return [{child.tag.removeprefix(_EVT): child.text for child in li}
            for li in history.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li")]


def test_a_result_records_its_derivation_in_the_packets_history_after_the_photos_own_events():
    """Metadata QA: an asset manager's history of the result showed nothing of faceapp. A packet
    with a History gets the derivation's events after its own; one without gets a History; a Pantry
    ingredient's History is left alone."""
    rdf, mm = "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://ns.adobe.com/xap/1.0/mm/"
    evt = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
    ingredient = ('<xmpMM:Pantry><rdf:Bag><rdf:li rdf:parseType="Resource"><xmpMM:History><rdf:Seq><rdf:li '
                  'rdf:parseType="Resource"><stEvt:action>created</stEvt:action></rdf:li></rdf:Seq></xmpMM:History>'
                  '</rdf:li></rdf:Bag></xmpMM:Pantry>')
    packet = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{rdf}"><rdf:Description rdf:about="" '
              f'xmlns:xmpMM="{mm}" xmlns:stEvt="{evt}" xmpMM:DocumentID="xmp.did:OLD">{ingredient}<xmpMM:History>'
              f'<rdf:Seq><rdf:li rdf:parseType="Resource"><stEvt:action>created</stEvt:action></rdf:li>'
              f'<rdf:li rdf:parseType="Resource"><stEvt:action>saved</stEvt:action></rdf:li></rdf:Seq></xmpMM:History>'
              f'</rdf:Description></rdf:RDF></x:xmpmeta>').encode()
    derived = xmp.as_derived(packet, "2026-12-05T12:00:00+00:00", new_id=lambda: "NEW", agent="faceapp 1.2")
    assert _events(derived) == [
        {"action": "created"}, {"action": "saved"},
        {"action": "derived", "parameters": "faces restored by faceapp 1.2"},
        {"action": "saved", "instanceID": "xmp.iid:NEW", "when": "2026-12-05T12:00:00+00:00",
         "softwareAgent": "faceapp 1.2", "changed": "/"}]
    assert derived.count(b"<stEvt:action>created</stEvt:action>") == 2  # (the ingredient's as it was)
    bare = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{rdf}"><rdf:Description rdf:about="" '
            f'xmlns:xmpMM="{mm}" xmpMM:DocumentID="xmp.did:OLD"/></rdf:RDF></x:xmpmeta>').encode()
    assert [e["action"] for e in _events(xmp.as_derived(bare, "2026-12-05T12:00:00+00:00"))] == ["derived", "saved"]
    # another schema's History first, Media Management's under another prefix (portability review:
    # the events went into the first History of any namespace)
    other = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><r:RDF xmlns:r="{rdf}"><r:Description r:about="" '
             f'xmlns:foo="http://example.com/foo/" xmlns:mm="{mm}" xmlns:stEvt="{evt}" mm:DocumentID="xmp.did:OLD">'
             f'<foo:History><r:Seq><r:li>theirs</r:li></r:Seq></foo:History><mm:History><r:Seq><r:li '
             f'r:parseType="Resource"><stEvt:action>created</stEvt:action></r:li></r:Seq></mm:History>'
             f'</r:Description></r:RDF></x:xmpmeta>').encode()
    derived = xmp.as_derived(other, "2026-12-05T12:00:00+00:00")
    assert [e["action"] for e in _events(derived)] == ["created", "derived", "saved"]
    assert b"<foo:History><r:Seq><r:li>theirs</r:li></r:Seq></foo:History>" in derived


def test_a_packet_of_many_histories_whose_sequences_end_elsewhere_does_not_stall_the_export():
    """Security QA: 6,400 ``<xmpMM:History><rdf:Seq></rdf:Seq><rdf:Bag/></xmpMM:History>`` (a well-formed
    384 KB packet; PNG and TIFF cap no XMP) took 56 s, each History start read on to the packet's end.
    Such a packet (one property given 6,400 times: no valid XMP) is kept as it is."""
    import signal

    head = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">')
    tail = b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    odd = b"<xmpMM:History><rdf:Seq></rdf:Seq><rdf:Bag/></xmpMM:History>" * 6400

    def stalled(*_args):
        raise TimeoutError("the packet stalled the export")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(20)  # (a guard against a hang: the work takes milliseconds, it took a minute)
    try:
        derived = xmp.as_derived(head + odd + tail, "2026-12-05T12:00:00+00:00")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    ElementTree.fromstring(derived)
    assert b"faces restored by" not in derived and derived.count(b"<xmpMM:History>") == 6400
    # (sceptic QA: a comment of 60,000 "<xmpMM:History " and no ">" was read to its end from each: 12 s for 600 KB)
    real = b"<xmpMM:History><rdf:Seq><rdf:li>made</rdf:li></rdf:Seq></xmpMM:History>"
    signal.signal(signal.SIGALRM, stalled)
    signal.alarm(20)
    try:
        commented = xmp.as_derived(head + b"<!-- " + b"<xmpMM:History " * 60_000 + b"-->" + real + tail,
                                   "2026-12-05T12:00:00+00:00")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert b"faces restored by" in commented  # its real History gets the events


def test_ids_given_as_resources_are_replaced_and_derived_from():
    """Metadata QA: ids written as <xmpMM:DocumentID rdf:resource="…"/> (valid XMP) were kept, and the
    result claimed to be the photo's document and instance."""
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">'
              b'<xmpMM:DocumentID rdf:resource="xmp.did:RES-DOC"/><xmpMM:InstanceID rdf:resource="xmp.iid:RES-INST"/>'
              b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    derived = xmp.as_derived(packet, "2026-12-05T12:00:00+00:00", new_id=lambda: "NEW")
    ElementTree.fromstring(derived)
    assert b'<xmpMM:DocumentID rdf:resource="xmp.did:NEW"/>' in derived
    assert b'<xmpMM:InstanceID rdf:resource="xmp.iid:NEW"/>' in derived
    assert (b"<stRef:instanceID>xmp.iid:RES-INST</stRef:instanceID><stRef:documentID>xmp.did:RES-DOC"
            b"</stRef:documentID>") in derived


def test_a_photos_padding_goes_before_what_faceapp_adds_to_its_xmp(tmp_path):
    """Sceptic QA: a JPEG whose XMP was 64 KB, nearly all padding, gave a result with the photo's own
    packet, its document ids as they were: the padding goes, and the result is a new document."""
    packet = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
              b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
              b'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmpMM:DocumentID="xmp.did:ORIG"/></rdf:RDF></x:xmpmeta>')
    padded = packet + b"\n" + b" " * (65_400 - len(packet)) + b'<?xpacket end="w"?>'
    Image.new("RGB", (40, 30), (120, 90, 60)).save(tmp_path / "big.jpg", xmp=padded)
    photo = read_photo(tmp_path / "big.jpg")
    dest = export_photo(np.asarray(photo.rgb), None, photo, tmp_path / "out.jpg", provenance={"model": "m"})
    written = read_photo(dest).xmp
    assert b'xmpMM:DocumentID="xmp.did:ORIG"' not in written and b"xmp.did:ORIG</stRef:documentID>" in written
    assert read_provenance(dest)["model"] == "m"
    small = export_photo(np.asarray(photo.rgb), None, read_photo(tmp_path / "big.jpg"), tmp_path / "out.png",
                         provenance={"model": "m"})
    assert len(read_photo(small).xmp) > 60_000  # (a PNG has room: its padding kept)


def test_the_photos_own_packet_kept_as_a_last_resort_drops_an_earlier_runs_provenance(tmp_path):
    """Review: a faceapp result restored again, its provenance in its XMP (its own EXIF comment stays),
    whose packet was too long for faceapp's additions, kept the earlier run's record in the result,
    and read_provenance gave the earlier run's settings."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0left is Anna"
    packet = xmp.with_provenance(_PACKET, json.dumps({"model": "an older run"}))
    padding = b"x" * (65_504 - len(packet) - 300)  # (not padding: text of its own, which stays)
    big = packet.replace(b"<dc:format>image/jpeg</dc:format>", b"<dc:format>image/jpeg" + padding + b"</dc:format>")
    Image.new("RGB", (40, 30), (120, 90, 60)).save(tmp_path / "scan.jpg", exif=exif.tobytes(), xmp=big)
    photo = read_photo(tmp_path / "scan.jpg")
    assert read_provenance(tmp_path / "scan.jpg")["model"] == "an older run"
    dest = export_photo(np.asarray(photo.rgb), None, photo, tmp_path / "out.jpg", provenance={"model": "m"})
    assert (read_provenance(dest) or {}).get("model") != "an older run"
