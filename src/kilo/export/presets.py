"""Export presets: what each one renders from one photo.

=====================  =============================================================
``full_res``           full size, JPEG quality 95 (``format: tiff``: 16-bit TIFF), EXIF
                       copied with orientation 1, GPS removed with ``stripGps``, sRGB ICC
``web``                long edge 2048 (``longEdgePx``), quality 85, sRGB, minimal
                       metadata (date, artist, copyright; never GPS), screen sharpening
``instagram_carousel`` 1080x1350 (4:5) framed on the subject; panoramas (2:1 and wider)
                       become consecutive slides
``story_9x16``         1080x1920 framed on the subject, or the whole photo on a blurred
                       fill when a crop would keep less than half of it
``contact_sheet_pdf``  a proofing PDF (see :mod:`kilo.export.contact_sheet`)
=====================  =============================================================

:func:`render_photo` is a pure function of a :class:`PhotoTask` (picklable), so an export
renders its photos on every core.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from kilo.errors import InvalidInput, KiloError
from kilo.export import crop as cropping
from kilo.export.encode import (
    dump_exif,
    encode_jpeg,
    encode_tiff16,
    load_exif,
    prepare_exif,
    srgb_icc,
)
from kilo.export.naming import DEFAULT_TEMPLATE, check_template
from kilo.export.render import load_raw16, read_original, render_source
from kilo.export.watermark import (
    Watermark,
    apply_watermark,
    apply_watermark16,
    asset_logo,
    parse_watermark,
)
from kilo.settings import Settings

PRESETS: tuple[str, ...] = (
    "full_res",
    "web",
    "instagram_carousel",
    "story_9x16",
    "contact_sheet_pdf",
)
PHOTO_PRESETS = PRESETS[:4]
CAROUSEL_SIZE = (1080, 1350)
STORY_SIZE = (1080, 1920)
DEFAULT_QUALITY = {"full_res": 95, "web": 85, "instagram_carousel": 90, "story_9x16": 90}
WEB_LONG_EDGE = 2048


Paper = Literal["A4", "Letter"]


class ExportSettings(BaseModel):
    """The ``settings`` object of an export (camelCase keys, as in the HTTP contract).

    Validated with the context ``{"allow_local_paths": False}`` (see :func:`parse_settings`)
    no setting names a file on this machine: a watermark logo is then an asset id.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    jpeg_quality: int | None = Field(default=None, ge=1, le=100)
    long_edge_px: int | None = Field(default=None, ge=16, le=30000)
    format: Literal["jpeg", "tiff"] = "jpeg"
    strip_gps: bool = False
    watermark: Any = None
    sharpen: bool | None = None
    name_template: str = Field(default=DEFAULT_TEMPLATE, max_length=200)
    zip: bool = False
    #: contact sheet
    paper: Paper = "A4"
    columns: int = Field(default=4, ge=2, le=8)
    title: str | None = Field(default=None, max_length=200)
    #: fixed-aspect presets
    split_panoramas: bool = True
    fill: Literal["auto", "crop", "blur"] = "auto"

    @field_validator("name_template")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_template(value)

    @field_validator("watermark")
    @classmethod
    def _watermark(cls, value: Any, info: ValidationInfo) -> Any:
        local = bool((info.context or {}).get("allow_local_paths", True))
        wm = parse_watermark(value, allow_local_paths=local)
        return None if wm is None else wm.model_dump(exclude_none=True, by_alias=True)

    def quality_for(self, preset: str) -> int:
        return self.jpeg_quality or DEFAULT_QUALITY.get(preset, 90)

    def watermark_spec(self) -> Watermark | None:
        return parse_watermark(self.watermark)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def parse_settings(
    preset: str,
    settings: dict[str, Any] | ExportSettings | None,
    *,
    allow_local_paths: bool = True,
) -> ExportSettings:
    """Validated settings; unknown keys and bad values raise :class:`InvalidInput`.

    ``allow_local_paths=False`` for settings from someone who may not read this machine's
    files (the HTTP server): a watermark's ``image`` must then be an asset id (stored as
    ``imageAsset``) and a watermark string is always a text.
    """
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r} (one of {', '.join(PRESETS)})")
    if isinstance(settings, ExportSettings):
        if allow_local_paths:
            return settings
        settings = settings.model_dump(by_alias=True, exclude_defaults=True)
    try:
        parsed = ExportSettings.model_validate(
            dict(settings or {}), context={"allow_local_paths": allow_local_paths}
        )
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "settings"
            if err["type"] == "extra_forbidden":
                parts.append(f"unknown setting {loc!r}")
            else:
                parts.append(f"{loc}: {err['msg']}")
        raise InvalidInput("invalid export settings: " + "; ".join(parts)) from None
    if parsed.format == "tiff" and preset != "full_res":
        raise InvalidInput("format 'tiff' is only available with the full_res preset")
    return parsed


