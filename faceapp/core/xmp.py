"""A result's XMP packet: the photo's own, stating the result's size, plus what has no other place.

A result carries its photo's XMP packet (:func:`result_packet` makes the pixel sizes and the
resolution it states the result's). Three things are added to it, each as an ``rdf:Description`` of
its own inserted before the packet's closing ``</rdf:RDF>`` (XMP allows several; each declares its
namespaces, so the packet's own prefixes do not matter), the rest of the packet kept byte for byte:

* Dublin Core properties (title, creator, description, rights, subject) from a PNG's text chunks or
  an IPTC record, when the result's format has no place for those (:func:`with_dublin_core`); a
  property the packet states already is not added again (Photoshop keeps its IPTC in step with its
  XMP, so most packets that have one state both);
* an IPTC record's place, headline, credit and the like, as the IPTC Core schema's Photoshop and
  IPTC Core properties (:func:`with_text_properties`), on the same terms;
* faceapp's provenance (:func:`with_provenance`), where the EXIF UserComment that holds it
  otherwise is the photo's own comment and stays so.

The packet is read with the standard library's expat parser, which expands no external entity and
refuses entity-expansion attacks; a packet it cannot parse is left as it is.
"""

from __future__ import annotations

import logging
import re
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from xml.sax.saxutils import escape

__all__ = ["DUBLIN_CORE_CONTAINERS", "TEXT_NAMESPACES", "as_derived", "provenance_text", "result_packet",
           "stated_resolution", "upright_regions", "with_dublin_core", "with_provenance", "with_text_properties"]

log = logging.getLogger(__name__)

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
#: the namespace of faceapp's own XMP property, its provenance
FACEAPP_NAMESPACE = "urn:faceapp:xmp:1.0#"
#: Each Dublin Core property's XMP container: a language alternative, an ordered or an unordered list.
DUBLIN_CORE_CONTAINERS = {"title": "Alt", "creator": "Seq", "description": "Alt", "rights": "Alt", "subject": "Bag"}

_PACKET_START = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
_PACKET_END = '</x:xmpmeta><?xpacket end="w"?>'
_RDF_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?RDF\s*>")
#: The prefixes a packet binds to faceapp's namespace (as written here, or as a tool that rewrote
#: the packet quotes it), and a description left empty that declares it.
_FACEAPP_PREFIX = re.compile(rb"""xmlns:([\w.-]+)\s*=\s*["']""" + re.escape(FACEAPP_NAMESPACE.encode()) + rb"""["']""")
_EMPTY_FACEAPP_DESCRIPTION = re.compile(
    rb"""<([\w.-]+:)?Description\b[^>]*=\s*["']""" + re.escape(FACEAPP_NAMESPACE.encode())
    + rb"""["'][^>]*>\s*</\1?Description\s*>""")
#: What XML 1.0 does not allow in text (control characters but tab, newline, return; U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _description(namespace_prefix: str, namespace: str, body: str) -> str:
    return (f'<rdf:Description rdf:about="" xmlns:rdf="{_RDF}" xmlns:{namespace_prefix}="{namespace}">'
            f"{body}</rdf:Description>")


#: The first ``rdf:about`` a packet's descriptions give (quoted as written).
_ABOUT = re.compile(rb"<rdf:Description\b[^>]*?\srdf:about=(\"[^\"]*\"|'[^']*')")


def _with_description(xmp: bytes | None, description: str) -> bytes | None:
    """``xmp`` with ``description`` inserted before its closing ``</rdf:RDF>`` (a new packet when
    ``xmp`` is None); None when the packet has no ``rdf:RDF`` to insert it into."""
    if xmp is None:
        return (_PACKET_START + f'<rdf:RDF xmlns:rdf="{_RDF}">' + description + "</rdf:RDF>" + _PACKET_END).encode("utf-8")
    ends = list(_RDF_END.finditer(xmp))
    if not ends:
        return None
    at = ends[-1].start()
    added = description.encode("utf-8")
    if (about := _ABOUT.search(xmp)) is not None:  # every description of the packet is about one resource
        added = added.replace(b'rdf:about=""', b'rdf:about=' + about.group(1), 1)  # (metadata QA: a
    return xmp[:at] + added + xmp[at:]  # packet's "uuid:…" descriptions got one about "" beside them)


