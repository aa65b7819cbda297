#!/usr/bin/env python3
"""Make greedy-decoding fixtures from llama.cpp (the peer we test against).

Uses the low-level ctypes bindings (llama_cpp/llama_cpp.py) from the same
llama-cpp-python sdist that scripts/build_llamacpp.sh built, pointed at the
libllama.so we compiled (LLAMA_CPP_LIB_PATH). Only the ctypes module is
imported (not the package __init__), so no extra Python deps are needed
beyond numpy and typing_extensions.

For each prompt it records: the prompt token ids llama.cpp used (tokenized
with add_special=True, parse_special=True, i.e. what llama-cli/-completion
do), 32 greedy tokens (argmax over fp32 logits; no temperature, no
repetition penalty; generation does not stop at EOG, `first_eog_step` says
where one appeared), the text, and per step the top-1/top-2 logits and
their margin so tests can skip near-tied steps.

Usage:
  scripts/build_llamacpp.sh
  python3 scripts/make_llamacpp_fixtures.py [--model M] [--out F] [--n 32]
"""
from __future__ import annotations

import argparse
import ctypes
import hashlib
import importlib.util
import json
import os
import pathlib
import sys
import types

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
TP = ROOT / "third_party"
DEFAULT_MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "llamacpp_greedy.json"

PROMPTS = [
    {"name": "colors", "text": "The three primary colors are"},
    {"name": "fibonacci", "text": "def fibonacci(n):"},
    {"name": "once", "text": "Once upon a time"},
    {"name": "chatml",
     "text": "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
             "trained by Hugging Face<|im_end|>\n<|im_start|>user\n"
             "What is the capital of France?<|im_end|>\n<|im_start|>assistant\n"},
    {"name": "list", "text": "Here is a list of fruits:\n1. Apple\n2."},
    {"name": "unicode", "text": "Café au lait, naïve résumé — 2024: “quotes” and 日本語"},
]


def find_sdist_pkg() -> pathlib.Path:
    cands = sorted(TP.glob("llama_cpp_python-*/llama_cpp/llama_cpp.py"))
    if not cands:
        sys.exit("llama-cpp-python sdist not found in third_party/; run scripts/build_llamacpp.sh")
    return cands[-1].parent


def load_bindings(lib_dir: pathlib.Path):
    """Import llama_cpp.llama_cpp without running the package __init__."""
    pkg_dir = find_sdist_pkg()
    os.environ["LLAMA_CPP_LIB_PATH"] = str(lib_dir)
    pkg = types.ModuleType("llama_cpp")
    pkg.__path__ = [str(pkg_dir)]
    sys.modules["llama_cpp"] = pkg
    for name in ("_ctypes_extensions", "llama_cpp"):
        spec = importlib.util.spec_from_file_location(f"llama_cpp.{name}", pkg_dir / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"llama_cpp.{name}"] = mod
        spec.loader.exec_module(mod)
    version = (pkg_dir / "__init__.py").read_text().split('__version__ = "')[1].split('"')[0]
    return sys.modules["llama_cpp.llama_cpp"], version, pkg_dir.parent


def vendored_commit(sdist_dir: pathlib.Path) -> str:
    import re
    m = re.search(r"llama\.cpp@([0-9a-f]+)", (sdist_dir / "CHANGELOG.md").read_text())
    return m.group(1) if m else "unknown"


def sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dump_compact(obj, ind: str = "") -> str:
    """JSON with one key per line but lists of scalars/pairs kept on one line."""
    def flat(v):
        return not isinstance(v, (dict, list)) or (
            isinstance(v, list) and all(not isinstance(x, (dict, list)) or
                                        (isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x))
                                        for x in v))
    if isinstance(obj, dict):
        inner = ind + "  "
        items = [f"{inner}{json.dumps(k)}: {dump_compact(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + ind + "}" + ("\n" if not ind else "")
    if isinstance(obj, list) and not flat(obj):
        inner = ind + "  "
        return "[\n" + ",\n".join(inner + dump_compact(v, inner).rstrip("\n") for v in obj) + "\n" + ind + "]"
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


