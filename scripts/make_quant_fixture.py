#!/usr/bin/env python3
"""Write tests/fixtures/quant_<type>.bin: random GGUF blocks + the `gguf` package's dequantization.

The C++ reference dequantizers (src/kernels/quant_ref.cpp) are compared against these floats
bit-exactly by tests/test_matmul.cpp, so the fixture pins rooflm's reading of every block layout
to the reading of the Python package that ships with llama.cpp.

File layout (little endian):
  char[8]  magic "RFLMQFX1"
  uint32   ggml type id
  uint32   number of values n
  uint32   number of raw bytes
  uint32   reserved (0)
  uint8[]  raw bytes (the GGUF encoding of n values)
  float32[n] gguf.quants.dequantize(raw, type)

Blocks are a mix of (a) quantize() output of random floats where the package can quantize the
type, and (b) random bytes with the fp16 scale fields overwritten by random finite halves
(normal and subnormal, both signs) so every bit pattern of the quant fields is exercised.

Usage: python3 scripts/make_quant_fixture.py [--out tests/fixtures] [--seed 1234]
"""
import argparse
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

# (type, number of values). K-quants use 256-value super-blocks, the rest 32-value blocks.
TYPES = [
    (T.F32, 1024),
    (T.F16, 2048),
    (T.BF16, 2048),
    (T.Q8_0, 2048),
    (T.Q4_0, 2048),
    (T.Q4_1, 2048),
    (T.Q5_0, 2048),
    (T.Q5_1, 2048),
    (T.Q4_K, 2048),
    (T.Q5_K, 2048),
    (T.Q6_K, 2048),
]

# Byte offsets of fp16 fields inside one block, per type.
FP16_FIELDS = {
    T.Q8_0: [0],
    T.Q4_0: [0],
    T.Q4_1: [0, 2],
    T.Q5_0: [0],
    T.Q5_1: [0, 2],
    T.Q4_K: [0, 2],
    T.Q5_K: [0, 2],
    T.Q6_K: [208],
}


def random_halves(rng, n):
    """Finite fp16 values: mostly normal in a realistic range, some subnormal, both signs."""
    mag = np.exp(rng.uniform(np.log(1e-4), np.log(2.0), size=n)).astype(np.float32)
    sub = rng.random(n) < 0.1
    mag[sub] = rng.uniform(0, 6e-5, size=sub.sum()).astype(np.float32)
    sign = np.where(rng.random(n) < 0.3, -1.0, 1.0).astype(np.float32)
    h = (mag * sign).astype(np.float16)
    zero = rng.random(n) < 0.02
    h[zero] = np.float16(0.0)
    return h


def random_raw_blocks(rng, qtype, n_blocks):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in FP16_FIELDS[qtype]:
        raw[:, off:off + 2] = random_halves(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return raw


def make_raw(rng, qtype, n):
    if qtype == T.F32:
        x = (rng.standard_normal(n) * np.exp(rng.uniform(-8, 4, size=n))).astype(np.float32)
        return x.view(np.uint8)
    if qtype == T.F16:
        return random_halves(rng, n).view(np.uint8)
    if qtype == T.BF16:
        x = (rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, size=n))).astype(np.float32)
        return quants.quantize(x, T.BF16).view(np.uint8).reshape(-1)
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    n_blocks = n // block_size
    n_rand = n_blocks // 2
    parts = [random_raw_blocks(rng, qtype, n_rand)]
    n_q = n_blocks - n_rand
    try:
        x = (rng.standard_normal(n_q * block_size) * rng.uniform(0.01, 3.0)).astype(np.float32)
        x = x.reshape(n_q, block_size)
        x[0] = 0.0  # an all-zero block (d = 0)
        parts.append(quants.quantize(x, qtype).reshape(n_q, type_size))
    except NotImplementedError:
        parts.append(random_raw_blocks(rng, qtype, n_q))
    return np.concatenate(parts, axis=0).reshape(-1)


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures"))
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    total = 0
    for qtype, n in TYPES:
        raw = np.ascontiguousarray(make_raw(rng, qtype, n), dtype=np.uint8)
        deq = quants.dequantize(raw, qtype).astype(np.float32, copy=False).reshape(-1)
        assert deq.size == n, (qtype.name, deq.size, n)
        assert np.all(np.isfinite(deq)), qtype.name
        path = os.path.join(args.out, f"quant_{qtype.name.lower()}.bin")
        with open(path, "wb") as f:
            f.write(b"RFLMQFX1")
            f.write(struct.pack("<IIII", int(qtype), n, raw.size, 0))
            f.write(raw.tobytes())
            f.write(deq.astype("<f4").tobytes())
        size = os.path.getsize(path)
        total += size
        print(f"{path}: {qtype.name} {n} values, {raw.size} raw bytes, {size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
