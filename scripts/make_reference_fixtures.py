#!/usr/bin/env python3
"""Regenerate every reference fixture under tests/fixtures/ (deterministic: fixed seeds, single-
threaded BLAS, fixed prompts). Running it twice produces byte-identical files.

    python3 scripts/make_reference_fixtures.py            # everything
    python3 scripts/make_reference_fixtures.py smollm2    # only ref_smollm2_logits.* (+ validation)
    python3 scripts/make_reference_fixtures.py tiny       # only tests/fixtures/tiny_gpt2, tiny_llama, tiny_qwen2
    python3 scripts/make_reference_fixtures.py --check    # regenerate into a temp dir and compare

Needs: numpy, gguf (gguf-py), safetensors, tokenizers, transformers. No torch.
The SmolLM2 part needs models/SmolLM2-135M-Instruct.Q4_1.gguf (not committed) and takes ~1 minute
on one core; the tiny part takes seconds.
"""
from __future__ import annotations

import os

# One BLAS thread: bit-reproducible results (and be gentle on the shared 2-core machine).
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import filecmp  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from reference import smollm2_fixture, tiny_models  # noqa: E402

# Files this script owns, relative to tests/fixtures (used by --check and the size report).
SMOLLM2_FILES = ["ref_smollm2_logits.json", "ref_smollm2_logits.bin", "ref_smollm2_validation.json"]


def generate(parts: list[str], fixtures: Path) -> list[Path]:
    fixtures.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    if "tiny" in parts:
        made += tiny_models.build_all(REPO, fixtures)
    if "smollm2" in parts:
        state = smollm2_fixture.build(REPO, fixtures)
        smollm2_fixture.validate(REPO, fixtures, state)
        made += [fixtures / f for f in SMOLLM2_FILES]
    return made


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", help="smollm2 and/or tiny (default: both)")
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures",
                    help="fixtures directory (default: tests/fixtures)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary directory and compare byte for byte with --out")
    args = ap.parse_args()
    parts = args.parts or ["tiny", "smollm2"]
    for p in parts:
        if p not in ("tiny", "smollm2"):
            ap.error(f"unknown part {p!r}")

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            made = generate(parts, Path(tmp))
            bad = 0
            for p in made:
                rel = p.relative_to(tmp)
                same = (args.out / rel).is_file() and filecmp.cmp(p, args.out / rel, shallow=False)
                print(f"{'same' if same else 'DIFFERS'}  {rel}")
                bad += not same
            return 1 if bad else 0

    made = generate(parts, args.out)
    total = 0
    for p in made:
        total += p.stat().st_size
        print(f"{p.stat().st_size:>9}  {p.relative_to(args.out)}")
    print(f"{total:>9}  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
