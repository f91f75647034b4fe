"""Lightroom-compatible XMP sidecars (``crs:`` = Adobe Camera Raw settings namespace).

:func:`params_to_xmp` writes an edit as an ``x:xmpmeta`` packet whose ``rdf:Description``
carries the develop settings as ``crs:`` attributes (the form Lightroom Classic and Camera Raw
write, and darktable's Lightroom import reads), process version 11.0 (the "2012" tone
controls: ``Exposure2012`` ...). White balance is written as ``Temperature``/``Tint`` (kelvin)
for raw originals and as ``IncrementalTemperature``/``IncrementalTint`` (-100 .. +100) for
rendered files (JPEG, HEIC, TIFF), which is what Lightroom uses for those. Settings with no
``crs:`` key (crop aspect preset, the params version) go in the ``kilo:`` namespace.

:func:`write_xmp_sidecar` merges into an existing sidecar through :mod:`kilo.xmp_packets`: every
``crs:`` and ``kilo:`` property is replaced by the edit, everything else (the ratings, keywords
and pick state of :mod:`kilo.cull.decision_sidecar`, other tools' metadata) is kept.

:func:`xmp_to_params` reads such a packet (ours, or one Lightroom wrote) with ElementTree,
accepting both attribute and element forms, and ignores ``crs:`` keys kilo has no equivalent
for.

Geometry: Lightroom stores the crop corners in the unrotated photo's normalised coordinates
and the straighten angle as ``CropAngle``; kilo's crop is relative to the straightened frame.
The conversion needs the photo's pixel size, so pass ``size`` when the edit is straightened.
kilo's ``straighten`` (+ = counter-clockwise) is written as ``CropAngle = -straighten``
(Lightroom's positive angle turns the photo clockwise).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from kilo import xmp_packets
from kilo.edit.color import mired
from kilo.edit.geometry import crop_box, straighten_scale
from kilo.edit.params import AS_SHOT_K, HSL_BANDS, IDENTITY_CURVE, EditParams
from kilo.errors import DecodeError, InvalidInput
from kilo.store import write_local
from kilo.xmp_packets import NS, XmpList, XmpValue

CRS_VERSION = "15.0"
PROCESS_VERSION = "11.0"
#: kilo field -> crs key of the sliders written as signed integers
_INT_SLIDERS = {
    "contrast": "Contrast2012",
    "highlights": "Highlights2012",
    "shadows": "Shadows2012",
    "whites": "Whites2012",
    "blacks": "Blacks2012",
    "vibrance": "Vibrance",
    "saturation": "Saturation",
}
_HSL_KEYS = {"hue": "HueAdjustment", "sat": "SaturationAdjustment", "lum": "LuminanceAdjustment"}
#: IncrementalTemperature per mired of change (rendered files); an approximation of Lightroom
_INCR_PER_MIRED = 1 / 2.5


def _signed(value: float, digits: int = 0) -> str:
    text = f"{value:+.{digits}f}"
    return "0" if float(text) == 0 and digits == 0 else text


def _unsigned(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}f}"


def _crs(name: str) -> str:
    return xmp_packets.q("crs", name)


def _own(name: str) -> str:
    return xmp_packets.q("kilo", name)


def _lr_crop(params: EditParams, size: tuple[int, int] | None) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the crop in the unrotated photo, normalised."""
    if not params.straighten and params.aspect in ("free",):
        c = params.crop
        return c.left, c.top, c.right, c.bottom
    if size is None:
        if params.straighten:
            raise InvalidInput("writing a straightened crop to XMP needs the photo's size")
        size = (1000, 1000)
    w, h = size
    x0, y0, cw, ch = crop_box(w, h, params)
    k = straighten_scale(w, h, params.straighten) if params.straighten else 1.0
    fw, fh = w * k, h * k
    a = math.radians(params.straighten)
    cos, sin = math.cos(a), math.sin(a)

    def to_src(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - fw / 2, y - fh / 2
        return (cos * dx - sin * dy + w / 2) / w, (sin * dx + cos * dy + h / 2) / h

    left, top = to_src(x0, y0)
    right, bottom = to_src(x0 + cw, y0 + ch)
    return left, top, right, bottom


def _edit_properties(
    params: EditParams, raw: bool, size: tuple[int, int] | None, name: str | None
) -> dict[str, XmpValue]:
    """Qualified name -> value of every ``crs:``/``kilo:`` property of ``params``."""
    attrs: dict[str, XmpValue] = {
        _crs("Version"): CRS_VERSION,
        _crs("ProcessVersion"): PROCESS_VERSION,
        _crs("Exposure2012"): _signed(params.exposure, 2),
    }
    for field, key in _INT_SLIDERS.items():
        attrs[_crs(key)] = _signed(round(getattr(params, field)))
    as_shot = params.temperature == AS_SHOT_K and params.tint == 0
    attrs[_crs("WhiteBalance")] = "As Shot" if as_shot else "Custom"
    if raw:
        attrs[_crs("Temperature")] = _unsigned(round(params.temperature))
        attrs[_crs("Tint")] = _signed(round(params.tint))
    else:
        incr = (mired(AS_SHOT_K) - mired(params.temperature)) * _INCR_PER_MIRED
        attrs[_crs("IncrementalTemperature")] = _signed(max(-100, min(100, round(incr))))
        attrs[_crs("IncrementalTint")] = _signed(max(-100, min(100, round(params.tint / 1.5))))
    for band in HSL_BANDS:
        b = params.hsl.band(band)
        for attr, prefix in _HSL_KEYS.items():
            attrs[_crs(prefix + band.capitalize())] = _signed(round(getattr(b, attr)))
    attrs[_crs("Sharpness")] = _unsigned(round(params.sharpness))
    attrs[_crs("SharpenRadius")] = "+1.0"
    attrs[_crs("SharpenDetail")] = "25"
    attrs[_crs("SharpenEdgeMasking")] = "0"
    attrs[_crs("LuminanceSmoothing")] = _unsigned(round(params.luminance_smoothing))
    attrs[_crs("ColorNoiseReduction")] = _unsigned(round(params.color_noise_reduction))
    has_crop = not params.crop.is_full() or params.aspect != "free" or params.straighten != 0
    attrs[_crs("HasCrop")] = "True" if has_crop else "False"
    if has_crop:
        left, top, right, bottom = _lr_crop(params, size)
        attrs[_crs("CropLeft")] = f"{left:.6f}"
        attrs[_crs("CropTop")] = f"{top:.6f}"
        attrs[_crs("CropRight")] = f"{right:.6f}"
        attrs[_crs("CropBottom")] = f"{bottom:.6f}"
        attrs[_crs("CropAngle")] = f"{-params.straighten:.4f}"
        attrs[_crs("CropConstrainToWarp")] = "0"
    attrs[_crs("ToneCurveName2012")] = "Linear" if params.tone_curve == IDENTITY_CURVE else "Custom"
    attrs[_own("ParamsVersion")] = str(params.version)
    attrs[_own("Aspect")] = params.aspect
    attrs[_own("Straighten")] = f"{params.straighten:.4f}"
    if not params.crop.is_full():
        c = params.crop
        attrs[_own("Crop")] = f"{c.left:.6f},{c.top:.6f},{c.right:.6f},{c.bottom:.6f}"
    if name:
        attrs[_own("VersionName")] = name
    for key in (
        "ToneCurvePV2012",
        "ToneCurvePV2012Red",
        "ToneCurvePV2012Green",
        "ToneCurvePV2012Blue",
    ):
        curve = params.tone_curve if key == "ToneCurvePV2012" else IDENTITY_CURVE
        attrs[_crs(key)] = XmpList("Seq", tuple(f"{round(x)}, {round(y)}" for x, y in curve))
    return attrs


def merge_edit_xmp(
    existing: str | bytes | None,
    params: EditParams,
    *,
    raw: bool = False,
    size: tuple[int, int] | None = None,
    name: str | None = None,
) -> str:
    """An XMP packet: ``existing`` with its develop settings (every ``crs:`` and ``kilo:``
    property) replaced by ``params``; everything else in it (culling decisions, keywords,
    EXIF...) is kept. Raises DecodeError when ``existing`` is not XMP."""
    root = xmp_packets.parse_packet(existing) if existing else xmp_packets.new_packet()
    xmp_packets.set_properties(
        root, _edit_properties(params, raw, size, name), replace=(NS["crs"], NS["kilo"])
    )
    return xmp_packets.serialize_packet(root)


def params_to_xmp(
    params: EditParams,
    *,
    raw: bool = False,
    size: tuple[int, int] | None = None,
    name: str | None = None,
) -> str:
    """An XMP packet (text) holding ``params`` as Lightroom develop settings."""
    return merge_edit_xmp(None, params, raw=raw, size=size, name=name)


def write_xmp_sidecar(
    params: EditParams,
    path: str | Path,
    *,
    raw: bool = False,
    size: tuple[int, int] | None = None,
    name: str | None = None,
) -> Path:
    """Write ``params`` into an XMP sidecar file (UTF-8) and return its path.

    An existing sidecar is merged: its develop settings are replaced, the rest (ratings,
    keywords and pick state of :mod:`kilo.cull.decision_sidecar`, metadata of other tools) is
    kept. A file there that is not XMP is never overwritten (DecodeError).
    """
    target = Path(path)
    existing: bytes | None = None
    if target.exists():
        try:
            existing = target.read_bytes()
        except OSError as exc:
            raise InvalidInput(
                f"cannot read the sidecar: {exc.strerror}", path=str(target)
            ) from None
    try:
        text = merge_edit_xmp(existing, params, raw=raw, size=size, name=name)
    except DecodeError as exc:
        raise DecodeError(f"the existing sidecar is {exc.reason}", path=str(target)) from None
    try:
        write_local(target, text.encode("utf-8"))  # atomic, the umask's mode
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the sidecar: {exc.strerror or exc}", path=str(target)
        ) from None
    return target


