"""The edit parameter set: typed, versioned, with ranges and units.

Names follow Lightroom's develop settings (``crs:`` in XMP) wherever one exists, so that the
XMP mapping in :mod:`kilo.edit.develop_sidecar` is one-to-one:

============================  ==================  ==========================================
field (JSON key)              Lightroom / XMP     unit and range
============================  ==================  ==========================================
``exposure``                  Exposure2012        EV, -5 .. +5
``contrast``                  Contrast2012        -100 .. +100
``highlights``                Highlights2012      -100 .. +100
``shadows``                   Shadows2012         -100 .. +100
``whites``                    Whites2012          -100 .. +100
``blacks``                    Blacks2012          -100 .. +100
``temperature``               Temperature         kelvin, 2000 .. 50000 (6500 = as shot)
``tint``                      Tint                -150 (green) .. +150 (magenta)
``vibrance``                  Vibrance            -100 .. +100
``saturation``                Saturation          -100 .. +100
``hsl.<band>.hue|sat|lum``    HueAdjustment<B>..  -100 .. +100, bands red .. magenta
``toneCurve``                 ToneCurvePV2012     2..16 points (x, y) in 0 .. 255
``crop``                      CropLeft/Top/...    normalised rect, 0 .. 1
``aspect``                    (kilo)              free, original, 1:1, 4:5, 3:2, 16:9 ...
``straighten``                CropAngle           degrees, -45 .. +45 (+ = counter-clockwise)
``sharpness``                 Sharpness           0 .. 150
``luminanceSmoothing``        LuminanceSmoothing  0 .. 100
``colorNoiseReduction``       ColorNoiseReduction 0 .. 100
============================  ==================  ==========================================

The temperature is the color of the light the photo is corrected *from*, as in Lightroom:
a lower value renders bluer, a higher one warmer; 6500 K (with tint 0) leaves a rendered
photo (JPEG, HEIC, a developed RAW) as shot.

Every way in (:meth:`EditParams.parse`, ``EditParams(...)``, ``model_validate``) raises
:class:`kilo.errors.InvalidInput` naming the bad key, never a bare pydantic error.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from kilo.errors import InvalidInput

PARAMS_VERSION = 1
AS_SHOT_K = 6500.0
HSL_BANDS: tuple[str, ...] = (
    "red",
    "orange",
    "yellow",
    "green",
    "aqua",
    "blue",
    "purple",
    "magenta",
)
#: aspect presets: name -> width / height (None = free, "original" = the photo's own)
ASPECTS: dict[str, float | None] = {
    "free": None,
    "original": None,
    "1:1": 1.0,
    "4:5": 4 / 5,
    "5:4": 5 / 4,
    "2:3": 2 / 3,
    "3:2": 3 / 2,
    "3:4": 3 / 4,
    "4:3": 4 / 3,
    "9:16": 9 / 16,
    "16:9": 16 / 9,
}
AspectName = Literal[
    "free", "original", "1:1", "4:5", "5:4", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9"
]
IDENTITY_CURVE: tuple[tuple[float, float], ...] = ((0.0, 0.0), (255.0, 255.0))

Slider = Field(default=0.0, ge=-100.0, le=100.0)


def _format_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "params"
        kind = err["type"]
        if kind == "extra_forbidden":
            parts.append(f"unknown edit parameter {loc!r}")
        else:
            parts.append(f"{loc}: {err['msg']}")
    return "invalid edit parameters: " + "; ".join(parts)


class _Strict(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class HslBand(_Strict):
    """Hue shift, saturation and luminance of one color band, each -100 .. +100."""

    hue: float = Slider
    sat: float = Slider
    lum: float = Slider

    def is_identity(self) -> bool:
        return self.hue == 0 and self.sat == 0 and self.lum == 0


class Hsl(_Strict):
    """The eight Lightroom HSL bands."""

    red: HslBand = HslBand()
    orange: HslBand = HslBand()
    yellow: HslBand = HslBand()
    green: HslBand = HslBand()
    aqua: HslBand = HslBand()
    blue: HslBand = HslBand()
    purple: HslBand = HslBand()
    magenta: HslBand = HslBand()

    def band(self, name: str) -> HslBand:
        value = getattr(self, name)
        assert isinstance(value, HslBand)
        return value

    def is_identity(self) -> bool:
        return all(self.band(b).is_identity() for b in HSL_BANDS)


class CropRect(_Strict):
    """A crop as fractions of the (straightened) photo: 0 <= left < right <= 1, same for y."""

    left: float = Field(default=0.0, ge=0.0, le=1.0)
    top: float = Field(default=0.0, ge=0.0, le=1.0)
    right: float = Field(default=1.0, ge=0.0, le=1.0)
    bottom: float = Field(default=1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> CropRect:
        if self.right - self.left < 0.01 or self.bottom - self.top < 0.01:
            raise ValueError("crop needs left < right and top < bottom (at least 1% each)")
        return self

    def is_full(self) -> bool:
        return (self.left, self.top, self.right, self.bottom) == (0.0, 0.0, 1.0, 1.0)


class EditParams(_Strict):
    """A complete, versioned, non-destructive edit. All defaults = the photo as shot."""

    FIELDS_2012: ClassVar[tuple[str, ...]] = (
        "exposure",
        "contrast",
        "highlights",
        "shadows",
        "whites",
        "blacks",
    )
    #: the global tone and color sliders, in panel order (what Style DNA learns)
    GLOBAL_FIELDS: ClassVar[tuple[str, ...]] = (
        *FIELDS_2012,
        "temperature",
        "tint",
        "vibrance",
        "saturation",
    )
    #: every setting that is one number (one CLI option each)
    SCALAR_FIELDS: ClassVar[tuple[str, ...]] = (
        *GLOBAL_FIELDS,
        "sharpness",
        "luminance_smoothing",
        "color_noise_reduction",
        "straighten",
    )

    version: Literal[1] = 1
    exposure: float = Field(default=0.0, ge=-5.0, le=5.0, description="EV")
    contrast: float = Slider
    highlights: float = Slider
    shadows: float = Slider
    whites: float = Slider
    blacks: float = Slider
    temperature: float = Field(default=AS_SHOT_K, ge=2000.0, le=50000.0, description="K")
    tint: float = Field(default=0.0, ge=-150.0, le=150.0)
    vibrance: float = Slider
    saturation: float = Slider
    hsl: Hsl = Hsl()
    tone_curve: tuple[tuple[float, float], ...] = IDENTITY_CURVE
    crop: CropRect = CropRect()
    aspect: AspectName = "free"
    straighten: float = Field(default=0.0, ge=-45.0, le=45.0, description="degrees")
    sharpness: float = Field(default=0.0, ge=0.0, le=150.0)
    luminance_smoothing: float = Field(default=0.0, ge=0.0, le=100.0)
    color_noise_reduction: float = Field(default=0.0, ge=0.0, le=100.0)

    @model_validator(mode="wrap")
    @classmethod
    def _kilo_errors(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise InvalidInput(_format_errors(exc)) from None

    @field_validator("tone_curve", mode="before")
    @classmethod
    def _curve_points(cls, value: Any) -> Any:
        points = []
        try:
            for p in value:
                if isinstance(p, str):  # the XMP form "x, y"
                    x, y = (float(v) for v in p.split(","))
                elif isinstance(p, dict):
                    x, y = float(p["x"]), float(p["y"])
                else:
                    x, y = (float(v) for v in p)
                points.append((x, y))
        except (TypeError, ValueError, KeyError):
            raise ValueError("tone curve points are [x, y] pairs of numbers") from None
        if not 2 <= len(points) <= 16:
            raise ValueError("a tone curve has 2 to 16 points")
        for x, y in points:
            if not (0 <= x <= 255 and 0 <= y <= 255):
                raise ValueError("tone curve coordinates are within 0 .. 255")
        xs = [x for x, _ in points]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise ValueError("tone curve x values must strictly increase")
        return tuple(points)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def parse(cls, data: dict[str, Any] | EditParams | None) -> EditParams:
        """Validate a params object (camelCase or snake_case keys); None = defaults."""
        if data is None:
            return cls()
        if isinstance(data, EditParams):
            return data
        if not isinstance(data, dict):
            raise InvalidInput("edit parameters must be a JSON object")
        return cls.model_validate(data)

    def with_changes(self, **changes: Any) -> EditParams:
        """A validated copy with some fields changed (snake_case or camelCase names)."""
        merged = self.model_dump()
        for key, value in changes.items():
            merged[_snake(key)] = value
        return EditParams.model_validate(merged)

    def merged(self, patch: dict[str, Any]) -> EditParams:
        """Deep-merge a partial params object (as the API sends) over this one."""
        if not isinstance(patch, dict):
            raise InvalidInput("edit parameters must be a JSON object")
        base = self.dump(compact=False)
        for key, value in patch.items():
            alias = to_camel(key)
            if isinstance(value, dict) and isinstance(base.get(alias), dict):
                inner = dict(base[alias])
                for k2, v2 in value.items():
                    if isinstance(v2, dict) and isinstance(inner.get(k2), dict):
                        inner[k2] = {**inner[k2], **v2}
                    else:
                        inner[k2] = v2
                base[alias] = inner
            else:
                base[alias] = value
        return EditParams.model_validate(base)

    # -- output ---------------------------------------------------------------------------
    def dump(self, *, compact: bool = True) -> dict[str, Any]:
        """JSON form (camelCase). ``compact`` leaves out defaults but always keeps version."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=compact)
        data["version"] = PARAMS_VERSION
        if "toneCurve" in data:
            data["toneCurve"] = [list(p) for p in data["toneCurve"]]
        return data

    def is_identity(self) -> bool:
        """True when rendering changes nothing (the photo as shot)."""
        return self == EditParams()

    def geometry_only(self) -> EditParams:
        """Just crop, aspect and straighten (what a sync usually leaves out)."""
        return EditParams(crop=self.crop, aspect=self.aspect, straighten=self.straighten)

    def without_geometry(self) -> EditParams:
        return self.with_changes(crop=CropRect(), aspect="free", straighten=0.0)