@dataclass(slots=True)
class PhotoTask:
    """Everything a worker needs to render one photo (no catalog access)."""

    index: int
    asset_id: str
    source_uri: str
    preset: str
    settings: dict[str, Any]
    staging_dir: str
    frame: int = 0
    edit_params: dict[str, Any] | None = None
    width: int | None = None
    height: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    settings_obj: Settings | None = None
    #: the stored file of the watermark's ``imageAsset`` logo, found in the catalog by the
    #: export job (never taken from a request)
    watermark_logo: str | None = None


@dataclass(slots=True)
class RenderedFile:
    """One file written in the staging folder; ``part`` numbers carousel slides."""

    path: str
    ext: str
    width: int
    height: int
    part: int = 0
    parts: int = 1
    byte_size: int = 0
    #: carousel and story: what the crop was framed on (``faces``, ``saliency``, ``centre``,
    #: ``whole`` for a blurred fill, ``slides`` for a panorama), with the note of a fallback
    framing: str = ""
    framing_note: str = ""


def decode_size(preset: str, opts: ExportSettings, size: tuple[int, int] | None) -> int | None:
    """Long edge to decode at: enough pixels for the preset, no more (None = full size)."""
    if preset == "full_res":
        return opts.long_edge_px
    if preset == "web":
        return opts.long_edge_px or WEB_LONG_EDGE
    out = CAROUSEL_SIZE if preset == "instagram_carousel" else STORY_SIZE
    if size is None or not size[0] or not size[1]:
        return 2 * max(out)
    width, height = size
    aspect = out[0] / out[1]
    if preset == "instagram_carousel" and opts.split_panoramas and width / height >= 2.0:
        n = max(2, min(10, round((width / height) / aspect)))
        aspect *= n
        out = (out[0] * n, out[1])
    crop_w, crop_h = min(width, height * aspect), min(height, width / aspect)
    scale = max(out[0] / crop_w, out[1] / crop_h)
    return max(out) if scale >= 1 else math.ceil(max(width, height) * scale) + 2


def sharpen_for_screen(img: Image.Image, scale: float) -> Image.Image:
    """Output sharpening after a downscale (stronger the more the photo was shrunk)."""
    return unsharp_mask(img, 0.8, 70 if scale < 0.5 else 45)


def unsharp_mask(img: Image.Image, sigma: float, percent: int, threshold: int = 2) -> Image.Image:
    """Pillow's ``UnsharpMask(sigma, percent, threshold)`` done with OpenCV on 8-bit planes:
    the same operation (a Gaussian of standard deviation ``sigma``; pixels that differ from
    it by no more than ``threshold`` are left alone), 14x faster on a 2048 px photo (6-7 ms
    instead of 95), which made output sharpening most of a web export's time."""
    import cv2 as cv

    cv2: Any = cv  # its stubs refuse a scalar threshold, which it takes
    rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    side = 2 * math.ceil(2.5 * sigma) + 1  # +-2.5 sigma: what is left out weighs < 0.1 %
    blur = cv2.GaussianBlur(rgb, (side, side), sigma)
    amount = percent / 100.0
    sharp = cv2.addWeighted(rgb, 1.0 + amount, blur, -amount, 0.0)  # saturates to 0..255
    keep = cv2.compare(cv2.absdiff(rgb, blur), threshold, cv2.CMP_LE)  # 255 where unchanged
    cv2.copyTo(rgb, keep, sharp)  # those pixels (per channel) back from the original
    return Image.fromarray(sharp)


