"""CLI commands of the analysis: ``tracker analyze`` and ``tracker bench``.

``analyze`` is the contract clinics' scripts rely on: exactly one JSON object on
stdout and exit 0 whenever a result was produced (also when the quality gate or
the alignment says no); exit 2 with a one-line error on stderr when an input
cannot be used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracker.models.vocabulary import VIEWS


def _corners(value: str | None, option: str) -> list[float] | None:
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{option} takes 8 comma-separated numbers x1,y1,...,x4,y4") from None
    if len(numbers) != 8:
        raise click.BadParameter(f"{option} takes 8 comma-separated numbers x1,y1,...,x4,y4, got {len(numbers)}")
    return numbers


def _fail(message: str) -> None:
    click.echo(f"tracker analyze: error: {message}".replace("\n", " "), err=True)
    sys.exit(2)


@click.command("analyze")
@click.argument("photo", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), help="The series baseline of the same view.")
@click.option("--roi", type=click.Path(dir_okay=False, path_type=Path), help="Mask PNG (white = measure) on the baseline's grid, or the photo's without a baseline.")
@click.option("--chart-corners", help="Chart corners in the photo: x1,y1,...,x4,y4 (TL, TR, BR, BL; full-resolution px).")
@click.option("--baseline-chart-corners", help="Chart corners in the baseline, same form.")
@click.option("--mm-per-px", type=float, help="Scale of the full-resolution photo when no chart gives one.")
@click.option("--view", type=click.Choice(list(VIEWS)),
              help="The photo's view; a close-up is not searched for a face (default: look for one).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Also write roi_mask.png, spot_mask.png, redness_map.png, regions/<region>.png (and aligned.png).")
def analyze(
    photo: Path,
    baseline: Path | None,
    roi: Path | None,
    chart_corners: str | None,
    baseline_chart_corners: str | None,
    mm_per_px: float | None,
    view: str | None,
    out_dir: Path | None,
) -> None:
    """Measure PHOTO (against --baseline when given) and print the result as JSON."""
    from tracker.analysis import AnalysisInputError, analyze_photo
    from tracker.analysis.decode import ImageDecodeError
    from tracker.analysis.outputs import write_outputs

    for label, path in (("photo", photo), ("baseline", baseline), ("roi", roi)):
        if path is not None and not path.is_file():
            _fail(f"{label} file not found: {path}")
    if mm_per_px is not None and not mm_per_px > 0:
        _fail("--mm-per-px must be a positive number")
    try:
        corners = _corners(chart_corners, "--chart-corners")
        base_corners = _corners(baseline_chart_corners, "--baseline-chart-corners")
        analysis = analyze_photo(
            photo,
            baseline=baseline,
            roi=roi,
            chart_corners=corners,
            baseline_chart_corners=base_corners,
            mm_per_px=mm_per_px,
            view=view,
        )
        if out_dir is not None:
            write_outputs(analysis, out_dir)
    except (ImageDecodeError, AnalysisInputError, click.BadParameter) as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"cannot read or write a file: {e}")
    click.echo(json.dumps(analysis.to_dict(), allow_nan=False))


@click.command("bench")
@click.option("--repeats", default=5, show_default=True, help="Timed runs per figure (the median is printed).")
@click.option("--photo", type=click.Path(dir_okay=False, path_type=Path), help="Use this 12 MP JPEG instead of a simulated one.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), help="Baseline for --photo.")
@click.option("--view", type=click.Choice(["closeup", "front"]), default="closeup", show_default=True,
              help="A close-up pair, or a front-view (face) pair (landmarks, regions, dense alignment), declared as that view.")
@click.option("--memory/--no-memory", default=True, show_default=True,
              help="Also measure a worker's peak memory, two photos at once (12 MP JPEG, 100 MP 16-bit PNG).")
def bench(repeats: int, photo: Path | None, baseline: Path | None, view: str, memory: bool) -> None:
    """Time analyze_photo on a 12-megapixel JPEG pair against a plain cv2.imdecode."""
    from tracker.evaluation.benchmark import run_benchmark

    report = run_benchmark(repeats=repeats, photo=photo, baseline=baseline, view=view, memory=memory,
                           progress=lambda m: click.echo(m, err=True))
    click.echo(report.as_text())


commands = [analyze, bench]


@click.command("mdc-estimate")
def mdc_estimate() -> None:
    """Re-estimate the minimal detectable changes from simulated repeat captures (slow)."""
    from tracker.evaluation.mdc import MDC_FILE, estimate_and_write

    payload = estimate_and_write(progress=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(payload, indent=2))
    click.echo(f"written to {MDC_FILE}", err=True)


commands.append(mdc_estimate)


@click.command("mdc-estimate-faces")
def mdc_estimate_faces() -> None:
    """Re-estimate the per-region MDCs of front views from repeat captures of the shared portraits (slow)."""
    from tracker.evaluation.mdc_faces import MDC_FACE_FILE, estimate_and_write

    payload = estimate_and_write(progress=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(payload, indent=2))
    click.echo(f"written to {MDC_FACE_FILE}", err=True)


commands.append(mdc_estimate_faces)
