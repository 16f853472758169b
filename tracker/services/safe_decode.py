"""Decode untrusted image files in a child process that cannot take the server down.

The web process hands the uploaded bytes to ``python -m tracker.services.safe_decode``
on stdin. The child lowers its own limits before touching the bytes
(``resource.setrlimit``: address space, CPU seconds, no core files, no new files),
runs :func:`tracker.services.imaging.inspect_image_in_process` and prints one JSON
line. The parent waits at most :data:`WALL_SECONDS`. A decoder crash (segfault),
an allocation beyond the memory limit or an endless loop ends the child, and the
upload is refused with a reason; the server process never runs the decoder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
from typing import Any

from .errors import UnsupportedFile, UploadRefused

#: Address space the child may map: Pillow + libheif + the decoded pixels of a 100 MP
#: photo (a 100 MP 16-bit PNG peaks at 430 MB resident; it passes at 512 MiB). Kept
#: within the 1.5 GB the analysis worker's decodes are held to.
MEMORY_LIMIT_BYTES = 1024**3
#: CPU seconds the child may use before the kernel stops it.
CPU_SECONDS = 20
#: Wall-clock seconds the parent waits (a child blocked on nothing still ends).
WALL_SECONDS = 40

_REFUSED_LIMITS = ("The image could not be checked within the server's safety limits for memory and time "
                   "(it may be a decompression bomb or a crafted file), so it was refused. "
                   "If it is a real photo, export it at a smaller size.")
_REFUSED_CRASH = ("The image decoder failed on this file (it is damaged or crafted), so it was refused. "
                  "Upload the original photo again.")


def _limit_child(memory_bytes: int, cpu_seconds: int) -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # the child writes no files


def inspect_isolated(data: bytes, *, max_pixels: int, memory_bytes: int = MEMORY_LIMIT_BYTES,
                     cpu_seconds: int = CPU_SECONDS, wall_seconds: float = WALL_SECONDS) -> Any:
    """:func:`inspect_image_in_process` in a resource-limited child; returns its ``ImageInfo``.

    Raises :class:`UploadRefused` (or :class:`UnsupportedFile`) with the reason when the
    file is refused, including when the child is killed by a limit or crashes.
    """
    from .imaging import ImageInfo

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tracker.services.safe_decode", str(int(max_pixels)),
             str(int(memory_bytes)), str(int(cpu_seconds))],
            input=data, capture_output=True, timeout=wall_seconds, env=env, check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise UploadRefused(_REFUSED_LIMITS) from e
    answer = _parse(proc.stdout)
    if answer is None:
        if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL) or b"MemoryError" in proc.stderr:
            raise UploadRefused(_REFUSED_LIMITS)
        raise UploadRefused(_REFUSED_CRASH)
    if not answer.get("ok"):
        cls = UnsupportedFile if answer.get("status") == UnsupportedFile.status else UploadRefused
        raise cls(str(answer.get("reason") or _REFUSED_CRASH))
    captured = answer.get("captured_at")
    return ImageInfo(
        content_type=answer["content_type"], width=int(answer["width"]), height=int(answer["height"]),
        orientation=int(answer["orientation"]),
        captured_at=dt.datetime.fromisoformat(captured) if captured else None,
    )


def _parse(stdout: bytes) -> dict[str, Any] | None:
    lines = stdout.strip().splitlines()
    if not lines:
        return None
    try:
        value = json.loads(lines[-1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def child_main(argv: list[str]) -> int:  # pragma: no cover - runs in the child
    max_pixels, memory_bytes, cpu_seconds = (int(a) for a in argv[:3])
    data = sys.stdin.buffer.read()
    _limit_child(memory_bytes, cpu_seconds)
    from .imaging import inspect_image_in_process

    try:
        info = inspect_image_in_process(data, max_pixels=max_pixels)
    except UploadRefused as e:
        out: dict[str, Any] = {"ok": False, "status": e.status, "reason": e.message}
    except MemoryError:
        out = {"ok": False, "status": 422, "reason": _REFUSED_LIMITS}
    else:
        out = {"ok": True, "content_type": info.content_type, "width": info.width, "height": info.height,
               "orientation": info.orientation,
               "captured_at": info.captured_at.isoformat() if info.captured_at else None}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(child_main(sys.argv[1:]))