#: A packet's padding: the whitespace XMP writers leave before its end, for edits in place.
_PADDING = re.compile(rb"(</x:xmpmeta>)[ \t\r\n]{2,}(<\?xpacket end=)")


def without_padding(xmp: bytes) -> bytes:
    """``xmp`` without the whitespace padding before its ``<?xpacket end`` (XMP lets a writer resize
    it): a JPEG segment that could not hold a packet with its padding may hold it without."""
    return _PADDING.sub(rb"\1\n\2", xmp, count=1)


def declares_a_dtd(xmp: bytes) -> bool:
    """Whether the packet declares a document type or entities, which XMP packets never do: a
    billion-laughs or external entity (``file:///etc/passwd``) aimed at the program that reads the
    file next (security QA: carried into the result as it was)."""
    return re.search(rb"<!\s*(DOCTYPE|ENTITY)", xmp, re.IGNORECASE) is not None


def _parsed(xmp: bytes) -> ElementTree.Element | None:
    """The packet's XML tree, or None when it is not well-formed (a broken packet is kept as it is)."""
    try:
        return ElementTree.fromstring(xmp.rstrip(b"\0 \t\r\n"))
    except ElementTree.ParseError:
        return None


#: An ampersand that starts none of XML's own references (its five entities, a character's number):
#: XML's most common fault in XMP written by hand or by careless tools ("Smith & Sons", HTML's
#: "&copy;" or "&nbsp;", which XMP does not define: review).
_BARE_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);|#[0-9]+;|#x[0-9a-fA-F]+;)")


def well_formed(xmp: bytes) -> bytes | None:
    """``xmp`` as a packet that parses: as it is, or with its bare ampersands escaped where that is
    all that keeps it from parsing (metadata QA: "(c) Smith & Sons" left the packet unread, and the
    result carried the photo's document ids as they were); None where it still does not parse."""
    if _parsed(xmp) is not None:
        return xmp
    escaped = _BARE_AMPERSAND.sub(b"&amp;", xmp)
    return escaped if escaped != xmp and _parsed(escaped) is not None else None


def _stated(root: ElementTree.Element, namespace: str, *,
            descriptions: list[ElementTree.Element] | None = None) -> set[str]:
    """The names of the properties in ``namespace`` that the packet's descriptions (or those of
    ``descriptions``) state, as elements or as attributes."""
    names: set[str] = set()
    prefix = "{" + namespace + "}"
    for description in root.iter("{" + _RDF + "}Description") if descriptions is None else descriptions:
        for key in (*description.attrib, *(child.tag for child in description)):
            if isinstance(key, str) and key.startswith(prefix):
                names.add(key[len(prefix):])
    return names


def with_dublin_core(xmp: bytes | None, values: dict[str, list[str]]) -> bytes | None:
    """``xmp`` (or a new packet) stating also each Dublin Core property of ``values`` (names of
    :data:`DUBLIN_CORE_CONTAINERS` → texts) that it does not state yet; ``xmp`` as it was when it
    states them all or cannot be parsed."""
    if xmp is not None:
        root = _parsed(xmp)
        if root is None:
            log.info("an XMP packet that is not well-formed is kept as it is: its caption and keywords are not added")
            return xmp
        values = {name: texts for name, texts in values.items() if name not in _stated(root, _DUBLIN_CORE)}
    properties = []
    for name, container in DUBLIN_CORE_CONTAINERS.items():
        if values.get(name):
            kept = values[name] if container != "Alt" else values[name][:1]
            language = ' xml:lang="x-default"' if container == "Alt" else ""
            items = "".join(f"<rdf:li{language}>{_text(value)}</rdf:li>" for value in kept)
            properties.append(f"<dc:{name}><rdf:{container}>{items}</rdf:{container}></dc:{name}>")
    if not properties:
        return xmp
    return _with_description(xmp, _description("dc", _DUBLIN_CORE, "".join(properties))) or xmp