def _snake(name: str) -> str:
    out = []
    for ch in name:
        if ch.isupper():
            out.append("_" + ch.lower())
        else:
            out.append(ch)
    return "".join(out)


def describe_params(params: EditParams) -> list[str]:
    """Short human lines for the non-default settings (for ``kilo edit show``)."""
    lines: list[str] = []
    if params.exposure:
        lines.append(f"exposure {params.exposure:+.2f} EV")
    for name in ("contrast", "highlights", "shadows", "whites", "blacks", "vibrance", "saturation"):
        value = getattr(params, name)
        if value:
            lines.append(f"{name} {value:+.0f}")
    if params.temperature != AS_SHOT_K or params.tint:
        lines.append(f"white balance {params.temperature:.0f} K, tint {params.tint:+.0f}")
    for band in HSL_BANDS:
        b = params.hsl.band(band)
        if not b.is_identity():
            lines.append(f"{band}: hue {b.hue:+.0f} sat {b.sat:+.0f} lum {b.lum:+.0f}")
    if params.tone_curve != IDENTITY_CURVE:
        pts = " ".join(f"({x:.0f},{y:.0f})" for x, y in params.tone_curve)
        lines.append(f"tone curve {pts}")
    if not params.crop.is_full() or params.aspect != "free":
        c = params.crop
        lines.append(
            f"crop {c.left:.3f},{c.top:.3f} - {c.right:.3f},{c.bottom:.3f} aspect {params.aspect}"
        )
    if params.straighten:
        lines.append(f"straighten {params.straighten:+.1f} deg")
    if params.sharpness:
        lines.append(f"sharpness {params.sharpness:.0f}")
    if params.luminance_smoothing or params.color_noise_reduction:
        lines.append(
            f"noise reduction luminance {params.luminance_smoothing:.0f} "
            f"color {params.color_noise_reduction:.0f}"
        )
    return lines or ["as shot (no changes)"]