def write_version_sidecar(
    catalog: Any, asset_id: str, *, version_id: str | None = None, out: str | Path | None = None
) -> Path:
    """Write an edit version (default: the latest) of an asset as a Lightroom-compatible
    sidecar: at ``out``, or where :func:`kilo.xmp_packets.sidecar_location` puts it (next to a local
    original). Returns the sidecar's path."""
    from kilo.edit.photo import asset_row, original_uri
    from kilo.edit.versions import get_version, latest_version, version_params
    from kilo.imaging.sniff import is_raw_name
    from kilo.store import is_local, local_path

    row = asset_row(catalog, asset_id)
    v = get_version(catalog, version_id) if version_id else latest_version(catalog, row["id"])
    if v is None:
        raise InvalidInput("this photo has no edit version yet")
    src, _ = original_uri(catalog, row["id"])
    if out is None:
        if not is_local(src):
            raise InvalidInput("the original is not a local file: give --out")
        out = local_path(xmp_packets.sidecar_location(src, row["id"], catalog.settings.store_url))
    size = (row["width_px"], row["height_px"]) if row["width_px"] else None
    return write_xmp_sidecar(version_params(v), out, raw=is_raw_name(src), size=size, name=v.name)


# -- reading ----------------------------------------------------------------------------------
def _settings(root: ET.Element) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """(crs scalars, crs sequences, kilo scalars) from every rdf:Description."""
    scalars: dict[str, str] = {}
    seqs: dict[str, list[str]] = {}
    for key, value in xmp_packets.read_properties(root, NS["crs"]).items():
        if isinstance(value, list):
            seqs[key] = value
        else:
            scalars[key] = value
    own = {
        k: v for k, v in xmp_packets.read_properties(root, NS["kilo"]).items() if isinstance(v, str)
    }
    return scalars, seqs, own


