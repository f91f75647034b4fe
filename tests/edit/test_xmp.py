"""XMP sidecars: written with crs: keys Lightroom reads, read back by independent parsers."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmltodict
from PIL import Image

from kilo.edit.develop_sidecar import (
    NS,
    params_to_xmp,
    read_xmp_sidecar,
    write_xmp_sidecar,
    xmp_to_params,
)
from kilo.edit.params import EditParams
from kilo.errors import InvalidInput

CRS = "{http://ns.adobe.com/camera-raw-settings/1.0/}"
EDIT = EditParams(
    exposure=0.3,
    contrast=12,
    highlights=-40,
    shadows=25,
    whites=5,
    blacks=-8,
    temperature=5600,
    tint=8,
    vibrance=15,
    saturation=-5,
    hsl={"blue": {"sat": -20, "hue": 5}, "orange": {"lum": 10}},
    tone_curve=[[0, 0], [64, 56], [192, 200], [255, 255]],
    crop={"left": 0.1, "top": 0.05, "right": 0.9, "bottom": 0.95},
    sharpness=40,
    luminance_smoothing=10,
)


def description(text: str) -> ET.Element:
    root = ET.fromstring(text)
    desc = root.find(f".//{{{NS['rdf']}}}Description")
    assert desc is not None
    return desc


def test_crs_values_as_lightroom_writes_them() -> None:
    desc = description(params_to_xmp(EDIT, raw=True))
    a = desc.attrib
    assert a[CRS + "ProcessVersion"] == "11.0"
    assert a[CRS + "Exposure2012"] == "+0.30"
    assert a[CRS + "Contrast2012"] == "+12"
    assert a[CRS + "Highlights2012"] == "-40"
    assert a[CRS + "Shadows2012"] == "+25"
    assert a[CRS + "WhiteBalance"] == "Custom"
    assert a[CRS + "Temperature"] == "5600" and a[CRS + "Tint"] == "+8"
    assert a[CRS + "SaturationAdjustmentBlue"] == "-20"
    assert a[CRS + "LuminanceAdjustmentOrange"] == "+10"
    assert a[CRS + "Sharpness"] == "40"
    assert a[CRS + "HasCrop"] == "True" and a[CRS + "CropLeft"] == "0.100000"
    seq = desc.find(f"{CRS}ToneCurvePV2012/{{{NS['rdf']}}}Seq")
    assert seq is not None
    assert [li.text for li in seq] == ["0, 0", "64, 56", "192, 200", "255, 255"]


def test_rendered_files_use_incremental_white_balance() -> None:
    a = description(params_to_xmp(EDIT)).attrib
    assert CRS + "Temperature" not in a
    assert int(a[CRS + "IncrementalTemperature"]) < 0  # 5600 K renders cooler than as shot
    as_shot = description(params_to_xmp(EditParams())).attrib
    assert as_shot[CRS + "WhiteBalance"] == "As Shot"


@pytest.mark.parametrize("raw", [True, False])
def test_round_trip(raw: bool) -> None:
    back = xmp_to_params(params_to_xmp(EDIT, raw=raw))
    if raw:
        assert back == EDIT
    else:  # incremental white balance is quantised to whole steps
        assert back.with_changes(temperature=5600, tint=8) == EDIT
        assert abs(back.temperature - 5600) < 60 and abs(back.tint - 8) <= 1.5


def test_embedded_in_a_jpeg_and_read_by_pillow_and_xmltodict(
    tmp_path: Path, shared_photos_dir: Path
) -> None:
    packet = params_to_xmp(EDIT, raw=False)
    im = Image.open(shared_photos_dir / "plasma_Kite_screenshot.jpg").convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", xmp=packet.encode("utf-8"))
    reopened = Image.open(io.BytesIO(buf.getvalue()))
    raw_xmp = reopened.info["xmp"]
    assert xmp_to_params(raw_xmp).exposure == 0.3
    doc = xmltodict.parse(raw_xmp)
    desc = doc["x:xmpmeta"]["rdf:RDF"]["rdf:Description"]
    assert desc["@crs:Exposure2012"] == "+0.30"
    assert desc["@crs:Contrast2012"] == "+12"
    assert desc["crs:ToneCurvePV2012"]["rdf:Seq"]["rdf:li"][1] == "64, 56"


def test_sidecar_file(tmp_path: Path) -> None:
    path = write_xmp_sidecar(EDIT, tmp_path / "IMG_0001.xmp", raw=True)
    assert read_xmp_sidecar(path) == EDIT


def test_reads_lightroom_element_form() -> None:
    """Lightroom CC writes settings as elements instead of attributes."""
    text = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
     <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about=""
        xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/">
       <crs:ProcessVersion>11.0</crs:ProcessVersion>
       <crs:Exposure2012>-0.65</crs:Exposure2012>
       <crs:Clarity2012>+20</crs:Clarity2012>
       <crs:WhiteBalance>Custom</crs:WhiteBalance>
       <crs:Temperature>4850</crs:Temperature>
       <crs:Tint>-3</crs:Tint>
       <crs:HasCrop>True</crs:HasCrop>
       <crs:CropLeft>0.2</crs:CropLeft><crs:CropTop>0.1</crs:CropTop>
       <crs:CropRight>0.8</crs:CropRight><crs:CropBottom>0.9</crs:CropBottom>
       <crs:ToneCurveName2012>Custom</crs:ToneCurveName2012>
       <crs:ToneCurvePV2012><rdf:Seq><rdf:li>0, 10</rdf:li><rdf:li>255, 245</rdf:li></rdf:Seq>
       </crs:ToneCurvePV2012>
      </rdf:Description>
     </rdf:RDF>
    </x:xmpmeta>"""
    p = xmp_to_params(text)
    assert p.exposure == -0.65 and p.temperature == 4850 and p.tint == -3
    assert p.crop.left == 0.2 and p.crop.bottom == 0.9
    assert p.tone_curve == ((0, 10), (255, 245))