def _resize_long_edge(img: Image.Image, long_edge: int) -> tuple[Image.Image, float]:
    scale = long_edge / max(img.size)
    if scale >= 1:
        return img, 1.0
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), scale


def source_exif(data: bytes, uri: str) -> dict[str, Any] | None:
    """The original's EXIF as a piexif dict (JPEG, TIFF/DNG, HEIC, PNG, WebP)."""
    head = data[:4]
    if head[:2] == b"\xff\xd8" or head in (b"II*\x00", b"MM\x00*"):
        return load_exif(data)
    try:
        if uri.lower().endswith((".heic", ".heif")):
            import pillow_heif

            pillow_heif.register_heif_opener()
        with Image.open(io.BytesIO(data)) as im:
            raw = im.info.get("exif")
            if not raw:
                exif = im.getexif()
                raw = exif.tobytes() if len(exif) else None
            if isinstance(raw, bytes) and not raw.startswith(b"Exif"):
                raw = b"Exif\x00\x00" + raw
            return load_exif(raw)
    except (OSError, ValueError, SyntaxError):
        return None


def _fallback_exif(meta: dict[str, Any]) -> dict[str, Any]:
    """Minimal EXIF from catalog columns when the original carries none we can read."""
    zeroth: dict[int, Any] = {}
    exif: dict[int, Any] = {}
    if meta.get("camera_make"):
        zeroth[271] = str(meta["camera_make"]).encode()
    if meta.get("camera_model"):
        zeroth[272] = str(meta["camera_model"]).encode()
    when = meta.get("captured_at")
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            when = None
    if isinstance(when, datetime):
        exif[36867] = when.strftime("%Y:%m:%d %H:%M:%S").encode()
    return {"0th": zeroth, "Exif": exif, "GPS": {}}


