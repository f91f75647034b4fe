"""Watermarks burned into the pixels: a line of text or a logo image, placed in a corner, the
centre or tiled, at a given opacity.

Sizes are relative to the photo (text height and logo width as a fraction of the long edge), so
the same settings look the same on a 1080 px story and a 24 MP full-size file.

A logo is either ``image``, a file on this machine (the library and the CLI: a local user
naming their own file), or ``imageAsset``, the id of a photo in the catalog whose stored file
the export job reads. Requests from other people (the HTTP server) are parsed with
``allow_local_paths=False``: there ``image`` must be an asset id and becomes ``imageAsset``,
and a plain string is always a text, never looked up on disk.
"""

from __future__ import annotations

import io
import math
import uuid
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from kilo.errors import InvalidInput

Position = Literal["bottom-right", "bottom-left", "top-right", "top-left", "center", "tiled"]
POSITIONS: tuple[str, ...] = (
    "bottom-right",
    "bottom-left",
    "top-right",
    "top-left",
    "center",
    "tiled",
)
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans.ttf",
)
_LOGO_SUFFIXES = (".png", ".webp", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp")
#: a logo is shrunk to this long edge when it is read (it covers at most half a photo)
LOGO_MAX_PX = 2048
_NOT_AN_ASSET = (
    "watermark.image must be the id of one of your photos (upload the logo first); "
    "file paths and URLs are not accepted"
)
Channel = Annotated[int, Field(ge=0, le=255)]


class Watermark(BaseModel):
    """A watermark: ``text``, ``image`` (a logo file on this machine; library and CLI only) or
    ``imageAsset`` (the id of a photo in the catalog used as the logo; PNG with alpha is best)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    text: str | None = Field(default=None, max_length=200)
    image: str | None = None
    image_asset: str | None = None
    position: Position = "bottom-right"
    opacity: float = Field(default=0.6, ge=0.0, le=1.0)
    #: text height (or logo width) as a fraction of the photo's long edge
    scale: float = Field(default=0.035, gt=0.0, le=0.5)
    #: distance to the edges as a fraction of the long edge
    margin: float = Field(default=0.02, ge=0.0, le=0.25)
    color: tuple[Channel, Channel, Channel] = (255, 255, 255)

    @field_validator("image_asset")
    @classmethod
    def _asset_id(cls, value: str | None) -> str | None:
        return None if value is None else asset_id_of(value)

    @model_validator(mode="after")
    def _one_source(self) -> Watermark:
        if sum(bool(v) for v in (self.text, self.image, self.image_asset)) != 1:
            raise InvalidInput("a watermark needs exactly one of text, image or imageAsset")
        return self


def asset_id_of(value: Any) -> str:
    """``value`` as a canonical asset id; the refusal never repeats what was given."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(_NOT_AN_ASSET) from None


def _remote_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A watermark object from someone else: ``image`` names an asset, never a file."""
    image = data.pop("image", None)
    if image is None or image == "":
        return data
    if not isinstance(image, str) or data.get("imageAsset") or data.get("image_asset"):
        raise InvalidInput(_NOT_AN_ASSET)
    data["imageAsset"] = asset_id_of(image)
    return data


def parse_watermark(value: Any, *, allow_local_paths: bool = True) -> Watermark | None:
    """A watermark from an export setting: false/None, a text, a logo path, or an object.

    With ``allow_local_paths=False`` (a request over the network) nothing names a file on
    this machine: a string is a text and an object's ``image`` must be an asset id.
    """
    if value is None or value is False or value == "":
        return None
    if isinstance(value, Watermark):
        if not allow_local_paths:
            return parse_watermark(value.model_dump(exclude_none=True), allow_local_paths=False)
        return value
    if value is True:
        raise InvalidInput("watermark: true needs a text or a logo (watermark: 'text' or {...})")
    if isinstance(value, str):
        if allow_local_paths:
            path = Path(value).expanduser()
            if path.suffix.lower() in _LOGO_SUFFIXES and path.is_file():
                return Watermark(image=str(path.absolute()), scale=0.15)
        return Watermark(text=value)
    if isinstance(value, dict):
        data = dict(value) if allow_local_paths else _remote_dict(dict(value))
        if (data.get("image") or data.get("imageAsset") or data.get("image_asset")) and (
            "scale" not in data
        ):
            data["scale"] = 0.15
        try:
            return Watermark.model_validate(data)
        except InvalidInput:
            raise
        except Exception as exc:
            raise InvalidInput(f"watermark settings are not valid: {_first_error(exc)}") from None
    raise InvalidInput("watermark must be false, a text, a logo or an object")


def _first_error(exc: Exception) -> str:
    """A validation error's first problem without the input it saw."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        for err in errors():
            where = ".".join(str(p) for p in err.get("loc", ())) or "watermark"
            return f"{where}: {err.get('msg', 'invalid')}"
    return type(exc).__name__


@lru_cache(maxsize=32)
def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans Bold when present, else Pillow's bundled scalable default font."""
    for candidate in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


@lru_cache(maxsize=8)
def _load_logo(path: str) -> Image.Image:
    """A logo file on this machine (a trusted, local caller named it)."""
    try:
        with Image.open(path) as im:
            return im.convert("RGBA")
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the watermark logo: {exc}", path=path) from None


def decode_logo(data: bytes) -> Image.Image:
    """A logo from the bytes of an asset's stored file, as RGBA (long edge at most
    :data:`LOGO_MAX_PX`). The error says nothing about where the file is."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (LOGO_MAX_PX, LOGO_MAX_PX))
            logo = im.convert("RGBA")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        try:  # HEIC, RAW ...: kilo's decoder (no alpha)
            from kilo.imaging import decode_image

            logo = decode_image(data, name="logo", max_px=LOGO_MAX_PX).image.convert("RGBA")
        except Exception:
            raise InvalidInput("the watermark logo is not an image kilo can read") from None
    if max(logo.size) > LOGO_MAX_PX:
        logo.thumbnail((LOGO_MAX_PX, LOGO_MAX_PX), Image.Resampling.LANCZOS)
    return logo


_ASSET_LOGOS: OrderedDict[str, Image.Image] = OrderedDict()


def asset_logo(uri: str, read: Callable[[str], bytes]) -> Image.Image:
    """The logo stored at ``uri`` (read with ``read``), kept for the next photos of the
    export (a few per process)."""
    logo = _ASSET_LOGOS.get(uri)
    if logo is None:
        logo = decode_logo(read(uri))
        _ASSET_LOGOS[uri] = logo
        while len(_ASSET_LOGOS) > 4:
            _ASSET_LOGOS.popitem(last=False)
    return logo


def _text_layer(wm: Watermark, width: int, height: int) -> Image.Image:
    long_edge = max(width, height)
    size = max(10, round(wm.scale * long_edge))
    font = load_font(size)
    text = wm.text or ""
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    pad = max(2, size // 6)
    w, h = math.ceil(right - left) + 2 * pad, math.ceil(bottom - top) + 2 * pad
    alpha = Image.new("L", (w, h), 0)
    ImageDraw.Draw(alpha).text((pad - left, pad - top), text, font=font, fill=255)
    # a soft dark halo keeps light text readable on bright skies
    halo = alpha.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(max(1, pad // 2)))
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    shadow = Image.new("RGBA", (w, h), (0, 0, 0, 255))
    shadow.putalpha(halo.point(lambda v: v * 0.45))
    layer = Image.alpha_composite(layer, shadow)
    fill = Image.new("RGBA", (w, h), (*wm.color, 255))
    fill.putalpha(alpha)
    return Image.alpha_composite(layer, fill)


def _logo_layer(
    wm: Watermark, width: int, height: int, logo: Image.Image | None = None
) -> Image.Image:
    if logo is None:
        if wm.image is None:  # an asset's logo is read by the export job and passed in
            raise InvalidInput("the watermark logo was not found")
        logo = _load_logo(wm.image)
    target_w = max(8, round(wm.scale * max(width, height)))
    target_w = min(target_w, width)
    target_h = max(1, round(logo.height * target_w / logo.width))
    if target_h > height:
        target_h = height
        target_w = max(1, round(logo.width * target_h / logo.height))
    return logo.resize((target_w, target_h), Image.Resampling.LANCZOS)


def watermark_box(
    img_size: tuple[int, int], wm: Watermark, logo: Image.Image | None = None
) -> tuple[int, int, int, int]:
    """Where a non-tiled watermark lands: (left, top, right, bottom) in pixels."""
    width, height = img_size
    layer = _text_layer(wm, width, height) if wm.text else _logo_layer(wm, width, height, logo)
    return _place(layer.size, img_size, wm)


def _place(
    layer_size: tuple[int, int], img_size: tuple[int, int], wm: Watermark
) -> tuple[int, int, int, int]:
    (lw, lh), (width, height) = layer_size, img_size
    m = round(wm.margin * max(width, height))
    pos = wm.position
    x = {"left": m, "right": width - lw - m}.get(pos.rsplit("-", 1)[-1], (width - lw) // 2)
    y = {"top": m, "bottom": height - lh - m}.get(pos.split("-", 1)[0], (height - lh) // 2)
    x = max(0, min(x, width - lw))
    y = max(0, min(y, height - lh))
    return x, y, x + lw, y + lh


def _layer(wm: Watermark, size: tuple[int, int], logo: Image.Image | None) -> Image.Image:
    width, height = size
    layer = _text_layer(wm, width, height) if wm.text else _logo_layer(wm, width, height, logo)
    if wm.opacity < 1:
        layer.putalpha(layer.getchannel("A").point(lambda v: round(v * wm.opacity)))
    return layer


def watermark_overlay(
    size: tuple[int, int], wm: Watermark, logo: Image.Image | None = None
) -> Image.Image:
    """The watermark on a transparent RGBA canvas of ``size`` (for compositing elsewhere);
    ``logo``: the decoded logo of an ``imageAsset`` watermark."""
    width, height = size
    layer = _layer(wm, size, logo)
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    if wm.position != "tiled":
        overlay.alpha_composite(layer, _place(layer.size, size, wm)[:2])
        return overlay
    step_x = layer.width + round(0.15 * width)
    step_y = layer.height + round(0.15 * height)
    for row, y in enumerate(range(-layer.height // 2, height, max(1, step_y))):
        offset = (step_x // 2) if row % 2 else 0
        for x in range(-offset, width, max(1, step_x)):
            if -x >= layer.width or -y >= layer.height:  # this tile starts off the canvas
                continue
            overlay.alpha_composite(layer, (max(x, 0), max(y, 0)), (max(-x, 0), max(-y, 0)))
    return overlay


def apply_watermark(
    img: Image.Image, wm: Watermark | None, logo: Image.Image | None = None
) -> Image.Image:
    """``img`` (RGB) with the watermark burned in; ``img`` itself is not changed."""
    if wm is None or wm.opacity <= 0:
        return img
    if wm.position != "tiled":
        layer = _layer(wm, img.size, logo)
        box = _place(layer.size, img.size, wm)
        region = img.crop(box).convert("RGBA")
        region.alpha_composite(layer)
        out = img.convert("RGB") if img.mode != "RGB" else img.copy()
        out.paste(region.convert("RGB"), box[:2])
        return out
    base = img.convert("RGBA")
    return Image.alpha_composite(base, watermark_overlay(img.size, wm, logo)).convert("RGB")


def apply_watermark16(
    rgb16: np.ndarray, wm: Watermark | None, logo: Image.Image | None = None
) -> np.ndarray:
    """The same watermark composited into a 16-bit ``HxWx3`` array."""
    if wm is None or wm.opacity <= 0:
        return rgb16
    height, width = rgb16.shape[:2]
    overlay = np.asarray(watermark_overlay((width, height), wm, logo), dtype=np.float32) / 255.0
    alpha = overlay[:, :, 3:4]
    mixed = rgb16.astype(np.float32) * (1 - alpha) + overlay[:, :, :3] * 65535.0 * alpha
    return np.clip(mixed + 0.5, 0, 65535).astype(np.uint16)