def test_straightened_crop_needs_size_and_bad_xmp_is_refused() -> None:
    tilted = EditParams(straighten=3, crop={"left": 0.1, "right": 0.9})
    with pytest.raises(InvalidInput):
        params_to_xmp(tilted)
    a = description(params_to_xmp(tilted, size=(3000, 2000))).attrib
    assert a[CRS + "CropAngle"] == "-3.0000"
    assert 0 < float(a[CRS + "CropLeft"]) < 0.2
    assert xmp_to_params(params_to_xmp(tilted, size=(3000, 2000))) == tilted
    with pytest.raises(InvalidInput):
        xmp_to_params("<not xml")
    with pytest.raises(InvalidInput):
        xmp_to_params('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')


def test_edits_and_culling_share_one_sidecar(tmp_path: Path, photos_dir: Path) -> None:
    """Edits, then culling, then edits again: each writer keeps the other's fields."""
    from kilo.cull.decision_sidecar import SidecarState, merge_xmp, read_xmp_state

    path = tmp_path / "IMG_0001.xmp"
    write_xmp_sidecar(EDIT, path, raw=True)
    decisions = SidecarState(
        rating=4, pick=1, starred=True, keywords=["beach", "smith"], label="Green"
    )  # a pick, as Lightroom shows it
    path.write_text(merge_xmp(path.read_bytes(), decisions), encoding="utf-8")
    assert read_xmp_sidecar(path) == EDIT
    assert read_xmp_state(path.read_bytes()) == decisions
    later = EDIT.with_changes(exposure=-0.5, crop={"left": 0, "top": 0, "right": 1, "bottom": 1})
    write_xmp_sidecar(later, path, raw=True, name="darker")
    text = path.read_text(encoding="utf-8")
    assert read_xmp_sidecar(path) == later
    assert read_xmp_state(text) == decisions
    assert "kilo:Crop=" not in text  # the old edit's settings are replaced, not left behind
    assert text.count("crs:Exposure2012") == 1 and text.count("dc:subject") == 2
    # a Lightroom packet keeps its own metadata through an edit
    data = (photos_dir / "canon_rebel_t6_xmp.jpg").read_bytes()
    lr = data[data.index(b"<x:xmpmeta") : data.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")]
    path.write_bytes(lr)
    write_xmp_sidecar(later, path, raw=True)
    text = path.read_text(encoding="utf-8")
    assert 'aux:SerialNumber="022070029137"' in text and "xmp:CreatorTool=" in text
    assert read_xmp_sidecar(path) == later


def test_a_foreign_file_is_not_overwritten_by_an_edit(tmp_path: Path) -> None:
    from kilo.errors import DecodeError

    path = tmp_path / "IMG_0001.xmp"
    path.write_text("not xml at all", encoding="utf-8")
    with pytest.raises(DecodeError, match="not valid XML"):
        write_xmp_sidecar(EDIT, path)
    assert path.read_text(encoding="utf-8") == "not xml at all"
