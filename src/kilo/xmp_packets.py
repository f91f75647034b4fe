"""XMP packets shared by every kilo writer of sidecars (edits and culling decisions).

One sidecar can hold the develop settings of :mod:`kilo.edit.develop_sidecar` (``crs:``,
``kilo:``), the culling decisions of :mod:`kilo.cull.decision_sidecar` (``xmp:Rating``,
``dc:subject``, ``kilocull:``) and whatever Lightroom, Camera Raw or darktable put there.
Each writer therefore parses the existing packet, replaces only its own properties with
:func:`set_properties` and keeps everything else, including comments and the prefixes the
file declares.

Properties are addressed by ElementTree's qualified names (``q("xmp", "Rating")`` =
``{http://ns.adobe.com/xap/1.0/}Rating``). A scalar is written as an attribute of the main
``rdf:Description``; a list (:class:`XmpList`: ``rdf:Seq``, ``rdf:Bag`` or ``rdf:Alt``) as a
child element. :func:`read_properties` reads both forms (attribute or element) back.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kilo.errors import DecodeError, InvalidInput
from kilo.store import is_local, join, local_path, uri_for_path

__all__ = [
    "NS",
    "Naming",
    "XmpList",
    "XmpValue",
    "descriptions",
    "main_description",
    "new_packet",
    "parse_packet",
    "q",
    "read_properties",
    "serialize_packet",
    "set_properties",
    "sidecar_location",
]

#: the namespaces kilo writes, with the prefixes they are written with
NS: dict[str, str] = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "crs": "http://ns.adobe.com/camera-raw-settings/1.0/",
    "kilo": "https://kilo.photo/ns/edit/1.0/",
    "kilocull": "https://kilo.photo/ns/cull/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
}
PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
PACKET_END = '\n<?xpacket end="w"?>\n'
#: root elements of an XMP packet: x:xmpmeta, its older name x:xapmeta, or a bare rdf:RDF
_ROOTS = (f"{{{NS['x']}}}xmpmeta", f"{{{NS['x']}}}xapmeta", f"{{{NS['rdf']}}}RDF")


def q(prefix: str, name: str) -> str:
    """The qualified (Clark) name of ``prefix:name`` for a prefix of :data:`NS`."""
    return f"{{{NS[prefix]}}}{name}"


@dataclass(frozen=True, slots=True)
class XmpList:
    """An RDF container value: ordered (``Seq``), unordered (``Bag``) or alternatives."""

    kind: Literal["Seq", "Bag", "Alt"]
    items: tuple[str, ...]


#: what :func:`set_properties` writes: text (an attribute), a list, or None (removed)
XmpValue = str | XmpList | None


def _register_own() -> None:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)


_register_own()


def _register_declared(prefixes: Sequence[tuple[str, str]]) -> None:
    """Keep the prefixes a file declares (ElementTree's prefix map is process-wide)."""
    taken = set(NS.values())
    for prefix, uri in prefixes:
        if not prefix or uri in taken:
            continue
        try:
            ET.register_namespace(prefix, uri)
        except ValueError:  # a reserved form (ns0...): ElementTree picks a name
            continue


def parse_packet(data: str | bytes, *, any_root: bool = False) -> ET.Element:
    """The root element of an XMP packet, comments kept.

    Raises DecodeError ("not valid XML (...)" or "not XMP (root element ...)"); with
    ``any_root`` any well-formed XML is accepted (readers that look for rdf:Description
    wherever it is).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        declared = [
            value
            for _, value in ET.iterparse(io.BytesIO(raw), events=("start-ns",))
            if isinstance(value, tuple)
        ]
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        root = ET.fromstring(raw, parser=parser)
    except ET.ParseError as exc:
        raise DecodeError(f"not valid XML ({exc})") from None
    if not any_root and root.tag not in _ROOTS:
        raise DecodeError(f"not XMP (root element {root.tag})")
    _register_declared(declared)
    return root


def new_packet() -> ET.Element:
    """An empty ``x:xmpmeta`` packet with one ``rdf:Description``."""
    root = ET.Element(q("x", "xmpmeta"), {q("x", "xmptk"): "kilo"})
    rdf = ET.SubElement(root, q("rdf", "RDF"))
    ET.SubElement(rdf, q("rdf", "Description"), {q("rdf", "about"): ""})
    return root


def _rdf(root: ET.Element) -> ET.Element:
    if root.tag == q("rdf", "RDF"):
        return root
    rdf = root.find(q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, q("rdf", "RDF"))
    return rdf


def descriptions(root: ET.Element) -> list[ET.Element]:
    """The top-level ``rdf:Description`` elements (where properties live)."""
    return _rdf(root).findall(q("rdf", "Description"))


def main_description(root: ET.Element) -> ET.Element:
    """The first top-level ``rdf:Description``, made when there is none."""
    found = descriptions(root)
    if found:
        return found[0]
    return ET.SubElement(_rdf(root), q("rdf", "Description"), {q("rdf", "about"): ""})


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def set_properties(
    root: ET.Element, values: Mapping[str, XmpValue], *, replace: Iterable[str] = ()
) -> ET.Element:
    """Set ``values`` (qualified name -> value) in the main ``rdf:Description``.

    Every existing form of those properties (attribute or element, in any top-level
    description) is removed first, and so is every property of the namespaces (URIs) in
    ``replace``; everything else is kept. A None value only removes. Returns the main
    description.
    """
    gone = set(replace)
    for desc in descriptions(root):
        for name in list(desc.attrib):
            if name in values or _namespace(name) in gone:
                del desc.attrib[name]
        for child in list(desc):
            tag = child.tag
            if isinstance(tag, str) and (tag in values or _namespace(tag) in gone):
                desc.remove(child)
    main = main_description(root)
    for name, value in values.items():
        if isinstance(value, str):
            main.set(name, value)
        elif isinstance(value, XmpList):
            container = ET.SubElement(ET.SubElement(main, name), q("rdf", value.kind))
            for item in value.items:
                ET.SubElement(container, q("rdf", "li")).text = item
    return main


def serialize_packet(root: ET.Element) -> str:
    """The packet as text, indented, between ``<?xpacket?>`` markers."""
    _register_own()  # a file's prefixes never rename kilo's
    ET.indent(root, space=" ")
    return PACKET_BEGIN + ET.tostring(root, encoding="unicode") + PACKET_END


def _all_descriptions(root: ET.Element) -> Iterator[ET.Element]:
    return root.iter(q("rdf", "Description"))


def read_properties(root: ET.Element, namespace: str) -> dict[str, str | list[str]]:
    """Local name -> value of every property of ``namespace`` (a URI) in the packet.

    Scalars come from attributes or element text; containers (``rdf:Seq``/``Bag``/``Alt``)
    as lists of their items' text. Where several descriptions hold a property the last one
    wins, except bags, which are merged (first seen first, no repeats).
    """
    out: dict[str, str | list[str]] = {}
    prefix = f"{{{namespace}}}"
    for desc in _all_descriptions(root):
        for key, value in desc.attrib.items():
            if key.startswith(prefix):
                out[key[len(prefix) :]] = value
        for child in desc:
            if not isinstance(child.tag, str) or not child.tag.startswith(prefix):
                continue
            name = child.tag[len(prefix) :]
            bag = child.find(q("rdf", "Bag")) is not None
            items = [(li.text or "").strip() for li in child.iter(q("rdf", "li"))]
            if bag:
                seen = out.get(name)
                merged = list(seen) if isinstance(seen, list) else []
                merged += [i for i in items if i and i not in merged]
                out[name] = merged
            elif items:
                out[name] = items
            elif child.text and child.text.strip():
                out[name] = child.text.strip()
    return out


Naming = Literal["lightroom", "darktable"]


def sidecar_location(
    original_uri: str, asset_id: str, store_base: str, naming: Naming = "lightroom"
) -> str:
    """Where the sidecar of an original goes: next to it when local (Lightroom's
    ``IMG_1.xmp`` or darktable's ``IMG_1.CR2.xmp``), else in the store under the asset's id.
    The one rule for every sidecar kilo writes (culling decisions and edits)."""
    if naming not in ("lightroom", "darktable"):
        raise InvalidInput(f"naming must be lightroom or darktable, got {naming!r}")
    local = is_local(original_uri)
    name = local_path(original_uri).name if local else original_uri.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    sidecar_name = f"{name}.xmp" if naming == "darktable" else f"{stem}.xmp"
    if local:
        return uri_for_path(local_path(original_uri).with_name(sidecar_name))
    return join(store_base, "sidecars", asset_id, sidecar_name)