#: The namespaces of the simple text properties :func:`with_text_properties` adds, by prefix.
TEXT_NAMESPACES = {"photoshop": "http://ns.adobe.com/photoshop/1.0/",
                   "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
                   "xmp": "http://ns.adobe.com/xap/1.0/"}


def with_text_properties(xmp: bytes | None, values: dict[str, str]) -> bytes | None:
    """``xmp`` (or a new packet) stating also each simple text property of ``values`` ("prefix:name"
    → text, the prefixes of :data:`TEXT_NAMESPACES`) that it does not state yet: an IPTC record's
    city, country, headline, credit, … where the result's format has no place for the record, the
    scanner's program as the first tool that made the image (``xmp:CreatorTool``)."""
    if xmp is not None:
        root = _parsed(xmp)
        if root is None:
            log.info("an XMP packet that is not well-formed is kept as it is: %s are not added to it", ", ".join(values))
            return xmp
        values = {key: text for key, text in values.items()
                  if key.split(":", 1)[1] not in _stated(root, TEXT_NAMESPACES[key.split(":", 1)[0]])}
    for prefix, namespace in TEXT_NAMESPACES.items():
        body = "".join(f"<{key}>{_text(text)}</{key}>" for key, text in values.items() if key.startswith(prefix + ":"))
        if body:
            added = _with_description(xmp, _description(prefix, namespace, body))
            if added is None:
                log.info("an XMP packet without rdf:RDF: %s are not added to it", ", ".join(values))
            xmp = added or xmp
    return xmp


def _text(value: str) -> str:
    """``value`` as XML text: escaped, less the characters XML does not allow (a control character
    in an IPTC caption would make the whole packet unreadable)."""
    return escape(_NOT_XML.sub("", value))


def with_provenance(xmp: bytes | None, provenance: str | None) -> bytes | None:
    """``xmp`` without the provenance an earlier faceapp run put into it (also where a tool rewrote
    its description), and with ``provenance`` (JSON text) when given; None for no packet at all."""
    if xmp is not None and FACEAPP_NAMESPACE.encode() in xmp:
        for prefix in set(_FACEAPP_PREFIX.findall(xmp)):  # the element, wherever a tool moved it…
            element = re.escape(prefix) + rb":provenance"
            xmp = re.sub(rb"<" + element + rb"\b[^>]*>.*?</" + element + rb"\s*>|<" + element + rb"\b[^>]*/>",
                         b"", xmp, flags=re.DOTALL)
        xmp = _EMPTY_FACEAPP_DESCRIPTION.sub(b"", xmp)  # …and the description it had to itself
    if provenance is None:
        return xmp
    block = _description("faceapp", FACEAPP_NAMESPACE, f"<faceapp:provenance>{_text(provenance)}</faceapp:provenance>")
    added = _with_description(xmp, block)
    if added is None:
        log.info("an XMP packet without rdf:RDF: the provenance is not added to it")
        return xmp
    return added


def provenance_text(xmp: bytes | None) -> str | None:
    """The provenance (JSON text) :func:`with_provenance` put into ``xmp``, or None."""
    if not xmp or FACEAPP_NAMESPACE.encode() not in xmp:
        return None
    root = _parsed(xmp)
    found = [] if root is None else root.findall(f".//{{{FACEAPP_NAMESPACE}}}provenance")
    return found[-1].text if found else None  # the last: this run's, added after anything left of older ones


def _element(name: str) -> re.Pattern[bytes]:
    """An element ``name`` of any prefix, empty (``<a:Area .../>``) or with its content, whole."""
    tag = re.escape(name.encode())
    return re.compile(rb"<([\w.-]+:)?" + tag + rb"\b(?:[^>]*/>|[^>]*>.*?</\1?" + tag + rb"\s*>)", re.DOTALL)


