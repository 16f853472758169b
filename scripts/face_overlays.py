"""Draw the anatomical regions over every shared real portrait into docs/faces/.

Run from the project root:  python scripts/face_overlays.py [../shared/data/real]
The pictures are for people to check the regions by eye (issue 11's proof).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from tracker.analysis.face import find_face
from tracker.analysis.face.overlay import draw_regions

ROOT = Path(__file__).resolve().parents[1]


def main(real_dir: Path) -> None:
    out_dir = ROOT / "docs" / "faces"
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted((real_dir / "interfaces_cc0_faces").glob("*.jpg")):
        srgb = np.ascontiguousarray(cv2.imread(str(path))[:, :, ::-1], dtype=np.float32) / 255.0
        face = find_face(srgb)
        if face.regions is None:
            print(f"{path.name}: {face.reason}")
            continue
        picture = draw_regions(srgb, face.regions)
        small = cv2.resize(picture, (500, 500), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out_dir / f"regions_{path.stem}.jpg"), (small[:, :, ::-1] * 255).round().astype(np.uint8),
                    [cv2.IMWRITE_JPEG_QUALITY, 85])
        print(f"{path.name}: {face.view}, pose {face.pose.to_dict() if face.pose else None}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "real")
