"""`tracker verify-export` reads a bundle someone hands back without trusting it: a ZIP
bomb or a ZIP of thousands of members is refused from its directory, in well under a
second and without expanding anything; an unknown export id stops before any member
is hashed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from tracker.services.bundle_zip import MAX_MEMBERS

ROOT = Path(__file__).resolve().parents[2]

#: Runs the command in-process and prints how much its peak RSS grew (MB) while it ran.
_MEASURED = ("import resource, sys\nfrom tracker.cli import main\nimport tracker.services.exports\n"
             "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
             "print('PEAK_MB', (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
             "sys.exit(code)\n")


def _verify(instance: Path, bundle: Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _MEASURED, "verify-export", str(bundle)], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={"TRACKER_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    peak = int(proc.stdout.rsplit("PEAK_MB", 1)[1].split()[0])
    return proc, time.monotonic() - start, peak


def _manifest(export_id: str = "unknown-export-id") -> str:
    return json.dumps({"export_id": export_id, "files": [], "originals": []})


def test_a_zip_bomb_is_refused_without_expanding_it(app, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.json", _manifest())
        with zf.open("photos/huge.png", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(600):  # 600 MB of zeros in about 0.6 MB
                member.write(block)
    assert bomb.stat().st_size < 3 << 20
    proc, seconds, peak_mb = _verify(Path(app.config["TRACKER_CONFIG"].INSTANCE_PATH), bomb)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "PROBLEM" in proc.stdout and ("MB" in proc.stdout or "bomb" in proc.stdout)
    assert seconds < 30 and peak_mb < 100, (seconds, peak_mb)


def test_thousands_of_members_are_refused_from_the_directory(app, tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        zf.writestr("manifest.json", _manifest())
        for i in range(MAX_MEMBERS + 1):
            zf.writestr(f"f/{i}.txt", b"x")
    proc, _seconds, _peak = _verify(Path(app.config["TRACKER_CONFIG"].INSTANCE_PATH), many)
    assert proc.returncode == 2 and f"at most {MAX_MEMBERS}" in proc.stdout


def test_an_unknown_export_stops_before_its_members_are_read(app, tmp_path):
    # A member whose data is corrupt: reading it would fail its CRC. The unknown id comes first.
    bundle = tmp_path / "unknown.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("manifest.json", _manifest())
        zf.writestr("photos/a.png", b"A" * 5000)
    data = bytearray(bundle.read_bytes())
    at = data.find(b"A" * 100)
    data[at:at + 10] = b"B" * 10
    bundle.write_bytes(bytes(data))
    proc, _seconds, _peak = _verify(Path(app.config["TRACKER_CONFIG"].INSTANCE_PATH), bundle)
    assert proc.returncode == 2
    assert "no record of export unknown-export-id" in proc.stdout and "cannot be read" not in proc.stdout
