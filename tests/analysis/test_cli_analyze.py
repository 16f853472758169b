"""`tracker analyze`: one JSON object on stdout, exit 0; exit 2 and one line on stderr for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from ._pipeline_cases import scene, shoot

TRACKER = [sys.executable, "-c", "from tracker.cli.analysis_commands import analyze; analyze()"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRACKER, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    before = scene(21)
    base_cap, base_jpeg = shoot(before, seed=1, chart=True)
    _, photo_jpeg = shoot(before, seed=2, chart=True, rotation_deg=2.0, shift_px=(20.0, 10.0))
    paths = {"baseline": folder / "baseline.jpg", "photo": folder / "photo.jpg"}
    paths["baseline"].write_bytes(base_jpeg)
    paths["photo"].write_bytes(photo_jpeg)
    paths["truncated"] = folder / "truncated.jpg"
    paths["truncated"].write_bytes(photo_jpeg[: len(photo_jpeg) // 3])
    h, w = base_cap.srgb.shape[:2]
    good = np.full((h, w), 255, np.uint8)
    good[:, : w // 2] = 0
    cv2.imwrite(str(folder / "roi.png"), good)
    cv2.imwrite(str(folder / "roi_wrong.png"), good[: h // 2])
    paths["roi"], paths["roi_wrong"] = folder / "roi.png", folder / "roi_wrong.png"
    paths["corners"] = base_cap.chart_corners
    return paths


def test_prints_exactly_one_json_object_and_writes_masks_in_the_baseline_frame(files, tmp_path):
    out = tmp_path / "out"
    proc = run(str(files["photo"]), "--baseline", str(files["baseline"]), "--roi", str(files["roi"]), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole stdout is one object
    assert result["measured_in"] == "baseline"
    assert result["alignment"]["ok"] is True
    for name in ("roi_mask.png", "spot_mask.png", "redness_map.png", "aligned.png"):
        image = cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED)
        assert image is not None, name
        assert image.shape[:2] == (1050, 1400), name
    roi_mask = cv2.imread(str(out / "roi_mask.png"), cv2.IMREAD_GRAYSCALE)
    assert roi_mask[:, :690].max() == 0  # the technician's exclusion holds
    assert roi_mask[:, 700:].max() == 255
    # Chromophore maps: 16-bit on the fixed scale (1000 x (percent + offset)), 0 outside the region.
    for name, key, section, offset in (("haemoglobin_map.png", "haemoglobin_index", "redness", 0.0),
                                       ("melanin_map.png", "melanin_density", "pigment", 10.0)):
        image = cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.dtype == np.uint16 and image.shape == (1050, 1400), name
        assert image[:, :690].max() == 0, name
        inside = image[roi_mask > 0]
        mean_pct = float(np.mean(inside[inside > 0])) / 1000.0 - offset
        assert mean_pct == pytest.approx(result[section][key], abs=0.05 + 0.02 * abs(result[section][key])), name


def test_chart_corners_option_is_used(files):
    corners = ",".join(f"{v:.1f}" for v in np.asarray(files["corners"]).ravel())
    proc = run(str(files["baseline"]), "--chart-corners", corners)
    assert proc.returncode == 0, proc.stderr
    calibration = json.loads(proc.stdout)["calibration"]
    assert calibration["method"] == "colour_chart"
    assert calibration["chart_delta_e_mean"] <= 2.0


@pytest.mark.parametrize(
    "args, message",
    [
        (["{truncated}"], "truncat"),
        (["{missing}"], "not found"),
        (["{photo}", "--roi", "{roi_wrong}"], "roi"),
        (["{photo}", "--chart-corners", "1,2,3"], "8"),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(files, tmp_path, args, message):
    names = {k: str(v) for k, v in files.items() if isinstance(v, Path)} | {"missing": str(tmp_path / "nope.jpg")}
    proc = run(*[a.format(**names) for a in args])
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0].lower()