def _num(scalars: dict[str, str], key: str) -> float | None:
    if key not in scalars:
        return None
    try:
        return float(scalars[key].strip())
    except ValueError:
        raise InvalidInput(f"XMP crs:{key} is not a number: {scalars[key]!r}") from None


def xmp_to_params(text: str | bytes, *, size: tuple[int, int] | None = None) -> EditParams:
    """Read Lightroom develop settings (``crs:``) from an XMP packet into EditParams."""
    try:
        root = xmp_packets.parse_packet(text, any_root=True)
    except DecodeError as exc:
        raise InvalidInput(f"not a readable XMP packet: {exc.reason}") from None
    scalars, seqs, own = _settings(root)
    if not scalars and not own:
        raise InvalidInput("the XMP holds no camera-raw (crs:) develop settings")
    data: dict[str, Any] = {}
    exposure = _num(scalars, "Exposure2012")
    if exposure is None:
        exposure = _num(scalars, "Exposure")
    if exposure is not None:
        data["exposure"] = exposure
    for field, key in _INT_SLIDERS.items():
        value = _num(scalars, key)
        if value is not None:
            data[field] = value
    if scalars.get("WhiteBalance", "Custom") != "As Shot":
        kelvin = _num(scalars, "Temperature")
        if kelvin is not None:
            data["temperature"] = kelvin
            data["tint"] = _num(scalars, "Tint") or 0.0
        incr = _num(scalars, "IncrementalTemperature")
        if incr is not None and kelvin is None:
            data["temperature"] = round(1e6 / (mired(AS_SHOT_K) - incr / _INCR_PER_MIRED), 1)
            data["tint"] = (_num(scalars, "IncrementalTint") or 0.0) * 1.5
    hsl: dict[str, dict[str, float]] = {}
    for band in HSL_BANDS:
        for attr, prefix in _HSL_KEYS.items():
            value = _num(scalars, prefix + band.capitalize())
            if value:
                hsl.setdefault(band, {})[attr] = value
    if hsl:
        data["hsl"] = hsl
    for field, key in (
        ("sharpness", "Sharpness"),
        ("luminance_smoothing", "LuminanceSmoothing"),
        ("color_noise_reduction", "ColorNoiseReduction"),
    ):
        value = _num(scalars, key)
        if value is not None:
            data[field] = value
    curve = seqs.get("ToneCurvePV2012")
    if curve and scalars.get("ToneCurveName2012", "Custom") != "Linear":
        data["tone_curve"] = curve
    if own.get("Aspect"):
        data["aspect"] = own["Aspect"]
    if "Straighten" in own:
        data["straighten"] = float(own["Straighten"])
    elif _num(scalars, "CropAngle"):
        data["straighten"] = -(_num(scalars, "CropAngle") or 0.0)
    if own.get("Crop"):
        left, top, right, bottom = (float(v) for v in own["Crop"].split(","))
        data["crop"] = {"left": left, "top": top, "right": right, "bottom": bottom}
    elif scalars.get("HasCrop", "False").lower() == "true" and not data.get("straighten"):
        data["crop"] = {
            "left": _num(scalars, "CropLeft") or 0.0,
            "top": _num(scalars, "CropTop") or 0.0,
            "right": _num(scalars, "CropRight") or 1.0,
            "bottom": _num(scalars, "CropBottom") or 1.0,
        }
    # a Lightroom crop on a straightened photo is kept as the angle only (kilo re-derives the
    # largest upright rectangle); its rotated corners have no exact kilo equivalent
    return EditParams.parse(data)


def read_xmp_sidecar(path: str | Path) -> EditParams:
    """Read a sidecar file written by kilo, Lightroom or Camera Raw."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the sidecar: {exc.strerror}", path=str(path)) from None
    return xmp_to_params(data)
