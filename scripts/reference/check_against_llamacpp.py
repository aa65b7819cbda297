#!/usr/bin/env python3
"""Optional cross-check of the reference fixtures against llama.cpp (a fully independent
implementation), when the peer build from scripts/build_llamacpp.sh exists in third_party/.
Not part of fixture generation (llama.cpp is not always available); prints a report and, with
--write, records it in tests/fixtures/ref_llamacpp_crosscheck.json.

For every ref_logits fixture whose model is a GGUF (SmolLM2, tiny GPT-2, tiny Llama, tiny Qwen2) it feeds the
stored token ids to llama.cpp (one batch, logits for every position) and scores llama.cpp with the
same metrics a C++ test uses (reference/ref_logits_io.compare). It also checks that llama.cpp
tokenizes the stored prompt texts to the stored ids (add_special=False, parse_special=True).

    python3 scripts/reference/check_against_llamacpp.py [--threads 1] [--write]
"""
from __future__ import annotations

import argparse
import ctypes
import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from reference import ref_logits_io  # noqa: E402
from reference.common import write_json  # noqa: E402

FIXTURES = [
    ("tests/fixtures/ref_smollm2_logits.json", "models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("tests/fixtures/tiny_gpt2/ref_logits.json", "tests/fixtures/tiny_gpt2/tiny_gpt2.gguf"),
    ("tests/fixtures/tiny_llama/ref_logits.json", "tests/fixtures/tiny_llama/tiny_llama.gguf"),
    ("tests/fixtures/tiny_qwen2/ref_logits.json", "tests/fixtures/tiny_qwen2/tiny_qwen2.gguf"),
]


def _bindings():
    spec = importlib.util.spec_from_file_location("make_llamacpp_fixtures", REPO / "scripts" / "make_llamacpp_fixtures.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    L, version, sdist = m.load_bindings(REPO / "third_party" / "llamacpp-build" / "bin")
    return L, version, m.vendored_commit(sdist)


def run(threads: int) -> dict:
    L, pyver, commit = _bindings()
    cb = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(cb, ctypes.c_void_p(0))
    L.llama_backend_init()
    report = {"llama_cpp_python": pyver, "llama_cpp_commit": commit, "threads": threads, "fixtures": {}}
    for fx, model_rel in FIXTURES:
        header, arrays = ref_logits_io.load(REPO / fx)
        mp = L.llama_model_default_params()
        # No extra buffer types (repacked / AMX weights): the plain CPU kernels (Q4_1 x Q8_1 dot
        # products, F16/F32 matmuls). A GCC build with AMX enabled died with SIGILL in ggml's AMX
        # Q4_1 kernel on this machine (see scripts/build_llamacpp.sh).
        mp.use_extra_bufts = False
        model = L.llama_model_load_from_file(str(REPO / model_rel).encode(), mp)
        if not model:
            report["fixtures"][fx] = {"error": f"llama.cpp failed to load {model_rel}"}
            print(f"{fx}: llama.cpp failed to load {model_rel}")
            continue
        vocab = L.llama_model_get_vocab(model)
        n_vocab = L.llama_vocab_n_tokens(vocab)
        ours, tok_mismatch = [], []
        for p in header["prompts"]:
            ids = p["tokens"]
            if p.get("text") is not None:
                b = p["text"].encode("utf-8")
                buf = (L.llama_token * (len(b) + 16))()
                n = L.llama_tokenize(vocab, b, len(b), buf, len(buf), False, True)
                if list(buf[:max(n, 0)]) != ids:
                    tok_mismatch.append({"name": p["name"], "llama_cpp": list(buf[:max(n, 0)]), "stored": ids})
            cp = L.llama_context_default_params()
            cp.n_ctx = max(64, len(ids) + 8)
            cp.n_batch = cp.n_ubatch = max(64, len(ids))
            cp.n_threads = cp.n_threads_batch = threads
            ctx = L.llama_init_from_model(model, cp)
            batch = L.llama_batch_init(len(ids), 0, 1)
            for i, t in enumerate(ids):
                batch.token[i] = t
                batch.pos[i] = i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 1
            batch.n_tokens = len(ids)
            if L.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            lg = np.stack([np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(n_vocab,)).astype(np.float64)
                           for i in range(len(ids))])
            ours.append(lg)
            L.llama_batch_free(batch)
            L.llama_free(ctx)
        L.llama_model_free(model)
        r = ref_logits_io.compare(header, arrays, ours)
        if header.get("topk", 0) == 0:  # tiny models: every row is stored, report absolute error too
            ref = arrays["logits"].astype(np.float64)
            r["max_abs_logit_diff"] = float(np.abs(np.concatenate(ours) - ref).max())
        r = {k: (None if isinstance(v, float) and not np.isfinite(v) else
                 round(v, 6) if isinstance(v, float) and k.startswith("top1") else
                 float(f"{v:.3e}") if isinstance(v, float) else v) for k, v in r.items()}
        r["tokenization_mismatches"] = tok_mismatch
        report["fixtures"][fx] = r
        print(f"{fx}: {r}")
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="write tests/fixtures/ref_llamacpp_crosscheck.json")
    args = ap.parse_args()
    rep = run(args.threads)
    if args.write:
        write_json(REPO / "tests" / "fixtures" / "ref_llamacpp_crosscheck.json", rep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
