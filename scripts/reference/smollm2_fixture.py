"""Reference logits for SmolLM2-135M-Instruct.Q4_1.gguf -> tests/fixtures/ref_smollm2_logits.{json,bin}
and the validation record tests/fixtures/ref_smollm2_validation.json.

Weights: every tensor dequantized to float32 by gguf.quants.dequantize (Q4_1 / Q8_0 / F32 as stored),
then cast to float64; the whole forward pass runs in float64 (llama_ref.forward).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import llama_ref
from .common import entropy, kl_div, log_softmax, logsumexp, sha256_file, write_arrays_bin, write_json

MODEL_REL = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

CHATML = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")

# (name, text). Order is part of the fixture format (prompt index).
PROMPTS: list[tuple[str, str]] = [
    ("primary_colors", "The three primary colors are"),
    ("single_token", "Hello"),
    ("story", "Once upon a time, there was a little girl named Lily who loved to"),
    ("chatml", CHATML),
    ("code", "def fibonacci(n):\n    if n < 2:\n        return n\n    return"),
    ("counting", "1, 2, 3, 4, 5, 6, 7, 8,"),
    ("weekdays", "Monday, Tuesday, Wednesday, Thursday,"),
    ("french_utf8", "Paris est la capitale de la France. Berlin est la capitale de l\u2019Allemagne, et Rome est la capitale de"),
    ("whitespace", "  Two leading spaces,\ta tab,\n\nand a blank line before this"),
    ("long_paragraph",
     "Photosynthesis is the process by which green plants, algae and some bacteria convert light energy into "
     "chemical energy. During this process, carbon dioxide and water are combined, using the energy of sunlight, "
     "to produce glucose and oxygen. The reaction takes place mainly in the chloroplasts of leaf cells, which "
     "contain the green pigment chlorophyll. Without photosynthesis, there would be almost no oxygen in the "
     "atmosphere, and most life on Earth"),
]

# Positions whose full logit rows are stored (float16). (prompt name, positions; -1 = last).
FULL_ROWS: list[tuple[str, list[int]]] = [
    ("primary_colors", [0, 1, 2, 3, 4]),
    ("chatml", [-1]),
    ("long_paragraph", [-1]),
]

TOPK = 32

# Short English text for the RoPE-convention check (perplexity adjacent vs NeoX).
PPL_TEXT = ("The sun rose slowly over the quiet village. Birds began to sing in the trees, and the baker opened "
            "his shop to sell fresh bread. Children walked to school along the river, laughing and talking "
            "about the games they would play after their lessons.")

GREEDY_PROMPT = "The three primary colors are"


def _tokenize_all(tok):
    out = []
    for name, text in PROMPTS:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        out.append((name, text, [int(i) for i in ids]))
    return out


def independent_tokenizer(gguf_path):
    """A second tokenizer built straight from the GGUF vocab/merges with the `tokenizers` library and
    the HF SmolLM2 pre-tokenizer (Digits(individual) + ByteLevel regex) - a cross-check of the
    transformers conversion. Special tokens (token_type 3) are registered as added tokens."""
    import gguf
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    r = gguf.GGUFReader(str(gguf_path))
    toks = r.fields["tokenizer.ggml.tokens"].contents()
    merges = r.fields["tokenizer.ggml.merges"].contents()
    ttype = r.fields["tokenizer.ggml.token_type"].contents()
    t = Tokenizer(models.BPE(vocab={s: i for i, s in enumerate(toks)},
                             merges=[tuple(m.split(" ")) for m in merges]))
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                              pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    t.decoder = decoders.ByteLevel()
    t.add_special_tokens([AddedToken(toks[i], special=True, normalized=False)
                          for i in range(len(toks)) if ttype[i] == 3])
    return t


def _f16_kl(logits64: np.ndarray) -> np.ndarray:
    f16 = logits64.astype(np.float32).astype(np.float16).astype(np.float64)
    return kl_div(logits64, f16)


def build(repo: Path, fixtures: Path, log=print) -> dict:
    from .smollm2_tokenizer import load_gguf_tokenizer

    model_path = repo / MODEL_REL
    tok = load_gguf_tokenizer(model_path)
    prompts = _tokenize_all(tok)
    indep = independent_tokenizer(model_path)
    for name, text, ids in prompts:
        other = indep.encode(text, add_special_tokens=False).ids
        if other != ids:
            raise RuntimeError(f"tokenizer cross-check failed for prompt {name!r}: {ids} vs {other}")
        if tok.decode(ids) != text:
            raise RuntimeError(f"tokenizer round trip failed for prompt {name!r}")

    log(f"[smollm2] loading {model_path}")
    w = llama_ref.load_gguf(model_path).astype(np.float64)
    V = w.cfg.vocab_size

    full_rows = {name: pos for name, pos in FULL_ROWS}
    all_logits = []  # per prompt (T, V) float64
    for name, text, ids in prompts:
        lg = llama_ref.forward(w, ids, rope_style="adjacent", dtype=np.float64)
        all_logits.append(lg)
        log(f"[smollm2] {name}: {len(ids)} tokens")

    rows = []
    topk_ids, topk_logits, lse = [], [], []
    prompt_entries = []
    pos_offset = 0
    for (name, text, ids), lg in zip(prompts, all_logits):
        T = len(ids)
        want = sorted({(p if p >= 0 else T + p) for p in full_rows.get(name, [])})
        entry = {
            "name": name,
            "text": text,
            "n_tokens": T,
            "tokens": ids,
            "argmax": [int(i) for i in lg.argmax(axis=-1)],
            "top1_margin": [round(float(m), 4) for m in np.diff(np.sort(lg, axis=-1)[:, -2:], axis=-1)[:, 0]],
            "position_offset": pos_offset,
            "logits_row_start": len(rows),
            "logits_positions": want,
        }
        for p in want:
            rows.append(lg[p])
        # top-k by descending logit; ties broken by lower token id (stable sort of -logit)
        order = np.argsort(-lg, axis=-1, kind="stable")[:, :TOPK]
        topk_ids.append(order.astype(np.int32))
        topk_logits.append(np.take_along_axis(lg, order, axis=-1).astype(np.float32))
        lse.append(logsumexp(lg, axis=-1).astype(np.float32))
        prompt_entries.append(entry)
        pos_offset += T
    n_pos = pos_offset
    rows64 = np.stack(rows)
    rows16 = rows64.astype(np.float32).astype(np.float16)
    topk_ids = np.concatenate(topk_ids)
    topk_logits = np.concatenate(topk_logits)
    lse = np.concatenate(lse)

    # float16 storage distortion and top-k coverage
    kl16 = kl_div(rows64, rows16.astype(np.float64))
    if not np.all(rows16 == rows16) or not np.all(np.isfinite(rows16)):
        raise RuntimeError("non-finite float16 logits")
    all_lg = np.concatenate(all_logits)
    lp = log_softmax(all_lg)
    topk_mass = np.exp(np.take_along_axis(lp, topk_ids.astype(np.int64), axis=-1)).sum(axis=-1)
    margins = topk_logits[:, 0].astype(np.float64) - topk_logits[:, 1]

    arrays = [("logits", rows16, "f16"), ("topk_ids", topk_ids, "i32"), ("topk_logits", topk_logits, "f32"),
              ("logsumexp", lse, "f32")]
    bin_path = fixtures / "ref_smollm2_logits.bin"
    meta_arrays, off = write_arrays_bin(bin_path, arrays)

    header = {
        "format": "rooflm.ref_logits.v1",
        "model": {"path": MODEL_REL, "sha256": sha256_file(model_path), "size": model_path.stat().st_size},
        "reference": {
            "generator": "scripts/make_reference_fixtures.py (scripts/reference/smollm2_fixture.py)",
            "dequantize": "gguf.quants.dequantize (gguf-py) to float32, then cast to float64",
            "compute_dtype": "float64",
            "rope": "adjacent pairs (x[2i], x[2i+1]) = ggml LLAMA_ROPE_TYPE_NORM, theta_i = base^(-2i/64), base 100000",
            "tokenizer": "transformers LlamaTokenizer.from_pretrained(models/, gguf_file=...) (= AutoTokenizer's GGUF path), "
                         "add_special_tokens=False, no BOS (tokenizer.ggml.add_bos_token = false); cross-checked "
                         "against an independent tokenizers.BPE build",
        },
        "vocab_size": V,
        "n_prompts": len(prompt_entries),
        "n_positions": n_pos,
        "n_logits_rows": int(rows16.shape[0]),
        "topk": TOPK,
        "logits_semantics": "row for position p = next-token logits after feeding tokens[0..p] (causal, no BOS added)",
        "bin": {"file": bin_path.name, "size": off, "sha256": sha256_file(bin_path), "byte_order": "little"},
        "arrays": meta_arrays,
        "stats": {
            "f16_storage_kl_max": float(f"{kl16.max():.3e}"),
            "f16_storage_kl_mean": float(f"{kl16.mean():.3e}"),
            "topk_mass_min": round(float(topk_mass.min()), 6),
            "topk_mass_mean": round(float(topk_mass.mean()), 6),
            "top1_margin_min": round(float(margins.min()), 5),
            "n_positions_top1_margin_below_0.05": int((margins < 0.05).sum()),
            "entropy_mean_nats": round(float(entropy(all_lg).mean()), 4),
        },
        "prompts": prompt_entries,
    }
    write_json(fixtures / "ref_smollm2_logits.json", header, indent=1)
    log(f"[smollm2] {n_pos} positions, {rows16.shape[0]} full rows, bin {off} bytes; "
        f"f16 KL max {kl16.max():.2e} mean {kl16.mean():.2e}; top{TOPK} mass min {topk_mass.min():.4f}")
    return {"weights": w, "tokenizer": tok, "prompts": prompts, "logits": all_logits}


def validate(repo: Path, fixtures: Path, state: dict | None = None, log=print) -> dict:
    """Independent evidence that the reference is right; written to ref_smollm2_validation.json."""
    from .smollm2_tokenizer import load_gguf_tokenizer

    model_path = repo / MODEL_REL
    if state is None:
        state = {"weights": llama_ref.load_gguf(model_path).astype(np.float64),
                 "tokenizer": load_gguf_tokenizer(model_path)}
    w, tok = state["weights"], state["tokenizer"]
    res: dict = {"model": MODEL_REL, "compute_dtype": "float64"}

    # 1. greedy continuation must be fluent English
    ids = tok(GREEDY_PROMPT, add_special_tokens=False)["input_ids"]
    gen = llama_ref.greedy_generate(w, ids, 32, "adjacent", np.float64)
    res["greedy"] = {"prompt": GREEDY_PROMPT, "prompt_tokens": ids, "new_tokens": gen,
                     "text": tok.decode(ids + gen)}
    log(f"[validate] greedy: {res['greedy']['text']!r}")
    gen_neox = llama_ref.greedy_generate(w, ids, 32, "neox", np.float64)
    res["greedy_neox_rope"] = {"new_tokens": gen_neox, "text": tok.decode(ids + gen_neox)}
    log(f"[validate] greedy with NeoX rope (wrong for this file): {res['greedy_neox_rope']['text']!r}")

    # 2. perplexity: adjacent-pair rope (ggml NORM) vs NeoX half-split on the same weights
    pids = tok(PPL_TEXT, add_special_tokens=False)["input_ids"]
    ppl = {}
    for style in ("adjacent", "neox"):
        lg = llama_ref.forward(w, pids, rope_style=style, dtype=np.float64)
        lp = log_softmax(lg[:-1])
        nll = -np.take_along_axis(lp, np.asarray(pids[1:])[:, None], axis=-1).mean()
        ppl[style] = {"mean_nll": round(float(nll), 4), "perplexity": round(float(np.exp(nll)), 3)}
        log(f"[validate] rope={style}: ppl {np.exp(nll):.3f}")
    res["rope_check"] = {"text": PPL_TEXT, "n_tokens": len(pids), **ppl}

    # 3. simulated engines scored against the *written* fixture exactly as a C++ test would
    #    (ref_logits_io.compare: top-1 agreement over all positions, KL over the stored f16 rows, and
    #    the coarse-grained top-k KL over all positions)
    if "logits" in state:
        from . import ref_logits_io

        header, arrays = ref_logits_io.load(fixtures / "ref_smollm2_logits.json")
        w32 = w.astype(np.float32)
        engines = {
            "float32_compute": dict(w=w32, rope_style="adjacent", dtype=np.float32),
            "float32_compute_q8_activations": dict(w=w32, rope_style="adjacent", dtype=np.float32,
                                                   act_quant=llama_ref.quantize_q8_blocks),
            "wrong_neox_rope": dict(w=w32, rope_style="neox", dtype=np.float32),
        }
        sims = {}
        for name, kw in engines.items():
            ours = [llama_ref.forward(kw["w"], ids, kw["rope_style"], None, kw["dtype"], kw.get("act_quant"))
                    for (_, _, ids) in state["prompts"]]
            r = ref_logits_io.compare(header, arrays, ours)
            # ref_gap_max = inf (our argmax outside the reference top-k somewhere) is written as null
            sims[name] = {k: (v if isinstance(v, int) else None if not np.isfinite(v)
                              else round(v, 6) if k.startswith("top1") else float(f"{v:.3e}")) for k, v in r.items()}
            log(f"[validate] simulated engine {name}: {sims[name]}")
        res["simulated_engines_vs_fixture"] = sims
        # 4. float16 storage distortion over all positions (not just the stored rows)
        kl16 = np.concatenate([_f16_kl(lg) for lg in state["logits"]])
        res["float16_storage_kl_all_positions"] = {"max": float(f"{kl16.max():.3e}"),
                                                   "mean": float(f"{kl16.mean():.3e}")}
        log(f"[validate] f16 storage KL over all positions: max {kl16.max():.2e} mean {kl16.mean():.2e}")

    # 5. the HF-layout equivalence: un-permuting Q/K and using NeoX rope must give the same logits
    wh = llama_ref.LlamaWeights(w.cfg, w.tok_embd, [
        llama_ref.LlamaLayer(L.attn_norm, llama_ref.unpermute_qk_gguf_to_hf(L.wq, w.cfg.n_head),
                             llama_ref.unpermute_qk_gguf_to_hf(L.wk, w.cfg.n_head_kv), L.wv, L.wo,
                             L.ffn_norm, L.w_gate, L.w_up, L.w_down) for L in w.layers],
        w.output_norm, w.output)
    a = llama_ref.forward(w, ids, "adjacent")
    b = llama_ref.forward(wh, ids, "neox")
    res["unpermuted_neox_equivalence_max_abs_diff"] = float(f"{np.abs(a - b).max():.3e}")
    log(f"[validate] GGUF+adjacent vs unpermuted+NeoX max |diff| {np.abs(a - b).max():.2e}")

    write_json(fixtures / "ref_smollm2_validation.json", res, indent=1)
    return res
