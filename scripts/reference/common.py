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


def f32_list(a: np.ndarray) -> list:
    """float32 values as Python floats whose JSON text is the shortest decimal that round-trips
    to the same float32 (e.g. 0.1 rather than 0.10000000149011612); strtof()/strtod()+cast of the
    text gives back the stored float32."""
    out = []
    for v in np.asarray(a, dtype=np.float32).reshape(-1):
        if v == 0 or abs(v) >= 1e-4:
            out.append(float(np.format_float_positional(v, unique=True, trim="0")))
        else:
            out.append(float(np.format_float_scientific(v, unique=True, trim="0")))
    return out


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
