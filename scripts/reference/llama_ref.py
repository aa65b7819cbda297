"""NumPy reference forward pass for `llama`-architecture decoder models (and `qwen2`, which is the
same network plus biases on the q/k/v projections, NeoX RoPE in the GGUF too, tied embeddings).

RMSNorm -> attention (RoPE, grouped-query KV heads, causal softmax) -> residual ->
RMSNorm -> SwiGLU FFN -> residual, final RMSNorm, LM head (tied or untied).

Weights are kept in the math layout W[out, in] (y = x @ W.T), which is exactly how
gguf.GGUFReader hands out a GGUF tensor with dims [ne0=in, ne1=out] (numpy shape (ne1, ne0)) and
how Hugging Face stores nn.Linear weights.

Two RoPE conventions, selected by `rope_style`:
  * "adjacent" (ggml's LLAMA_ROPE_TYPE_NORM): rotate pairs (x[2i], x[2i+1]) by pos*theta_i.
    This is what a llama GGUF needs, because llama.cpp's converter permutes the rows of Q and K
    (see `permute_qk_hf_to_gguf`) so that the HF half-split pairs become adjacent.
  * "neox" (HF `rotate_half`, ggml's NEOX type): rotate pairs (x[i], x[i + d/2]).
    This is what Hugging Face LlamaForCausalLM does on unpermuted HF weights.
theta_i = base ** (-2i / rope_dim), i = 0 .. rope_dim/2 - 1.

Compute dtype is a parameter (float64 by default: the reference should be more accurate than any
engine it checks).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class LlamaConfig:
    n_layer: int
    d_model: int
    n_head: int
    n_head_kv: int
    d_ff: int
    vocab_size: int
    rope_base: float
    norm_eps: float
    head_dim: int = 0
    rope_dim: int = 0
    tied_embeddings: bool = True

    def __post_init__(self):
        if not self.head_dim:
            self.head_dim = self.d_model // self.n_head
        if not self.rope_dim:
            self.rope_dim = self.head_dim


@dataclass
class LlamaLayer:
    attn_norm: np.ndarray  # (d,)
    wq: np.ndarray  # (n_head*hd, d)
    wk: np.ndarray  # (n_kv*hd, d)
    wv: np.ndarray  # (n_kv*hd, d)
    wo: np.ndarray  # (d, n_head*hd)
    ffn_norm: np.ndarray  # (d,)
    w_gate: np.ndarray  # (ff, d)
    w_up: np.ndarray  # (ff, d)
    w_down: np.ndarray  # (d, ff)
    bq: np.ndarray | None = None  # (n_head*hd,)  qwen2 only; None = no bias (llama)
    bk: np.ndarray | None = None  # (n_kv*hd,)
    bv: np.ndarray | None = None  # (n_kv*hd,)


@dataclass
class LlamaWeights:
    cfg: LlamaConfig
    tok_embd: np.ndarray  # (vocab, d)
    layers: list[LlamaLayer]
    output_norm: np.ndarray  # (d,)
    output: np.ndarray  # (vocab, d); same object as tok_embd when tied
    meta: dict = field(default_factory=dict)

    def astype(self, dtype) -> "LlamaWeights":
        c = lambda a: np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
        emb = c(self.tok_embd)
        out = emb if self.output is self.tok_embd else c(self.output)
        cn = lambda a: None if a is None else c(a)  # noqa: E731
        layers = [LlamaLayer(*(cn(getattr(l, f)) for f in LlamaLayer.__dataclass_fields__)) for l in self.layers]
        return LlamaWeights(self.cfg, emb, layers, c(self.output_norm), out, dict(self.meta))


# ----------------------------------------------------------------------------------------------
# Q/K permutation between HF (half-split rope) and GGUF (adjacent-pair rope) layouts
# ----------------------------------------------------------------------------------------------

def permute_qk_hf_to_gguf(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute: rows of each head reordered from
    [r0 .. r_{h/2-1}, r_{h/2} .. r_{h-1}] to [r0, r_{h/2}, r1, r_{h/2+1}, ...]."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk_gguf_to_hf(w: np.ndarray, n_head: int) -> np.ndarray:
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------

def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_angles(positions: np.ndarray, rope_dim: int, base: float, dtype) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(rope_dim // 2, dtype=np.float64)
    inv_freq = base ** (-2.0 * i / rope_dim)  # (rope_dim/2,)
    ang = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq[None, :]  # (T, rope_dim/2)
    return np.cos(ang).astype(dtype), np.sin(ang).astype(dtype)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, style: str, rope_dim: int) -> np.ndarray:
    """x: (T, H, hd); cos/sin: (T, rope_dim/2). Dimensions >= rope_dim are left untouched."""
    out = x.copy()
    c = cos[:, None, :]
    s = sin[:, None, :]
    if style == "adjacent":
        a = x[..., 0:rope_dim:2]
        b = x[..., 1:rope_dim:2]
        out[..., 0:rope_dim:2] = a * c - b * s
        out[..., 1:rope_dim:2] = a * s + b * c
    elif style == "neox":
        h = rope_dim // 2
        a = x[..., :h]
        b = x[..., h:rope_dim]
        out[..., :h] = a * c - b * s
        out[..., h:rope_dim] = a * s + b * c
    else:
        raise ValueError(f"unknown rope style {style!r}")
    return out


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


class KVCache:
    """Per-layer K (post-rope) and V, shape (T, n_kv, hd). Used only for incremental decoding."""

    def __init__(self, n_layer: int):
        self.k = [None] * n_layer
        self.v = [None] * n_layer

    @property
    def length(self) -> int:
        return 0 if self.k[0] is None else self.k[0].shape[0]


def forward(w: LlamaWeights, tokens, rope_style: str = "adjacent", cache: KVCache | None = None,
            dtype=np.float64, act_quant=None) -> np.ndarray:
    """Logits (T, vocab) for `tokens`, appended after whatever `cache` holds (positions continue
    from cache.length). Weights are expected to already be in `dtype` (see LlamaWeights.astype).
    act_quant: optional function applied to the input of every weight matmul (used only to
    simulate engines that quantize activations, e.g. to Q8; None for the reference)."""
    aq = act_quant or (lambda a: a)
    cfg = w.cfg
    tokens = np.asarray(tokens, dtype=np.int64)
    T = tokens.shape[0]
    start = cache.length if cache is not None else 0
    pos = np.arange(start, start + T)
    H, KV, hd = cfg.n_head, cfg.n_head_kv, cfg.head_dim
    group = H // KV
    cos, sin = rope_angles(pos, cfg.rope_dim, cfg.rope_base, dtype)
    scale = 1.0 / np.sqrt(hd)

    x = w.tok_embd[tokens].astype(dtype)
    for li, L in enumerate(w.layers):
        h = aq(rms_norm(x, L.attn_norm, cfg.norm_eps))
        q, k, v = h @ L.wq.T, h @ L.wk.T, h @ L.wv.T
        if L.bq is not None:  # qwen2: biases added before RoPE (HF Linear(bias=True))
            q, k, v = q + L.bq, k + L.bk, v + L.bv
        q, k, v = q.reshape(T, H, hd), k.reshape(T, KV, hd), v.reshape(T, KV, hd)
        q = apply_rope(q, cos, sin, rope_style, cfg.rope_dim)
        k = apply_rope(k, cos, sin, rope_style, cfg.rope_dim)
        if cache is not None:
            if cache.k[li] is not None:
                k = np.concatenate([cache.k[li], k], axis=0)
                v = np.concatenate([cache.v[li], v], axis=0)
            cache.k[li], cache.v[li] = k, v
        S = k.shape[0]  # total keys
        # causal mask: query t (absolute start+t) sees keys 0..start+t
        mask = np.arange(S)[None, :] > (start + np.arange(T))[:, None]  # (T, S)
        attn = np.empty((T, H, hd), dtype=dtype)
        for hh in range(H):
            kv = hh // group  # q head hh uses kv head hh // (H/KV)  (HF repeat_kv, ggml broadcast)
            sc = (q[:, hh, :] @ k[:, kv, :].T) * scale  # (T, S)
            sc = np.where(mask, -np.inf, sc)
            sc = sc - sc.max(axis=-1, keepdims=True)
            p = np.exp(sc)
            p /= p.sum(axis=-1, keepdims=True)
            attn[:, hh, :] = p @ v[:, kv, :]
        x = x + aq(attn.reshape(T, H * hd)) @ L.wo.T
        h = aq(rms_norm(x, L.ffn_norm, cfg.norm_eps))
        x = x + aq(silu(h @ L.w_gate.T) * (h @ L.w_up.T)) @ L.w_down.T
    x = aq(rms_norm(x, w.output_norm, cfg.norm_eps))
    return x @ w.output.T


def quantize_q8_blocks(a: np.ndarray) -> np.ndarray:
    """Round-trip through llama.cpp-style 8-bit block quantization along the last axis (blocks of 32,
    scale d = max|x|/127 stored as fp16, q = round(x/d)). Simulation aid only."""
    shp = a.shape
    b = a.reshape(-1, 32).astype(np.float32)
    d = (np.abs(b).max(axis=1, keepdims=True) / 127.0).astype(np.float16).astype(np.float32)
    q = np.round(np.divide(b, d, out=np.zeros_like(b), where=d > 0))
    return (q * d).reshape(shp).astype(a.dtype)


def greedy_generate(w: LlamaWeights, prompt_tokens, n_new: int, rope_style: str = "adjacent",
                    dtype=np.float64, stop_ids=()) -> list[int]:
    cache = KVCache(w.cfg.n_layer)
    logits = forward(w, prompt_tokens, rope_style, cache, dtype)
    out = []
    for _ in range(n_new):
        nxt = int(np.argmax(logits[-1]))
        out.append(nxt)
        if nxt in stop_ids:
            break
        logits = forward(w, [nxt], rope_style, cache, dtype)
    return out


# ----------------------------------------------------------------------------------------------
# loaders
# ----------------------------------------------------------------------------------------------

def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def load_gguf(path: str | Path) -> LlamaWeights:
    """Load a llama (or qwen2) GGUF, dequantizing every tensor to float32 with gguf.quants.dequantize.
    llama: Q/K stay in GGUF (permuted) order, use rope_style="adjacent". qwen2: llama.cpp's converter
    does not permute Q/K (llama.cpp ropes qwen2 NEOX-style), use rope_style="neox"; q/k/v biases."""
    import gguf

    r = gguf.GGUFReader(str(path))
    arch = _field(r, "general.architecture")
    if arch not in ("llama", "qwen2"):
        raise ValueError(f"{path}: architecture {arch!r}, expected 'llama' or 'qwen2'")
    p = arch + "."
    n_head = int(_field(r, p + "attention.head_count"))
    d = int(_field(r, p + "embedding_length"))
    tensors = {}
    qtypes = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type)
        a = np.asarray(a, dtype=np.float32)
        # GGUF dims are [ne0, ne1, ...]; numpy shape is reversed: (ne1, ne0) = (rows, cols)
        expect = tuple(int(x) for x in reversed(t.shape.tolist()))
        if a.shape != expect:
            a = a.reshape(expect)
        tensors[t.name] = a
        qtypes[t.name] = t.tensor_type.name
    emb = tensors["token_embd.weight"]
    cfg = LlamaConfig(
        n_layer=int(_field(r, p + "block_count")),
        d_model=d,
        n_head=n_head,
        n_head_kv=int(_field(r, p + "attention.head_count_kv", n_head)),
        d_ff=int(_field(r, p + "feed_forward_length")),
        vocab_size=emb.shape[0],
        rope_base=float(_field(r, p + "rope.freq_base", 10000.0)),
        norm_eps=float(_field(r, p + "attention.layer_norm_rms_epsilon")),
        head_dim=int(_field(r, p + "attention.key_length", d // n_head)),
        rope_dim=int(_field(r, p + "rope.dimension_count", d // n_head)),
        tied_embeddings="output.weight" not in tensors,
    )
    layers = []
    for i in range(cfg.n_layer):
        b = f"blk.{i}."
        layers.append(LlamaLayer(
            attn_norm=tensors[b + "attn_norm.weight"],
            wq=tensors[b + "attn_q.weight"], wk=tensors[b + "attn_k.weight"], wv=tensors[b + "attn_v.weight"],
            wo=tensors[b + "attn_output.weight"],
            ffn_norm=tensors[b + "ffn_norm.weight"],
            w_gate=tensors[b + "ffn_gate.weight"], w_up=tensors[b + "ffn_up.weight"],
            w_down=tensors[b + "ffn_down.weight"],
            bq=tensors.get(b + "attn_q.bias"), bk=tensors.get(b + "attn_k.bias"), bv=tensors.get(b + "attn_v.bias"),
        ))
    out = tensors.get("output.weight", emb)
    return LlamaWeights(cfg, emb, layers, tensors["output_norm.weight"], out,
                        meta={"qtypes": qtypes, "path": str(path), "arch": arch})


def load_hf_dir(path: str | Path) -> LlamaWeights:
    """Load a Hugging Face LlamaForCausalLM / Qwen2ForCausalLM directory (config.json +
    model.safetensors). Q/K are in HF (unpermuted) order: use rope_style="neox"."""
    from .common import read_safetensors  # handles BF16, which safetensors.numpy cannot

    path = Path(path)
    c = json.loads((path / "config.json").read_text())
    t = read_safetensors(path / "model.safetensors")
    n_head = c["num_attention_heads"]
    hd = c.get("head_dim") or c["hidden_size"] // n_head
    cfg = LlamaConfig(
        n_layer=c["num_hidden_layers"], d_model=c["hidden_size"], n_head=n_head,
        n_head_kv=c.get("num_key_value_heads", n_head), d_ff=c["intermediate_size"],
        vocab_size=c["vocab_size"],
        rope_base=float(c.get("rope_theta", (c.get("rope_parameters") or {}).get("rope_theta", 10000.0))),
        norm_eps=float(c["rms_norm_eps"]), head_dim=hd, rope_dim=hd,
        tied_embeddings=bool(c.get("tie_word_embeddings", False)),
    )
    emb = t["model.embed_tokens.weight"]
    layers = []
    for i in range(cfg.n_layer):
        b = f"model.layers.{i}."
        layers.append(LlamaLayer(
            attn_norm=t[b + "input_layernorm.weight"],
            wq=t[b + "self_attn.q_proj.weight"], wk=t[b + "self_attn.k_proj.weight"],
            wv=t[b + "self_attn.v_proj.weight"], wo=t[b + "self_attn.o_proj.weight"],
            ffn_norm=t[b + "post_attention_layernorm.weight"],
            w_gate=t[b + "mlp.gate_proj.weight"], w_up=t[b + "mlp.up_proj.weight"],
            w_down=t[b + "mlp.down_proj.weight"],
            bq=t.get(b + "self_attn.q_proj.bias"), bk=t.get(b + "self_attn.k_proj.bias"),
            bv=t.get(b + "self_attn.v_proj.bias"),
        ))
    out = emb if cfg.tied_embeddings or "lm_head.weight" not in t else t["lm_head.weight"]
    return LlamaWeights(cfg, emb, layers, t["model.norm.weight"], out,
                        meta={"path": str(path), "arch": c.get("model_type", "llama")})