def _property(name: str) -> re.Pattern[bytes]:
    """An XMP property's value, as an attribute (``tiff:ImageWidth="4000"``), an element
    (``<tiff:ImageWidth>4000</tiff:ImageWidth>``; a closing tag is not followed by a value) or a
    resource (``<xmpMM:DocumentID rdf:resource="xmp.did:…"/>``: metadata QA, such ids were kept)."""
    named = name.encode()
    return re.compile(rb"(:" + named + rb"""\s*=\s*["']|:""" + named + rb">|:" + named
                      + rb"""\s+rdf:resource\s*=\s*["'])\s*[^\s\"'<]+""")


#: The pixel sizes an XMP packet may state (tiff: and exif: namespaces), by axis (0: x, 1: y).
_SIZES = tuple((_property(name), axis) for name, axis in (
    ("ImageWidth", 0), ("PixelXDimension", 0), ("ImageLength", 1), ("PixelYDimension", 1)))
_RESOLUTIONS = tuple((_property(name), axis) for name, axis in (("XResolution", 0), ("YResolution", 1)))


def result_packet(xmp: bytes, size: tuple[int, int], dpi: tuple[float, float] | None, *,
                  converted_from_cmyk: bool = False) -> bytes:
    """The photo's XMP packet as its result carries it: the pixel sizes it states are the result's
    ``size`` (enlarged, upright), its face regions' (MWG) dimensions too, and its resolution the
    result's ``dpi`` (the photo's times the upscale), as the EXIF block says; a resolution the photo
    did not state is left as it is. The pointer to an extended XMP packet, which results do not
    carry, goes; so do, for a CMYK photo written as RGB (``converted_from_cmyk``), the colour mode
    and the CMYK profile's name Photoshop states (QA: both stale in the result)."""
    if _parsed(xmp) is None:  # (edited only in a packet that parses: an element left open made the
        return xmp            # searches for its end scan the rest of the packet again and again)

    def own(part: bytes) -> bytes:  # (what the photo states of itself, not its Pantry's ingredients: review)
        for pattern, axis in _SIZES:
            part = pattern.sub(lambda m, value=str(size[axis]).encode(): m.group(1) + value, part)
        part = _REGION_DIMENSIONS.sub(lambda m: _with_dimensions(m.group(0), size), part)
        if converted_from_cmyk:
            part = _property("ColorMode").sub(lambda m: m.group(1) + b"3", part)  # Photoshop's 4 (CMYK) → 3 (RGB)
            part = _without_property(part, "ICCProfile")
        if dpi is not None:
            for pattern, axis in _RESOLUTIONS:
                part = pattern.sub(lambda m, value=_rational(dpi[axis]): m.group(1) + value, part)
        return part

    return _without_property(_outside_pantry(xmp, own), "HasExtendedXMP")


#: Photoshop's record of the documents placed in this one (their own sizes, ids and dates).
_PANTRY = _element("Pantry")


