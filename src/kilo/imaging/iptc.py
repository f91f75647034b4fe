"""The descriptive fields a photographer or their software wrote into a photo: IPTC of a JPEG
(Pillow's IPTC reader) and an XMP packet, embedded or a sidecar (ElementTree), as one
``{title, caption, keywords, creator, copyright, city, rating ...}`` dict."""

from __future__ import annotations

import io
from typing import Any

__all__ = ["iptc_from_jpeg", "read_xmp"]

_IPTC_NAMES = {
    (2, 5): "title",
    (2, 25): "keywords",
    (2, 80): "creator",
    (2, 90): "city",
    (2, 101): "country",
    (2, 105): "headline",
    (2, 110): "credit",
    (2, 116): "copyright",
    (2, 120): "caption",
}
_XMP_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
}


def iptc_from_jpeg(data: bytes, opened: Any = None) -> dict[str, Any]:
    """The descriptive IPTC fields of a JPEG (``opened``: already parsed by Pillow)."""
    from PIL import Image, IptcImagePlugin

    if opened is not None:
        raw = IptcImagePlugin.getiptcinfo(opened) or {}
    else:
        with Image.open(io.BytesIO(data)) as im:
            raw = IptcImagePlugin.getiptcinfo(im) or {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _IPTC_NAMES.get(key)
        if name is None:
            continue
        items = value if isinstance(value, list) else [value]
        texts = [v.decode("utf-8", errors="replace").strip() for v in items]
        out[name] = texts if name == "keywords" else " ".join(texts)
    return out


def read_xmp(packet: bytes) -> dict[str, Any]:
    """Title, description, creator, rights, rating, keywords of an XMP packet."""
    import xml.etree.ElementTree as ET

    start = packet.find(b"<x:xmpmeta")
    end = packet.find(b"</x:xmpmeta>")
    if start < 0 or end < 0 or end - start > 4_000_000:
        return {}
    root = ET.fromstring(packet[start : end + len(b"</x:xmpmeta>")])
    out: dict[str, Any] = {}

    def items(path: str) -> list[str]:
        return [
            (el.text or "").strip()
            for el in root.iterfind(f".//{path}//rdf:li", _XMP_NS)
            if (el.text or "").strip()
        ]

    keywords = items("dc:subject") or [k.split("|")[-1] for k in items("lr:hierarchicalSubject")]
    if keywords:
        out["keywords"] = keywords
    for key, path in (("title", "dc:title"), ("caption", "dc:description")):
        got = items(path)
        if got:
            out[key] = got[0]
    for key, path in (("creator", "dc:creator"), ("copyright", "dc:rights")):
        got = items(path)
        if got:
            out[key] = ", ".join(got)
    for desc in root.iterfind(".//rdf:Description", _XMP_NS):
        rating = desc.get(f"{{{_XMP_NS['xmp']}}}Rating")
        if rating is None:
            el = desc.find("xmp:Rating", _XMP_NS)
            rating = el.text if el is not None else None
        if rating is not None and rating.strip().lstrip("-").isdigit():
            out["rating"] = int(rating.strip())
        city = desc.get(f"{{{_XMP_NS['photoshop']}}}City")
        if city:
            out["city"] = city
    return out