_LOG_CB = None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--n", type=int, default=32, help="greedy tokens per prompt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--topk", type=int, default=5, help="top-k (id, logit) recorded per step")
    ap.add_argument("--lib-dir", default=str(TP / "llamacpp-build" / "bin"))
    args = ap.parse_args()

    L, pyver, sdist_dir = load_bindings(pathlib.Path(args.lib_dir))
    global _LOG_CB  # keep the ctypes callback alive for the process lifetime
    _LOG_CB = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(_LOG_CB, ctypes.c_void_p(0))
    L.llama_backend_init()

    model_path = pathlib.Path(args.model).resolve()
    mparams = L.llama_model_default_params()
    model = L.llama_model_load_from_file(str(model_path).encode(), mparams)
    if not model:
        sys.exit(f"failed to load {model_path}")
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    add_bos = bool(L.llama_vocab_get_add_bos(vocab))
    bos = int(L.llama_vocab_bos(vocab))

    def tokenize(text: str, add_special: bool = True) -> list[int]:
        b = text.encode("utf-8")
        buf = (L.llama_token * (len(b) + 16))()
        n = L.llama_tokenize(vocab, b, len(b), buf, len(buf), add_special, True)
        if n < 0:
            sys.exit("tokenize failed")
        return list(buf[:n])

    def piece(tok: int) -> bytes:
        buf = ctypes.create_string_buffer(256)
        n = L.llama_token_to_piece(vocab, tok, buf, len(buf), 0, True)
        return buf.raw[:n]

    cases = []
    for p in PROMPTS:
        cparams = L.llama_context_default_params()
        cparams.n_ctx = 512
        cparams.n_batch = 512
        cparams.n_ubatch = 512
        cparams.n_threads = args.threads
        cparams.n_threads_batch = args.threads
        ctx = L.llama_init_from_model(model, cparams)
        if not ctx:
            sys.exit("failed to create context")

        prompt_ids = tokenize(p["text"])
        arr = (L.llama_token * len(prompt_ids))(*prompt_ids)
        if L.llama_decode(ctx, L.llama_batch_get_one(arr, len(prompt_ids))) != 0:
            sys.exit("decode failed (prompt)")

        gen, margins, top, first_eog = [], [], [], None
        for step in range(args.n):
            logits = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,)).astype(np.float64)
            order = np.argsort(-logits, kind="stable")[: max(2, args.topk)]
            t = int(order[0])
            gen.append(t)
            margins.append(round(float(logits[order[0]] - logits[order[1]]), 5))
            top.append([[int(i), round(float(logits[i]), 4)] for i in order[: args.topk]])
            if first_eog is None and L.llama_vocab_is_eog(vocab, t):
                first_eog = step
            one = (L.llama_token * 1)(t)
            if L.llama_decode(ctx, L.llama_batch_get_one(one, 1)) != 0:
                sys.exit("decode failed (gen)")
        L.llama_free(ctx)

        text = b"".join(piece(t) for t in gen).decode("utf-8", errors="replace")
        cases.append({
            "name": p["name"],
            "prompt": p["text"],
            "prompt_ids": prompt_ids,
            # did add_special insert anything? (SmolLM2's bos_id 1 is also
            # <|im_start|>, so "first id == bos" would be misleading for ChatML)
            "special_added": prompt_ids != tokenize(p["text"], add_special=False),
            "generated_ids": gen,
            "generated_text": text,
            "first_eog_step": first_eog,
            "margins": margins,
            "topk": top,
        })
        print(f"[{p['name']}] {len(prompt_ids)} prompt toks, min margin {min(margins):.3f}: {text!r}")

    L.llama_model_free(model)

    out = {
        "format": "rooflm-llamacpp-greedy-v1",
        "generator": {
            "llama_cpp_python": pyver,
            "llama_cpp_commit": vendored_commit(sdist_dir),
            "script": "scripts/make_llamacpp_fixtures.py",
            "threads": args.threads,
            "n_ctx": 512,
            "sampling": "greedy argmax over fp32 logits; no temperature, no repetition penalty; "
                        "does not stop at EOG",
            "tokenize": "llama_tokenize(add_special=True, parse_special=True)",
            "margin": "logit[top1] - logit[top2] at each generated step (raw logits)",
            "topk": "per step, top-k [token_id, logit] pairs, k=%d" % args.topk,
        },
        "model": {
            "file": os.path.relpath(model_path, ROOT),
            "sha256": sha256(model_path),
            "n_vocab": n_vocab,
            "vocab_add_bos": add_bos,
            "bos_id": bos,
        },
        "n_generate": args.n,
        "cases": cases,
    }
    outp = pathlib.Path(args.out)
    outp.parent.mkdir(parents=True, exist_ok=True)
    with open(outp, "w", encoding="utf-8") as f:
        f.write(dump_compact(out))
    print(f"wrote {outp} ({outp.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