def _outside_pantry(xmp: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    """``xmp`` with ``edit`` applied to all but its Pantry (an ``xmpMM:Pantry`` element)."""
    parts, at = [], 0
    for found in _PANTRY.finditer(xmp):
        parts += [edit(xmp[at:found.start()]), found.group(0)]
        at = found.end()
    return b"".join([*parts, edit(xmp[at:])])


def _without_property(xmp: bytes, name: str) -> bytes:
    """``xmp`` without the simple property ``name`` of any prefix, as an attribute or an element."""
    name_bytes = re.escape(name.encode())
    # (one whitespace character before it, not \s+: that backtracks over a packet's padding, 33 s for 64 KB)
    xmp = re.sub(rb"""[ \t\r\n][\w.-]+:""" + name_bytes + rb"""\s*=\s*(["']).*?\1""", b"", xmp, flags=re.DOTALL)
    return re.sub(rb"<([\w.-]+:)" + name_bytes + rb"\b(?:[^>]*/>|[^>]*>[^<]*</\1" + name_bytes + rb"\s*>)", b"", xmp)


#: What a packet says of where the photo was taken: EXIF's GPS properties, and the place names of
#: Photoshop's and the IPTC Core and Extension schemas (a structure whole: a place shown, created).
_LOCATION = (rb"GPS\w+|City|State|Country|CountryCode|Location|Sublocation|ProvinceState|CountryName|WorldRegion"
             rb"|LocationCreated|LocationShown")


def without_location(xmp: bytes | None) -> bytes | None:
    """``xmp`` without what it says of where the photo was taken (:data:`_LOCATION`), as an attribute
    or an element with its content; None stays None. A packet that does not parse is left out whole
    (None): what it holds cannot be told apart (privacy QA: a result for sharing kept the GPS)."""
    if xmp is None:
        return None
    if _parsed(xmp) is None:
        return None
    # (one whitespace character before an attribute, not \s+: that backtracks over a packet's padding)
    xmp = re.sub(rb"""[ \t\r\n][\w.-]+:(?:""" + _LOCATION + rb""")\s*=\s*(["']).*?\1""", b"", xmp, flags=re.DOTALL)
    xmp = re.sub(rb"<([\w.-]+:)(" + _LOCATION + rb")(?=[\s/>])(?:[^>]*/>|[^>]*>.*?</\1\2\s*>)", b"", xmp,
                 flags=re.DOTALL)
    return xmp if _parsed(xmp) is not None else None  # (review: an odd packet cut wrong is left out whole)


_TIFF = "http://ns.adobe.com/tiff/1.0/"


def stated_resolution(xmp: bytes | None) -> tuple[float, float] | None:
    """The resolution (x, y dots per inch) a packet states in its tiff: properties, as the picture
    is stored, or None (none, a unit of "none", or a packet that does not parse): for a photo whose
    EXIF and JFIF header state none (QA: Photoshop's 300 dpi in the XMP alone became 72)."""
    root = _parsed(xmp) if xmp else None
    if root is None:
        return None
    unit = _first_value(root, _TIFF, "ResolutionUnit") or "2"
    per_inch = {"2": 1.0, "3": 2.54}.get(unit.strip())
    values = [_first_value(root, _TIFF, name) for name in ("XResolution", "YResolution")]
    if per_inch is None or values[0] is None:
        return None
    try:
        x, y = (_number_of(value) for value in (values[0], values[1] or values[0]))
    except (ValueError, ZeroDivisionError):
        return None
    return (x * per_inch, y * per_inch) if x > 0 and y > 0 else None


def _number_of(value: str) -> float:
    """An XMP rational ("300/1") or number as a float."""
    numerator, _, denominator = value.strip().partition("/")
    return float(numerator) / (float(denominator) if denominator else 1.0)


def _rational(value: float) -> bytes:
    """``value`` as XMP writes a TIFF rational: ``600/1``, or in thousandths."""
    return f"{round(value)}/1".encode() if abs(value - round(value)) < 1e-6 else f"{round(value * 1000)}/1000".encode()


# ---- face regions (the Metadata Working Group's mwg-rs:Regions) ------------------------------------

#: A region list's AppliedToDimensions and each region's Area, as a struct of attributes or of elements.
_REGION_DIMENSIONS = _element("AppliedToDimensions")
_REGION_AREA = _element("Area")
_WIDTH, _HEIGHT = _property("w"), _property("h")
_X, _Y = _property("x"), _property("y")
_NUMBER = re.compile(rb"[\s\"'>]*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)")


def _value(pattern: re.Pattern[bytes], struct: bytes) -> float | None:
    found = pattern.search(struct)
    if found is None:
        return None
    number = _NUMBER.match(struct, found.end(1))
    try:
        return float(number.group(1)) if number else None
    except ValueError:
        return None


def _with_values(struct: bytes, values: dict[re.Pattern[bytes], str]) -> bytes:
    for pattern, value in values.items():
        struct = pattern.sub(lambda m, value=value.encode(): m.group(1) + value, struct, count=1)
    return struct


def _with_dimensions(struct: bytes, size: tuple[int, int]) -> bytes:
    """An AppliedToDimensions struct stating ``size`` (pixels; normalized areas stay as they are)."""
    return _with_values(struct, {_WIDTH: str(size[0]), _HEIGHT: str(size[1])})


#: Where a point (x, y) of a picture stored with each EXIF orientation is once it is upright, in
#: coordinates normalised to 0…1; 5 to 8 swap width and height.
_UPRIGHT = {2: lambda x, y: (1 - x, y), 3: lambda x, y: (1 - x, 1 - y), 4: lambda x, y: (x, 1 - y),
            5: lambda x, y: (y, x), 6: lambda x, y: (1 - y, x), 7: lambda x, y: (1 - y, 1 - x),
            8: lambda x, y: (y, 1 - x)}


def upright_regions(xmp: bytes, orientation: int, stored: tuple[int, int]) -> bytes:
    """``xmp`` whose face regions (MWG) are stated on the picture as stored (``stored`` pixels, turned
    a quarter by EXIF ``orientation`` 5 to 8), stated on the upright picture the photo becomes:
    the areas' centres and sizes turned with it and the dimensions swapped (QA: a person's tag sat
    across another's mouth once the photo was turned). Regions stated on the upright picture
    already, whose dimensions say so, and half turns, which leave the dimensions alike and so do not
    tell, are left as they are."""
    if (orientation not in (5, 6, 7, 8) or stored[0] == stored[1] or b"AppliedToDimensions" not in xmp
            or _parsed(xmp) is None):
        return xmp
    dimensions = _REGION_DIMENSIONS.search(xmp)
    if dimensions is None or (_value(_WIDTH, dimensions.group(0)), _value(_HEIGHT, dimensions.group(0))) != stored:
        return xmp
    turn = _UPRIGHT[orientation]

    def area(found: re.Match[bytes]) -> bytes:
        struct = found.group(0)
        x, y, w, h = (_value(pattern, struct) for pattern in (_X, _Y, _WIDTH, _HEIGHT))
        if None in (x, y) or b"normalized" not in struct:
            return struct
        x, y = turn(x, y)
        values = {_X: _number(x), _Y: _number(y)}
        if w is not None and h is not None:
            values.update({_WIDTH: _number(h), _HEIGHT: _number(w)})
        return _with_values(struct, values)

    xmp = _REGION_AREA.sub(area, xmp)
    return _REGION_DIMENSIONS.sub(lambda m: _with_dimensions(m.group(0), (stored[1], stored[0])), xmp, count=1)


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


# ---- the result as a document of its own (XMP Media Management) -----------------------------------

_MEDIA_MANAGEMENT = "http://ns.adobe.com/xap/1.0/mm/"
_XMP_BASIC = "http://ns.adobe.com/xap/1.0/"
_RESOURCE_REF = "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
_DERIVED_FROM = _element("DerivedFrom")
_DATES = tuple(_property(name) for name in ("ModifyDate", "MetadataDate"))


def as_derived(xmp: bytes, when: str, *, new_id: Callable[[], str] | None = None, agent: str = "faceapp") -> bytes:
    """``xmp`` as a result's packet states it, a new document derived from the photo's (XMP Media
    Management; QA: a result carried its photo's ids, and an asset manager took it for the same
    file): new document and instance ids where the photo had them, ``xmpMM:DerivedFrom`` naming the
    photo's ids (an earlier one's replaced), ``xmpMM:OriginalDocumentID`` the photo's document id
    where none was stated, and the modification and metadata dates ``when`` (ISO 8601). A packet
    without ids of its own gets new ones, with nothing to derive from; one without those dates gets
    them (metadata QA: README promises a new document "with its own ids and modification dates").
    The packet's ``xmpMM:History`` gains the events of this derivation, as a photo editor's Save as
    records them: "derived" (faces restored) and "saved" (the new instance, ``when``, by ``agent``)
    (metadata QA: an asset manager's history showed nothing of faceapp). A packet that cannot be
    parsed is kept as it is (:func:`well_formed` says which)."""
    new_id = new_id or (lambda: uuid.uuid4().hex)
    root = _parsed(xmp)
    if root is None:
        return xmp
    document, instance = f"xmp.did:{new_id()}".encode(), f"xmp.iid:{new_id()}".encode()
    return _with_history(_renewed(xmp, root, when, document, instance), when, instance.decode(), agent)


def _renewed(xmp: bytes, root: ElementTree.Element, when: str, document: bytes, instance: bytes) -> bytes:
    """:func:`as_derived`'s ids and dates, without its history."""
    undated = not {"ModifyDate", "MetadataDate"} & _stated(root, _XMP_BASIC, descriptions=_own_descriptions(root))

    def dated(part: bytes) -> bytes:  # (the photo's own: its Pantry's ingredients keep theirs; review)
        for pattern in _DATES:
            part = pattern.sub(lambda m: m.group(1) + when.encode(), part)
        return part

    xmp = _outside_pantry(xmp, dated)
    ids = {name: _first_value(root, _MEDIA_MANAGEMENT, name) for name in ("DocumentID", "InstanceID", "OriginalDocumentID")}
    if undated:
        xmp = _with_description(xmp, _description("xmp", _XMP_BASIC, f"<xmp:ModifyDate>{_text(when)}</xmp:ModifyDate>"
                                                  f"<xmp:MetadataDate>{_text(when)}</xmp:MetadataDate>")) or xmp
    if ids["DocumentID"] is None and ids["InstanceID"] is None:  # nothing to derive from: a document of its own
        return _with_description(xmp, _description(
            "xmpMM", _MEDIA_MANAGEMENT, f"<xmpMM:DocumentID>{document.decode()}</xmpMM:DocumentID>"
                                        f"<xmpMM:InstanceID>{instance.decode()}</xmpMM:InstanceID>")) or xmp

    def renamed(part: bytes) -> bytes:
        part = _property("DocumentID").sub(lambda m: m.group(1) + document, part)
        part = _property("InstanceID").sub(lambda m: m.group(1) + instance, part)
        return _DERIVED_FROM.sub(b"", part)  # (an earlier derivation: this one replaces it)

    xmp = _outside_pantry(xmp, renamed)
    reference = "".join(f"<stRef:{field}>{_text(ids[name])}</stRef:{field}>"
                        for field, name in (("instanceID", "InstanceID"), ("documentID", "DocumentID")) if ids[name])
    body = f'<xmpMM:DerivedFrom rdf:parseType="Resource" xmlns:stRef="{_RESOURCE_REF}">{reference}</xmpMM:DerivedFrom>'
    if ids["OriginalDocumentID"] is None and ids["DocumentID"]:
        body += f"<xmpMM:OriginalDocumentID>{_text(ids['DocumentID'])}</xmpMM:OriginalDocumentID>"
    return _with_description(xmp, _description("xmpMM", _MEDIA_MANAGEMENT, body)) or xmp


_RESOURCE_EVENT = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
#: The prefixes a packet binds to XMP Media Management's namespace.
_MM_PREFIXES = re.compile(rb"""xmlns:([\w.-]+)\s*=\s*["']""" + re.escape(_MEDIA_MANAGEMENT.encode()) + rb"""["']""")


#: History starts looked at for where their sequence ends: a packet has one. Each look may read on to
#: the packet's end (security QA: 384 KB of History starts whose sequence ended elsewhere took 56 s).
_HISTORY_LOOKS = 8


def _history_start(prefixes: list[bytes]) -> re.Pattern[bytes]:
    """The start of a ``History`` sequence, of one of ``prefixes`` (the History's prefix and rdf's:
    groups 1 and 2)."""
    named = b"|".join(re.escape(prefix + b":") for prefix in prefixes)
    # ([^<>]*: a start is read no further than the next tag's; [^>]* read on from each "<…History" of a
    # comment holding no ">" to the packet's end: sceptic QA, 12 s for 600 KB)
    return re.compile(rb"<(" + named + rb")History\b[^<>]*>\s*<([\w.-]+:)?Seq\b[^<>]*>")


def _history_seq_end(part: bytes, start: re.Pattern[bytes]) -> tuple[int, bytes] | None:
    """Where the first ``History`` sequence of ``part`` that ends as the History does ends (the offset
    of its ``</Seq>``), and its rdf prefix; None where none does among the first looks."""
    for look, found in enumerate(start.finditer(part)):
        if look == _HISTORY_LOOKS:
            break
        history, rdf = found.group(1), found.group(2) or b""
        end = re.compile(rb"</" + re.escape(rdf) + rb"Seq\s*>\s*</" + re.escape(history) + rb"History\s*>")
        if (closing := end.search(part, found.end())) is not None:
            return closing.start(), rdf
    return None


def _with_history(xmp: bytes, when: str, instance: str, agent: str) -> bytes:
    """``xmp`` with the events of a faceapp result appended to its ``History`` (one made where it has
    none; a Pantry ingredient's left alone). Kept as it is where the events would not parse."""
    def events(rdf: str) -> str:
        li = f'<{rdf}li {rdf}parseType="Resource" xmlns:stEvt="{_RESOURCE_EVENT}">'
        return (f"{li}<stEvt:action>derived</stEvt:action><stEvt:parameters>faces restored by {_text(agent)}"
                f"</stEvt:parameters></{rdf}li>"
                f"{li}<stEvt:action>saved</stEvt:action><stEvt:instanceID>{_text(instance)}</stEvt:instanceID>"
                f"<stEvt:when>{_text(when)}</stEvt:when><stEvt:softwareAgent>{_text(agent)}</stEvt:softwareAgent>"
                f"<stEvt:changed>/</stEvt:changed></{rdf}li>")

    appended = [False]

    def append(part: bytes) -> bytes:
        if appended[0] or (found := _history_seq_end(part, start)) is None:
            return part
        appended[0] = True
        at, rdf = found
        return part[:at] + events(rdf.decode("utf-8", "replace")).encode("utf-8") + part[at:]

    before = _history_length(xmp)
    if before is None:  # none of its own: one is made
        root = _parsed(xmp)
        if root is None or _first_value(root, _MEDIA_MANAGEMENT, "History") is not None:
            return xmp
        made = _with_description(xmp, _description(
            "xmpMM", _MEDIA_MANAGEMENT, f"<xmpMM:History><rdf:Seq>{events('rdf:')}</rdf:Seq></xmpMM:History>"))
        return made if made is not None and _history_length(made) == 2 else xmp
    start = _history_start(list(dict.fromkeys(_MM_PREFIXES.findall(xmp))) or [b"xmpMM"])
    extended = _outside_pantry(xmp, append)
    # the two events in its own History, or the packet as it was (a History of another namespace
    # matched first, or one that is no sequence: portability review)
    return extended if _history_length(extended) == before + 2 else xmp


def _history_length(xmp: bytes) -> int | None:
    """How many events the packet's own ``xmpMM:History`` lists (None: it has none, or the packet
    cannot be parsed)."""
    root = _parsed(xmp)
    if root is None:
        return None
    for description in _own_descriptions(root):
        history = description.find("{" + _MEDIA_MANAGEMENT + "}History")
        if history is not None:
            return len(list(history.iter("{" + _RDF + "}li")))
    return None


def _own_descriptions(root: ElementTree.Element) -> list[ElementTree.Element]:
    """The packet's descriptions of itself: not those of its Pantry's ingredients."""
    ingredients = {id(node) for pantry in root.iter("{" + _MEDIA_MANAGEMENT + "}Pantry") for node in pantry.iter()}
    return [d for d in root.iter("{" + _RDF + "}Description") if id(d) not in ingredients]


def _first_value(root: ElementTree.Element, namespace: str, name: str) -> str | None:
    """The first value of the simple property ``name`` the packet's descriptions state (not those of
    its Pantry's ingredients)."""
    key = "{" + namespace + "}" + name
    for description in _own_descriptions(root):
        if key in description.attrib:
            return description.attrib[key]
        child = description.find(key)
        if child is not None and (child.text or "").strip():
            return child.text.strip()
        if child is not None and child.get("{" + _RDF + "}resource"):
            return child.get("{" + _RDF + "}resource")
    return None
