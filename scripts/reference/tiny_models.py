"""Tiny randomly initialised GPT-2, Llama and Qwen2 models, written as Hugging Face directories and as GGUF,
plus float64 NumPy reference logits for a few token sequences.

  tests/fixtures/tiny_gpt2/hf/            config.json, model.safetensors (F32), tokenizer files
  tests/fixtures/tiny_gpt2/tiny_gpt2.gguf (all F32, llama.cpp gpt2 tensor names, output tied)
  tests/fixtures/tiny_gpt2/ref_logits.{json,bin}
  tests/fixtures/tiny_llama/hf/           config.json, model.safetensors (F32), tokenizer files
  tests/fixtures/tiny_llama/tiny_llama.gguf (F16 matrices + F32 norms, Q/K permuted as llama.cpp's
                                          converter does -> adjacent-pair rope)
  tests/fixtures/tiny_llama/ref_logits.{json,bin}
  tests/fixtures/tiny_qwen2/hf/           config.json, model.safetensors (BF16, q/k/v biases, tied), tokenizer
  tests/fixtures/tiny_qwen2/tiny_qwen2.gguf (F16 matrices + F32 norms/biases, Q/K NOT permuted: llama.cpp
                                          ropes qwen2 NEOX-style)
  tests/fixtures/tiny_qwen2/ref_logits.{json,bin}

Every weight is drawn with a fixed seed and then rounded to the float16 grid, so the F32 files and
the F16 GGUF hold *identical* values and one reference serves all of them.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np

from . import gpt2_ref, llama_ref
from .common import (entropy, round_to_bf16_f16_grid, round_to_f16_grid, sha256_file, write_arrays_bin,
                     write_json, write_safetensors)

GPT2_SEED = 20240601
LLAMA_SEED = 20240602
SEQ_SEED = 20240603
QWEN2_SEED = 20240605
QWEN2_BIAS_STD = 1.0

SHARED_TOKENIZER_DIR = "tiny_gpt2_tokenizer"  # built by another engineer, preferred when present
OWN_VOCAB_SIZE = 320

# Fixed training text for the fallback tokenizer (only used when tests/fixtures/tiny_gpt2_tokenizer
# does not exist).
TOKENIZER_CORPUS = """\
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox runs into the woods.
Once upon a time, there was a little girl who loved to read books about the sea, the stars and the moon.
Hello world! This is a tiny tokenizer for testing. It learns a few merges from a short English text.
The three primary colors are red, yellow and blue. Mixing them gives orange, green and purple.
Numbers like 1, 2, 3, 10, 42 and 2024 appear in text too; so do symbols such as #, $, %, & and @.
def add(a, b):
    return a + b

for i in range(10):
    print(i, add(i, i))
