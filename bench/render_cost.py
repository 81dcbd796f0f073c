"""CPU seconds per sandbox render, this checkout's renderer against another's, interleaved.

The test suite and fresh installs spend most of their CPU in sandbox renders, so what a
render costs is worth a number that does not move with the machine's load: the process's
CPU time (``time.process_time``, which includes libx264's own threads) around one render,
one render at a time. Each round renders every spec once with each renderer, alternating,
and the medians are printed. Run: ``python -m bench.render_cost [--rounds N]
[--against FILE]``,
FILE being another version of ``render.py``, e.g. ``git show main:src/lumagate/
providers/sandbox/render.py > /tmp/render_main.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from PIL import Image

from lumagate.providers.sandbox import render as current


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_baseline", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _png(size: tuple[int, int], colour: str) -> bytes:
    img = Image.new("RGB", size, colour)
    img.paste(Image.new("RGB", (size[0] // 2, size[1]), "navy"), (size[0] // 2, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _specs(mod: ModuleType, source: Path) -> dict[str, object]:
    start, end = _png((1600, 900), "orange"), _png((1600, 900), "teal")
    spec = mod.RenderSpec
    prompt = "a fox running through fresh snow at dawn"
    return {
        "540p text": spec(960, 540, 120, prompt=prompt),
        "540p start": spec(960, 540, 120, prompt=prompt, start_image=start),
        "540p start+end": spec(960, 540, 120, prompt=prompt, start_image=start, end_image=end),
        "540p end": spec(960, 540, 120, prompt=prompt, end_image=end),
        "540p loop": spec(960, 540, 120, prompt=prompt, loop=True),
        "540p extend": spec(960, 540, 120, prompt=prompt, continue_from_video=source),
        "720p text": spec(1280, 720, 120, prompt=prompt),
        "1080p text": spec(1920, 1080, 120, prompt=prompt),
        "1080p start+end": spec(1920, 1080, 120, prompt=prompt, start_image=start, end_image=end),
    }


def _cpu(mod: ModuleType, spec: object, out: Path) -> float:
    before = time.process_time()
    mod.render_video(spec, out)
    return time.process_time() - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, default=None)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    mods = {"this": current}
    if args.against is not None:
        mods = {"base": _load(args.against), "this": current}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = current.render_video(current.RenderSpec(960, 540, 24, prompt="src"), root / "s")
        samples: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds):
            for name in _specs(current, source.video):
                if args.only and args.only not in name:
                    continue
                for label, mod in mods.items():
                    spec = _specs(mod, source.video)[name]
                    cpu = _cpu(mod, spec, root / f"{label}-{r}-{name.replace(' ', '_')}")
                    samples.setdefault((name, label), []).append(cpu)
        names = sorted({n for n, _ in samples}, key=list(_specs(current, source.video)).index)
        print(f"{'spec':18} " + " ".join(f"{lab:>8}" for lab in mods) + "   ratio")
        for name in names:
            meds = [statistics.median(samples[(name, lab)]) for lab in mods]
            ratio = f"{meds[0] / meds[-1]:6.2f}x" if len(meds) > 1 else ""
            print(f"{name:18} " + " ".join(f"{m:8.3f}" for m in meds) + f"  {ratio}")


if __name__ == "__main__":
    main()