def _write(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    return len(data)


def _asset_logo(wm: Watermark | None, task: PhotoTask, settings: Settings) -> Image.Image | None:
    """The decoded logo of an ``imageAsset`` watermark (None for any other watermark)."""
    if wm is None or wm.image_asset is None:
        return None
    if not task.watermark_logo:
        raise InvalidInput("the watermark logo was not found")
    try:
        return asset_logo(task.watermark_logo, lambda uri: read_original(uri, settings))
    except KiloError:  # its reason names the store's file
        raise InvalidInput("the watermark logo cannot be read") from None


def render_photo(task: PhotoTask) -> list[RenderedFile]:
    """Render one photo for its preset into the staging folder; returns the files written."""
    preset = task.preset
    if preset not in PHOTO_PRESETS:
        raise InvalidInput(f"render_photo does not handle the {preset!r} preset")
    opts = parse_settings(preset, task.settings)
    settings = task.settings_obj or Settings()
    size = (task.width, task.height) if task.width and task.height else None
    max_px = decode_size(preset, opts, size)
    wm = opts.watermark_spec()
    logo = _asset_logo(wm, task, settings)
    staging = Path(task.staging_dir)
    quality = opts.quality_for(preset)
    base = staging / f"{task.index:06d}"
    data = read_original(task.source_uri, settings)
    name = task.meta.get("filename") or task.source_uri
    exif_src: dict[str, Any] | None = None
    if preset == "full_res":
        exif_src = source_exif(data, name) or _fallback_exif(task.meta)
        if opts.format == "tiff":
            rgb16 = None if task.edit_params else load_raw16(data, name)
            if rgb16 is None:
                img, _ = render_source(
                    data, name, task.edit_params, max_px=max_px, frame=task.frame
                )
                rgb16 = np.asarray(img.convert("RGB"), dtype=np.uint16) * 257
            elif opts.long_edge_px and max(rgb16.shape[:2]) > opts.long_edge_px:
                img8 = Image.fromarray((rgb16 >> 8).astype(np.uint8))
                img8, _ = _resize_long_edge(img8, opts.long_edge_px)
                rgb16 = np.asarray(img8, dtype=np.uint16) * 257
            rgb16 = apply_watermark16(rgb16, wm, logo)
            h, w = rgb16.shape[:2]
            exif = prepare_exif(exif_src, size=(w, h), strip_gps=opts.strip_gps)
            out = base.with_suffix(".tif")
            n = _write(out, encode_tiff16(rgb16, exif=exif, icc=srgb_icc()))
            return [RenderedFile(str(out), "tif", w, h, byte_size=n)]
    img, full = render_source(data, name, task.edit_params, max_px=max_px, frame=task.frame)
    frames: list[Image.Image]
    framing = ("", "")
    if preset == "full_res":
        if opts.long_edge_px:
            img, _ = _resize_long_edge(img, opts.long_edge_px)
        frames = [img]
    elif preset == "web":
        img, _ = _resize_long_edge(img, opts.long_edge_px or WEB_LONG_EDGE)
        scale = max(img.size) / max(full)
        if opts.sharpen is not False and scale < 1:
            img = sharpen_for_screen(img, scale)
        frames = [img]
    else:
        frames, framing = frame_for_social(img, preset, opts)
    exif_dict = (
        prepare_exif(exif_src, size=frames[0].size, strip_gps=opts.strip_gps)
        if preset == "full_res"
        else None
    )
    results: list[RenderedFile] = []
    for part, frame in enumerate(frames):
        frame = apply_watermark(frame, wm, logo)
        if exif_dict is None:
            minimal = prepare_exif(
                _fallback_exif({"captured_at": task.meta.get("captured_at")}),
                size=frame.size,
                minimal=True,
            )
            exif_bytes = dump_exif(minimal)
        else:
            exif_bytes = dump_exif(exif_dict)
        out = Path(f"{base}-{part:02d}.jpg")
        n = _write(out, encode_jpeg(frame, quality=quality, exif=exif_bytes, icc=srgb_icc()))
        results.append(
            RenderedFile(str(out), "jpg", frame.width, frame.height, part, len(frames), n, *framing)
        )
    return results


def frame_for_social(
    img: Image.Image, preset: str, opts: ExportSettings
) -> tuple[list[Image.Image], tuple[str, str]]:
    """The carousel slides or the story frame for ``img``, and what they were framed on
    (``faces``, ``saliency``, ``centre``, ``whole`` or ``slides``) with the note of a fallback."""
    out = CAROUSEL_SIZE if preset == "instagram_carousel" else STORY_SIZE
    aspect = out[0] / out[1]
    if preset == "instagram_carousel" and opts.split_panoramas:
        slides = cropping.panorama_slides(img, out)
        if slides is not None:
            return [_finish_social(s, opts) for s in slides], ("slides", "")
    kept = cropping.kept_fraction(img.size, aspect)
    min_kept = 0.5 if preset == "story_9x16" else 0.4
    use_blur = opts.fill == "blur" or (opts.fill == "auto" and kept < min_kept)
    if use_blur:
        return [_finish_social(cropping.frame_blur_fill(img, out), opts)], ("whole", "")
    subject = cropping.find_subject(img)
    framed = cropping.frame_crop(img, out, subject)
    return [_finish_social(framed, opts)], (subject.source, subject.note)


def _finish_social(img: Image.Image, opts: ExportSettings) -> Image.Image:
    if opts.sharpen is False:
        return img
    return unsharp_mask(img, 0.6, 40)