She said: "I think that we should go there together, because the weather is nice today."
In the morning the birds sing; in the evening the children come home from school and eat their dinner.
"""

GPT2_TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog."]
LLAMA_TEXTS = ["Hello world", "Once upon a time, there was a little girl."]
RANDOM_SEQ_LEN = 32


# ----------------------------------------------------------------------------------------------
# tokenizer
# ----------------------------------------------------------------------------------------------

def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=OWN_VOCAB_SIZE, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TOKENIZER_CORPUS.splitlines(keepends=True), trainer)
    return tok


def prepare_tokenizer(repo: Path, hf_dirs: list[Path], log=print) -> tuple:
    """Returns (tokenizers.Tokenizer, source description). Copies/writes tokenizer.json, vocab.json,
    merges.txt into every HF directory. The shared tokenizer is always taken from the repository's
    tests/fixtures (also when writing elsewhere with --out/--check)."""
    from tokenizers import Tokenizer

    shared = repo / "tests" / "fixtures" / SHARED_TOKENIZER_DIR
    if (shared / "tokenizer.json").is_file():
        tok = Tokenizer.from_file(str(shared / "tokenizer.json"))
        source = f"tests/fixtures/{SHARED_TOKENIZER_DIR}/tokenizer.json (copied)"
        for d in hf_dirs:
            d.mkdir(parents=True, exist_ok=True)
            for name in ("tokenizer.json", "vocab.json", "merges.txt"):
                if (shared / name).is_file():
                    shutil.copyfile(shared / name, d / name)
    else:
        log(f"[tiny] WARNING: {shared} missing; training a fallback tokenizer (different vocab!)")
        tok = _train_tokenizer()
        source = (f"trained by scripts/reference/tiny_models.py (tokenizers BpeTrainer, byte-level, "
                  f"vocab {OWN_VOCAB_SIZE}, special <|endoftext|>)")
        for d in hf_dirs:
            d.mkdir(parents=True, exist_ok=True)
            tok.save(str(d / "tokenizer.json"), pretty=True)
            _write_vocab_merges(tok, d)
    return tok, source


def _tokenizer_parts(tok) -> tuple[list[str], list[str], set[int]]:
    """(tokens by id, merges as 'a b' strings in rank order, ids of special/added tokens)."""
    j = json.loads(tok.to_str())
    vocab = dict(j["model"]["vocab"])
    for at in j.get("added_tokens", []):
        vocab[at["content"]] = at["id"]
    n = max(vocab.values()) + 1
    tokens = [None] * n
    for s, i in vocab.items():
        tokens[i] = s
    if any(t is None for t in tokens):
        raise ValueError("tokenizer ids are not contiguous")
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    special = {at["id"] for at in j.get("added_tokens", []) if at.get("special", False)}
    return tokens, merges, special


def _write_vocab_merges(tok, d: Path) -> None:
    tokens, merges, _ = _tokenizer_parts(tok)
    with open(d / "vocab.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
    with open(d / "merges.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n")
        for m in merges:
            f.write(m + "\n")


def _eos_id(tokens: list[str]) -> int:
    return tokens.index("<|endoftext|>") if "<|endoftext|>" in tokens else len(tokens) - 1


def _add_gguf_tokenizer(wr, tok) -> None:
    import gguf

    tokens, merges, special = _tokenizer_parts(tok)
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("gpt-2")  # llama.cpp's name for the GPT-2 pre-tokenizer regex
    wr.add_token_list(tokens)
    wr.add_token_types([int(gguf.TokenType.CONTROL) if i in special else int(gguf.TokenType.NORMAL)
                        for i in range(len(tokens))])
    wr.add_token_merges(merges)
    eos = _eos_id(tokens)
    wr.add_bos_token_id(eos)
    wr.add_eos_token_id(eos)
    wr.add_add_bos_token(False)


def _write_tokenizer_config(d: Path, tokens: list[str], cls: str, max_len: int) -> None:
    eos = tokens[_eos_id(tokens)]
    write_json(d / "tokenizer_config.json", {
        "add_bos_token": False,
        "add_prefix_space": False,
        "bos_token": eos,
        "eos_token": eos,
        "unk_token": eos,
        "model_max_length": max_len,
        "tokenizer_class": cls,
    }, indent=2)


# ----------------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------------

def _normal(rng, shape, std):
    return round_to_f16_grid(rng.standard_normal(shape) * std)


def _normal_bf(rng, shape, std):
    return round_to_bf16_f16_grid(rng.standard_normal(shape) * std)


def make_gpt2_weights(vocab: int) -> gpt2_ref.GPT2Weights:
    cfg = gpt2_ref.GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=128, vocab_size=vocab, eps=1e-5)
    d, ff = cfg.n_embd, cfg.n_inner
    rng = np.random.default_rng(GPT2_SEED)
    wte = _normal(rng, (vocab, d), 0.3)
    wpe = _normal(rng, (cfg.n_positions, d), 0.1)
    layers = []
    for _ in range(cfg.n_layer):
        layers.append(gpt2_ref.GPT2Layer(
            ln1_g=round_to_f16_grid(1 + rng.standard_normal(d) * 0.1), ln1_b=_normal(rng, d, 0.05),
            w_qkv=_normal(rng, (3 * d, d), 0.2), b_qkv=_normal(rng, 3 * d, 0.05),
            w_o=_normal(rng, (d, d), 0.1), b_o=_normal(rng, d, 0.05),
            ln2_g=round_to_f16_grid(1 + rng.standard_normal(d) * 0.1), ln2_b=_normal(rng, d, 0.05),
            w_up=_normal(rng, (ff, d), 0.15), b_up=_normal(rng, ff, 0.05),
            w_down=_normal(rng, (d, ff), 0.1), b_down=_normal(rng, d, 0.05),
        ))
    lnf_g = round_to_f16_grid(1 + rng.standard_normal(d) * 0.1)
    lnf_b = _normal(rng, d, 0.05)
    return gpt2_ref.GPT2Weights(cfg, wte, wpe, layers, lnf_g, lnf_b, wte)


def make_llama_weights(vocab: int) -> llama_ref.LlamaWeights:
    """HF layout (unpermuted Q/K, NeoX rope). Values lie on the bfloat16 AND float16 grids (the HF
    file is BF16, the GGUF F16, both exact)."""
    cfg = llama_ref.LlamaConfig(n_layer=2, d_model=64, n_head=4, n_head_kv=2, d_ff=128, vocab_size=vocab,
                                rope_base=10000.0, norm_eps=1e-5, tied_embeddings=False)
    d, hd, ff = cfg.d_model, cfg.head_dim, cfg.d_ff
    rng = np.random.default_rng(LLAMA_SEED)
    emb = _normal_bf(rng, (vocab, d), 0.5)
    layers = []
    for _ in range(cfg.n_layer):
        layers.append(llama_ref.LlamaLayer(
            attn_norm=round_to_bf16_f16_grid(1 + rng.standard_normal(d) * 0.1),
            wq=_normal_bf(rng, (cfg.n_head * hd, d), 0.2), wk=_normal_bf(rng, (cfg.n_head_kv * hd, d), 0.2),
            wv=_normal_bf(rng, (cfg.n_head_kv * hd, d), 0.2), wo=_normal_bf(rng, (d, cfg.n_head * hd), 0.1),
            ffn_norm=round_to_bf16_f16_grid(1 + rng.standard_normal(d) * 0.1),
            w_gate=_normal_bf(rng, (ff, d), 0.2), w_up=_normal_bf(rng, (ff, d), 0.2), w_down=_normal_bf(rng, (d, ff), 0.1),
        ))
    out_norm = round_to_bf16_f16_grid(1 + rng.standard_normal(d) * 0.1)
    out = _normal_bf(rng, (vocab, d), 0.3)
    return llama_ref.LlamaWeights(cfg, emb, layers, out_norm, out)


def make_qwen2_weights(vocab: int) -> llama_ref.LlamaWeights:
    """Llama + q/k/v biases, tied embeddings, rms eps 1e-6 (Qwen2). HF layout; values on the bfloat16
    AND float16 grids (HF file BF16, GGUF F16/F32, all exact)."""
    cfg = llama_ref.LlamaConfig(n_layer=2, d_model=64, n_head=4, n_head_kv=2, d_ff=128, vocab_size=vocab,
                                rope_base=10000.0, norm_eps=1e-6, tied_embeddings=True)
    d, hd, ff = cfg.d_model, cfg.head_dim, cfg.d_ff
    rng = np.random.default_rng(QWEN2_SEED)
    emb = _normal_bf(rng, (vocab, d), 0.3)  # tied: 0.3 keeps the softmax far from one-hot
    layers = []
    for _ in range(cfg.n_layer):
        layers.append(llama_ref.LlamaLayer(
            attn_norm=round_to_bf16_f16_grid(1 + rng.standard_normal(d) * 0.1),
            wq=_normal_bf(rng, (cfg.n_head * hd, d), 0.2), wk=_normal_bf(rng, (cfg.n_head_kv * hd, d), 0.2),
            wv=_normal_bf(rng, (cfg.n_head_kv * hd, d), 0.2), wo=_normal_bf(rng, (d, cfg.n_head * hd), 0.1),
            ffn_norm=round_to_bf16_f16_grid(1 + rng.standard_normal(d) * 0.1),
            w_gate=_normal_bf(rng, (ff, d), 0.2), w_up=_normal_bf(rng, (ff, d), 0.2), w_down=_normal_bf(rng, (d, ff), 0.1),
            # large biases (Qwen2's real q/k biases are large too), so that each one visibly matters
            bq=_normal_bf(rng, cfg.n_head * hd, QWEN2_BIAS_STD), bk=_normal_bf(rng, cfg.n_head_kv * hd, QWEN2_BIAS_STD),
            bv=_normal_bf(rng, cfg.n_head_kv * hd, QWEN2_BIAS_STD),
        ))
    out_norm = round_to_bf16_f16_grid(1 + rng.standard_normal(d) * 0.1)
    return llama_ref.LlamaWeights(cfg, emb, layers, out_norm, emb)


# ----------------------------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------------------------

def _save_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(path),
              metadata={"format": "pt"})
    path.chmod(0o644)


def write_gpt2_hf(w: gpt2_ref.GPT2Weights, d: Path, tokens: list[str]) -> None:
    from transformers import GPT2Config

    cfg = w.cfg
    eos = _eos_id(tokens)
    hc = GPT2Config(vocab_size=cfg.vocab_size, n_positions=cfg.n_positions, n_embd=cfg.n_embd,
                    n_layer=cfg.n_layer, n_head=cfg.n_head, layer_norm_epsilon=cfg.eps,
                    activation_function="gelu_new", bos_token_id=eos, eos_token_id=eos,
                    architectures=["GPT2LMHeadModel"], tie_word_embeddings=True)
    hc.dtype = "float32"
    (d / "config.json").write_text(hc.to_json_string(), encoding="utf-8")
    t = {"transformer.wte.weight": w.wte, "transformer.wpe.weight": w.wpe,
         "transformer.ln_f.weight": w.lnf_g, "transformer.ln_f.bias": w.lnf_b}
    for i, L in enumerate(w.layers):
        b = f"transformer.h.{i}."
        # HF Conv1D keeps weights as (in, out): transpose of our (out, in)
        t.update({
            b + "ln_1.weight": L.ln1_g, b + "ln_1.bias": L.ln1_b,
            b + "attn.c_attn.weight": L.w_qkv.T, b + "attn.c_attn.bias": L.b_qkv,
            b + "attn.c_proj.weight": L.w_o.T, b + "attn.c_proj.bias": L.b_o,
            b + "ln_2.weight": L.ln2_g, b + "ln_2.bias": L.ln2_b,
            b + "mlp.c_fc.weight": L.w_up.T, b + "mlp.c_fc.bias": L.b_up,
            b + "mlp.c_proj.weight": L.w_down.T, b + "mlp.c_proj.bias": L.b_down,
        })
    _save_safetensors(d / "model.safetensors", t)
    _write_tokenizer_config(d, tokens, "GPT2Tokenizer", cfg.n_positions)


def write_gpt2_gguf(w: gpt2_ref.GPT2Weights, path: Path, tok, f16: bool = False) -> None:
    import gguf

    cfg = w.cfg
    wr = gguf.GGUFWriter(str(path), "gpt2")
    wr.add_name("tiny-gpt2-random")
    wr.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32))
    wr.add_context_length(cfg.n_positions)
    wr.add_embedding_length(cfg.n_embd)
    wr.add_feed_forward_length(cfg.n_inner)
    wr.add_block_count(cfg.n_layer)
    wr.add_head_count(cfg.n_head)
    wr.add_layer_norm_eps(cfg.eps)
    _add_gguf_tokenizer(wr, tok)

    def put(name, a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        wr.add_tensor(name, a.astype(np.float16) if (f16 and a.ndim == 2) else a)

    put("token_embd.weight", w.wte)
    put("position_embd.weight", w.wpe)
    for i, L in enumerate(w.layers):
        b = f"blk.{i}."
        put(b + "attn_norm.weight", L.ln1_g); put(b + "attn_norm.bias", L.ln1_b)  # noqa: E702
        put(b + "attn_qkv.weight", L.w_qkv); put(b + "attn_qkv.bias", L.b_qkv)  # noqa: E702
        put(b + "attn_output.weight", L.w_o); put(b + "attn_output.bias", L.b_o)  # noqa: E702
        put(b + "ffn_norm.weight", L.ln2_g); put(b + "ffn_norm.bias", L.ln2_b)  # noqa: E702
        put(b + "ffn_up.weight", L.w_up); put(b + "ffn_up.bias", L.b_up)  # noqa: E702
        put(b + "ffn_down.weight", L.w_down); put(b + "ffn_down.bias", L.b_down)  # noqa: E702
    put("output_norm.weight", w.lnf_g)
    put("output_norm.bias", w.lnf_b)
    # no output.weight: tied to token_embd (llama.cpp falls back to token_embd when it is absent)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def write_llama_hf(w: llama_ref.LlamaWeights, d: Path, tokens: list[str], max_pos: int) -> None:
    from transformers import LlamaConfig

    cfg = w.cfg
    eos = _eos_id(tokens)
    hc = LlamaConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, intermediate_size=cfg.d_ff,
                     num_hidden_layers=cfg.n_layer, num_attention_heads=cfg.n_head,
                     num_key_value_heads=cfg.n_head_kv, head_dim=cfg.head_dim, max_position_embeddings=max_pos,
                     rms_norm_eps=cfg.norm_eps, rope_theta=cfg.rope_base, tie_word_embeddings=False,
                     hidden_act="silu", bos_token_id=eos, eos_token_id=eos, architectures=["LlamaForCausalLM"])
    hc.dtype = "bfloat16"
    j = json.loads(hc.to_json_string())
    # transformers 5 writes the rope base only inside "rope_parameters" and the dtype as "dtype";
    # transformers 4 (and most config.json files in the wild) use top-level "rope_theta" and
    # "torch_dtype". Keep both spellings so either kind of reader works.
    j["rope_theta"] = cfg.rope_base
    j["torch_dtype"] = "bfloat16"
    j = dict(sorted(j.items()))
    (d / "config.json").write_text(json.dumps(j, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    t = {"model.embed_tokens.weight": w.tok_embd, "model.norm.weight": w.output_norm, "lm_head.weight": w.output}
    for i, L in enumerate(w.layers):
        b = f"model.layers.{i}."
        t.update({
            b + "input_layernorm.weight": L.attn_norm,
            b + "self_attn.q_proj.weight": L.wq, b + "self_attn.k_proj.weight": L.wk,
            b + "self_attn.v_proj.weight": L.wv, b + "self_attn.o_proj.weight": L.wo,
            b + "post_attention_layernorm.weight": L.ffn_norm,
            b + "mlp.gate_proj.weight": L.w_gate, b + "mlp.up_proj.weight": L.w_up,
            b + "mlp.down_proj.weight": L.w_down,
        })
    write_safetensors(d / "model.safetensors", {k: ("BF16", v) for k, v in t.items()}, {"format": "pt"})
    _write_tokenizer_config(d, tokens, "PreTrainedTokenizerFast", max_pos)


def write_llama_gguf(w: llama_ref.LlamaWeights, path: Path, tok, max_pos: int) -> None:
    """As llama.cpp's convert_hf_to_gguf.py --outtype f16 would: Q/K rows permuted for adjacent-pair
    rope, 2-D tensors F16, norms F32, untied output."""
    import gguf

    cfg = w.cfg
    wr = gguf.GGUFWriter(str(path), "llama")
    wr.add_name("tiny-llama-random")
    wr.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    wr.add_vocab_size(cfg.vocab_size)
    wr.add_context_length(max_pos)
    wr.add_embedding_length(cfg.d_model)
    wr.add_block_count(cfg.n_layer)
    wr.add_feed_forward_length(cfg.d_ff)
    wr.add_rope_dimension_count(cfg.head_dim)
    wr.add_head_count(cfg.n_head)
    wr.add_head_count_kv(cfg.n_head_kv)
    wr.add_rope_freq_base(cfg.rope_base)
    wr.add_layer_norm_rms_eps(cfg.norm_eps)
    _add_gguf_tokenizer(wr, tok)

    def put(name, a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        wr.add_tensor(name, a.astype(np.float16) if a.ndim == 2 else a)

    put("token_embd.weight", w.tok_embd)
    for i, L in enumerate(w.layers):
        b = f"blk.{i}."
        put(b + "attn_norm.weight", L.attn_norm)
        put(b + "attn_q.weight", llama_ref.permute_qk_hf_to_gguf(L.wq, cfg.n_head))
        put(b + "attn_k.weight", llama_ref.permute_qk_hf_to_gguf(L.wk, cfg.n_head_kv))
        put(b + "attn_v.weight", L.wv)
        put(b + "attn_output.weight", L.wo)
        put(b + "ffn_norm.weight", L.ffn_norm)
        put(b + "ffn_gate.weight", L.w_gate)
        put(b + "ffn_up.weight", L.w_up)
        put(b + "ffn_down.weight", L.w_down)
    put("output_norm.weight", w.output_norm)
    put("output.weight", w.output)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def write_qwen2_hf(w: llama_ref.LlamaWeights, d: Path, tokens: list[str], max_pos: int) -> None:
    """As Qwen2ForCausalLM.save_pretrained (BF16) would: q/k/v_proj biases, no lm_head.weight (tied)."""
    from transformers import Qwen2Config

    cfg = w.cfg
    eos = _eos_id(tokens)
    hc = Qwen2Config(vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, intermediate_size=cfg.d_ff,
                     num_hidden_layers=cfg.n_layer, num_attention_heads=cfg.n_head,
                     num_key_value_heads=cfg.n_head_kv, max_position_embeddings=max_pos,
                     rms_norm_eps=cfg.norm_eps, rope_theta=cfg.rope_base, tie_word_embeddings=True,
                     hidden_act="silu", bos_token_id=eos, eos_token_id=eos, architectures=["Qwen2ForCausalLM"])
    hc.dtype = "bfloat16"
    j = json.loads(hc.to_json_string())
    j["rope_theta"] = cfg.rope_base  # transformers-4 spellings too, as for tiny_llama
    j["torch_dtype"] = "bfloat16"
    j = dict(sorted(j.items()))
    (d / "config.json").write_text(json.dumps(j, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    t = {"model.embed_tokens.weight": w.tok_embd, "model.norm.weight": w.output_norm}
    for i, L in enumerate(w.layers):
        b = f"model.layers.{i}."
        t.update({
            b + "input_layernorm.weight": L.attn_norm,
            b + "self_attn.q_proj.weight": L.wq, b + "self_attn.q_proj.bias": L.bq,
            b + "self_attn.k_proj.weight": L.wk, b + "self_attn.k_proj.bias": L.bk,
            b + "self_attn.v_proj.weight": L.wv, b + "self_attn.v_proj.bias": L.bv,
            b + "self_attn.o_proj.weight": L.wo,
            b + "post_attention_layernorm.weight": L.ffn_norm,
            b + "mlp.gate_proj.weight": L.w_gate, b + "mlp.up_proj.weight": L.w_up,
            b + "mlp.down_proj.weight": L.w_down,
        })
    write_safetensors(d / "model.safetensors", {k: ("BF16", v) for k, v in t.items()}, {"format": "pt"})
    _write_tokenizer_config(d, tokens, "PreTrainedTokenizerFast", max_pos)


def write_qwen2_gguf(w: llama_ref.LlamaWeights, path: Path, tok, max_pos: int) -> None:
    """As llama.cpp's convert_hf_to_gguf.py --outtype f16 writes a Qwen2ForCausalLM (Qwen2Model:
    TextModel.set_gguf_parameters only, so no vocab_size / rope.dimension_count keys): Q/K NOT
    permuted (llama.cpp uses NEOX rope for qwen2), 2-D tensors F16, norms and biases F32, no
    output.weight (tied)."""
    import gguf

    cfg = w.cfg
    wr = gguf.GGUFWriter(str(path), "qwen2")
    wr.add_name("tiny-qwen2-random")
    wr.add_block_count(cfg.n_layer)
    wr.add_context_length(max_pos)
    wr.add_embedding_length(cfg.d_model)
    wr.add_feed_forward_length(cfg.d_ff)
    wr.add_head_count(cfg.n_head)
    wr.add_head_count_kv(cfg.n_head_kv)
    wr.add_rope_freq_base(cfg.rope_base)
    wr.add_layer_norm_rms_eps(cfg.norm_eps)
    wr.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    _add_gguf_tokenizer(wr, tok)

    def put(name, a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        wr.add_tensor(name, a.astype(np.float16) if a.ndim == 2 else a)

    put("token_embd.weight", w.tok_embd)
    for i, L in enumerate(w.layers):
        b = f"blk.{i}."
        put(b + "attn_norm.weight", L.attn_norm)
        put(b + "attn_q.weight", L.wq); put(b + "attn_q.bias", L.bq)  # noqa: E702
        put(b + "attn_k.weight", L.wk); put(b + "attn_k.bias", L.bk)  # noqa: E702
        put(b + "attn_v.weight", L.wv); put(b + "attn_v.bias", L.bv)  # noqa: E702
        put(b + "attn_output.weight", L.wo)
        put(b + "ffn_norm.weight", L.ffn_norm)
        put(b + "ffn_gate.weight", L.w_gate)
        put(b + "ffn_up.weight", L.w_up)
        put(b + "ffn_down.weight", L.w_down)
    put("output_norm.weight", w.output_norm)
    # no output.weight: tied (the converter skips lm_head when tie_word_embeddings)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def write_ref_logits(out_dir: Path, model_desc: dict, seqs: list[tuple[str, str | None, list[int]]],
                     logits: list[np.ndarray], reference: dict) -> None:
    """Same schema as ref_smollm2_logits.json, but every position has a full float32 row and there
    are no top-k arrays."""
    V = logits[0].shape[1]
    entries, rows, off = [], [], 0
    for (name, text, ids), lg in zip(seqs, logits):
        entries.append({"name": name, "text": text, "n_tokens": len(ids), "tokens": ids,
                        "argmax": [int(i) for i in lg.argmax(-1)],
                        "top1_margin": [round(float(m), 4) for m in np.diff(np.sort(lg, -1)[:, -2:], axis=-1)[:, 0]],
                        "position_offset": off,
                        "logits_row_start": off, "logits_positions": list(range(len(ids)))})
        rows.append(lg.astype(np.float32))
        off += len(ids)
    rows = np.concatenate(rows)
    bin_path = out_dir / "ref_logits.bin"
    arrays, size = write_arrays_bin(bin_path, [("logits", rows, "f32")])
    ent = entropy(rows.astype(np.float64))
    p = np.exp(rows - rows.max(-1, keepdims=True)); p /= p.sum(-1, keepdims=True)
    write_json(out_dir / "ref_logits.json", {
        "format": "rooflm.ref_logits.v1",
        "model": model_desc,
        "reference": reference,
        "vocab_size": V,
        "n_prompts": len(entries),
        "n_positions": off,
        "n_logits_rows": off,
        "topk": 0,
        "logits_semantics": "row for position p = next-token logits after feeding tokens[0..p] (causal, no BOS added)",
        "bin": {"file": bin_path.name, "size": size, "sha256": sha256_file(bin_path), "byte_order": "little"},
        "arrays": arrays,
        "stats": {"entropy_mean_nats": round(float(ent.mean()), 4),
                  "uniform_entropy_nats": round(float(np.log(V)), 4),
                  "max_prob_mean": round(float(p.max(-1).mean()), 4),
                  "logit_std_mean": round(float(rows.std(-1).mean()), 4),
                  "top1_margin_min": round(float(np.diff(np.sort(rows, -1)[:, -2:], axis=-1).min()), 5)},
        "prompts": entries,
    }, indent=1)


# ----------------------------------------------------------------------------------------------

def _sequences(tok, texts: list[str], vocab: int, seed: int) -> list[tuple[str, str | None, list[int]]]:
    seqs = []
    for i, t in enumerate(texts):
        seqs.append((f"text{i}", t, tok.encode(t, add_special_tokens=False).ids))
    seqs.insert(0, ("single_token", None, [int(seqs[0][2][0])]))
    rng = np.random.default_rng(seed)
    seqs.append(("random_ids", None, [int(x) for x in rng.integers(0, vocab, RANDOM_SEQ_LEN)]))
    return seqs


def _model_desc(d: Path, name: str, ggufs: list[str]) -> dict:
    rel = f"tests/fixtures/{name}"
    files = ["hf/model.safetensors"] + ggufs
    return {"hf_dir": f"{rel}/hf", "gguf": [f"{rel}/{g}" for g in ggufs],
            "sha256": {f"{rel}/{f}": sha256_file(d / f) for f in files}}


def build_all(repo: Path, fixtures: Path, log=print) -> list[Path]:
    g_dir, l_dir, q_dir = fixtures / "tiny_gpt2", fixtures / "tiny_llama", fixtures / "tiny_qwen2"
    for d in (g_dir / "hf", l_dir / "hf", q_dir / "hf"):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    tok, tok_source = prepare_tokenizer(repo, [g_dir / "hf", l_dir / "hf", q_dir / "hf"], log)
    tokens, merges, special = _tokenizer_parts(tok)
    vocab = len(tokens)
    log(f"[tiny] tokenizer: {tok_source}; vocab {vocab}, {len(merges)} merges")
    for d in (g_dir / "hf", l_dir / "hf", q_dir / "hf"):  # llama/qwen2 dirs need only tokenizer.json
        if d.parent in (l_dir, q_dir):
            for extra in ("vocab.json", "merges.txt"):
                (d / extra).unlink(missing_ok=True)

    # ---------------- GPT-2
    gw = make_gpt2_weights(vocab)
    write_gpt2_hf(gw, g_dir / "hf", tokens)
    write_gpt2_gguf(gw, g_dir / "tiny_gpt2.gguf", tok, f16=False)
    gseqs = _sequences(tok, GPT2_TEXTS, vocab, SEQ_SEED)
    g_hf = gpt2_ref.load_hf_dir(g_dir / "hf")
    g_gg = gpt2_ref.load_gguf(g_dir / "tiny_gpt2.gguf")
    glog = []
    for name, text, ids in gseqs:
        a = gpt2_ref.forward(g_hf, ids)
        b = gpt2_ref.forward(g_gg, ids)
        c = gpt2_ref.forward(gw, ids)
        diff = max(np.abs(a - b).max(), np.abs(a - c).max())
        if diff > 1e-6:
            raise RuntimeError(f"tiny gpt2: HF vs GGUF reference mismatch {diff}")
        glog.append(a)
    write_ref_logits(g_dir, _model_desc(g_dir, "tiny_gpt2", ["tiny_gpt2.gguf"]),
                     gseqs, glog, {"generator": "scripts/make_reference_fixtures.py (scripts/reference/tiny_models.py)",
                                   "compute_dtype": "float64", "weights_seed": GPT2_SEED,
                                   "forward": "HF GPT2LMHeadModel semantics: LayerNorm(bias), learned positions, "
                                              "gelu_new (tanh), fused QKV, tied lm_head",
                                   "checked": "HF dir and GGUF load to identical logits (max |diff| <= 1e-6)",
                                   "tokenizer": tok_source})

    # ---------------- Llama
    lw = make_llama_weights(vocab)
    max_pos = 128
    write_llama_hf(lw, l_dir / "hf", tokens, max_pos)
    write_llama_gguf(lw, l_dir / "tiny_llama.gguf", tok, max_pos)
    lseqs = _sequences(tok, LLAMA_TEXTS, vocab, SEQ_SEED + 1)
    l_hf = llama_ref.load_hf_dir(l_dir / "hf").astype(np.float64)
    l_gg = llama_ref.load_gguf(l_dir / "tiny_llama.gguf").astype(np.float64)
    llog = []
    for name, text, ids in lseqs:
        a = llama_ref.forward(l_hf, ids, rope_style="neox")
        b = llama_ref.forward(l_gg, ids, rope_style="adjacent")
        diff = np.abs(a - b).max()
        if diff > 1e-6:
            raise RuntimeError(f"tiny llama: HF(neox) vs GGUF(adjacent) mismatch {diff}")
        wrong = llama_ref.forward(l_gg, ids, rope_style="neox")
        if len(ids) > 2 and np.abs(a - wrong).max() < 1e-2:
            raise RuntimeError("tiny llama: rope convention does not matter?! (weights too weak)")
        llog.append(a)
    write_ref_logits(l_dir, _model_desc(l_dir, "tiny_llama", ["tiny_llama.gguf"]),
                     lseqs, llog, {"generator": "scripts/make_reference_fixtures.py (scripts/reference/tiny_models.py)",
                                   "compute_dtype": "float64", "weights_seed": LLAMA_SEED,
                                   "forward": "HF LlamaForCausalLM semantics: RMSNorm, NeoX rotate_half RoPE on HF "
                                              "weights (= adjacent-pair RoPE on the permuted GGUF Q/K), GQA 4/2, "
                                              "SwiGLU, untied lm_head",
                                   "checked": "HF dir (neox rope) and GGUF (permuted Q/K, adjacent rope) give "
                                              "identical logits (max |diff| <= 1e-6)",
                                   "tokenizer": tok_source})

    # ---------------- Qwen2 (same token sequences as tiny_llama)
    qw = make_qwen2_weights(vocab)
    write_qwen2_hf(qw, q_dir / "hf", tokens, max_pos)
    write_qwen2_gguf(qw, q_dir / "tiny_qwen2.gguf", tok, max_pos)
    q_hf = llama_ref.load_hf_dir(q_dir / "hf").astype(np.float64)
    q_gg = llama_ref.load_gguf(q_dir / "tiny_qwen2.gguf").astype(np.float64)
    if not (q_hf.cfg == qw.cfg == dataclasses.replace(q_gg.cfg, norm_eps=qw.cfg.norm_eps)
            and abs(q_gg.cfg.norm_eps - qw.cfg.norm_eps) < 1e-12):  # GGUF stores eps as float32
        raise RuntimeError(f"tiny qwen2: config mismatch {q_hf.cfg} / {q_gg.cfg} / {qw.cfg}")
    if q_hf.output is not q_hf.tok_embd or q_gg.output is not q_gg.tok_embd:
        raise RuntimeError("tiny qwen2: LM head not tied after loading")

    def _without(wts, field):  # the same weights with one bias zeroed
        layers = [llama_ref.LlamaLayer(**{f: (np.zeros_like(getattr(L, f)) if f == field else getattr(L, f))
                                          for f in llama_ref.LlamaLayer.__dataclass_fields__}) for L in wts.layers]
        return llama_ref.LlamaWeights(wts.cfg, wts.tok_embd, layers, wts.output_norm, wts.tok_embd)

    qlog = []
    for name, text, ids in lseqs:
        a = llama_ref.forward(q_hf, ids, rope_style="neox")
        b = llama_ref.forward(q_gg, ids, rope_style="neox")
        diff = np.abs(a - b).max()
        if diff > 1e-6:
            raise RuntimeError(f"tiny qwen2: HF vs GGUF (both neox) mismatch {diff}")
        if len(ids) > 2:
            if np.abs(a - llama_ref.forward(q_gg, ids, rope_style="adjacent")).max() < 1e-2:
                raise RuntimeError("tiny qwen2: rope convention does not matter?! (weights too weak)")
            for f in ("bq", "bk", "bv"):
                if np.abs(a - llama_ref.forward(_without(q_hf, f), ids, rope_style="neox")).max() < 0.1:
                    raise RuntimeError(f"tiny qwen2: zeroing {f} hardly changes the logits (bias too weak)")
        qlog.append(a)
    write_ref_logits(q_dir, _model_desc(q_dir, "tiny_qwen2", ["tiny_qwen2.gguf"]),
                     lseqs, qlog, {"generator": "scripts/make_reference_fixtures.py (scripts/reference/tiny_models.py)",
                                   "compute_dtype": "float64", "weights_seed": QWEN2_SEED,
                                   "forward": "HF Qwen2ForCausalLM semantics: RMSNorm (eps 1e-6), q/k/v projections "
                                              "with bias (added before RoPE), NeoX rotate_half RoPE (HF weights and "
                                              "GGUF alike: llama.cpp does not permute qwen2 Q/K), GQA 4/2, SwiGLU, "
                                              "tied lm_head",
                                   "checked": "HF dir and GGUF (both neox rope) give identical logits (max |diff| "
                                              "<= 1e-6); adjacent-pair rope on the GGUF does not; zeroing any one of "
                                              "the q/k/v biases changes the logits by >= 0.1",
                                   "tokenizer": tok_source})

    made = []
    for d in (g_dir, l_dir, q_dir):
        made += sorted(p for p in d.rglob("*") if p.is_file())
    return made
