"""Small shared helpers: numerics, deterministic file writing, hashing."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=axis, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def kl_div(ref_logits: np.ndarray, other_logits: np.ndarray) -> np.ndarray:
    """KL(softmax(ref) || softmax(other)) in nats, over the last axis (float64)."""
    lp = log_softmax(ref_logits)
    lq = log_softmax(other_logits)
    return (np.exp(lp) * (lp - lq)).sum(axis=-1)


def entropy(logits: np.ndarray) -> np.ndarray:
    lp = log_softmax(logits)
    return -(np.exp(lp) * lp).sum(axis=-1)


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dumps(obj, indent: int, level: int = 0) -> str:
    """JSON with nested containers indented but lists of scalars kept on one line."""
    pad, pad_in = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad_in}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, indent, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(json.dumps(v, ensure_ascii=False, allow_nan=False) for v in obj) + "]"
        return "[\n" + ",\n".join(pad_in + _dumps(v, indent, level + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write_json(path: str | os.PathLike, obj, indent: int = 1) -> None:
    """Deterministic JSON: UTF-8 (non-ASCII written raw, control characters escaped), key order as
    given, lists of scalars on one line, trailing newline."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = _dumps(obj, indent)
    json.loads(text)  # self-check
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text + "\n")


def round_to_f16_grid(a: np.ndarray) -> np.ndarray:
    """Round float values to the nearest float16-representable value, returned as float32."""
    return np.asarray(a, dtype=np.float32).astype(np.float16).astype(np.float32)


def write_arrays_bin(path: str | os.PathLike, arrays: list[tuple[str, np.ndarray, str]]) -> tuple[dict, int]:
    """Write arrays back to back, little-endian, row-major, each starting at a 64-byte aligned offset
    (zero padding between). Returns ({name: {dtype, shape, offset, nbytes}}, total size)."""
    np_types = {"f16": "<f2", "f32": "<f4", "i32": "<i4"}
    meta = {}
    off = 0
    with open(path, "wb") as f:
        for name, arr, dt in arrays:
            pad = (-off) % 64
            f.write(b"\0" * pad)
            off += pad
            b = np.ascontiguousarray(arr, dtype=np_types[dt]).tobytes()
            f.write(b)
            meta[name] = {"dtype": dt, "shape": [int(s) for s in arr.shape], "offset": off, "nbytes": len(b)}
            off += len(b)
    return meta, off


# ----------------------------------------------------------------------------------------------
# bfloat16 and a minimal safetensors reader/writer (numpy has no bfloat16, so safetensors.numpy
# cannot handle BF16 files)
# ----------------------------------------------------------------------------------------------

def f32_to_bf16_bits(a: np.ndarray) -> np.ndarray:
    """Round float32 -> bfloat16 (round to nearest, ties to even); returns the uint16 bit patterns."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f32(b: np.ndarray) -> np.ndarray:
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_to_bf16_f16_grid(a: np.ndarray) -> np.ndarray:
    """Round to bfloat16, then zero anything below float16's normal range (|x| < 2^-14), so that every
    value is exactly representable in BOTH bfloat16 and float16. Returned as float32."""
    r = bf16_bits_to_f32(f32_to_bf16_bits(a))
    r = np.where(np.abs(r) < 2.0 ** -14, np.float32(0), r).astype(np.float32)
    assert np.array_equal(r.astype(np.float16).astype(np.float32), r)
    return r


_ST_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


def write_safetensors(path: str | os.PathLike, tensors: dict[str, tuple[str, np.ndarray]],
                      metadata: dict | None = None) -> None:
    """tensors: name -> (dtype "F32" | "F16" | "BF16", float32 array). Layout as the safetensors
    library writes it: u64 LE header length, JSON header (tensors ordered by dtype size desc, then
    name; padded with spaces to a multiple of 8), then the raw little-endian data."""
    order = sorted(tensors, key=lambda k: (-_ST_DTYPES[tensors[k][0]][1], k))
    header: dict = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs, off = [], 0
    for k in order:
        dt, a = tensors[k]
        if dt == "BF16":
            b = f32_to_bf16_bits(a).astype("<u2").tobytes()
        else:
            b = np.ascontiguousarray(a, dtype=_ST_DTYPES[dt][0]).tobytes()
        header[k] = {"dtype": dt, "shape": [int(s) for s in np.shape(a)], "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.chmod(path, 0o644)


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every tensor as float32 (F32 / F16 / BF16)."""
    data = Path(path).read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        raw = np.frombuffer(data[base + s:base + e], dtype=_ST_DTYPES[v["dtype"]][0])
        a = bf16_bits_to_f32(raw) if v["dtype"] == "BF16" else raw.astype(np.float32)
        out[k] = a.reshape(v["shape"])
    return out
