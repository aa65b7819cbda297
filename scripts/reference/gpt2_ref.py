"""NumPy reference forward pass for GPT-2 (Hugging Face GPT2LMHeadModel semantics).

x = wte[tok] + wpe[pos]
per block:  a = LN1(x); qkv = a @ W_attn + b_attn (fused, Conv1D, columns [q | k | v]);
            causal softmax(q k^T / sqrt(hd)) v per head; x += attn @ W_proj + b_proj
            m = LN2(x); x += gelu_new(m @ W_fc + b_fc) @ W_proj2 + b_proj2
LN_f, logits = x @ wte^T (tied).
LayerNorm: (x - mean) / sqrt(var + eps) * g + b (biased variance).
gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

Weights are held in the math layout used for y = x @ W.T, i.e. W[out, in] (the GGUF layout).
HF Conv1D stores W[in, out]; load_hf_dir transposes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class GPT2Config:
    n_layer: int
    n_embd: int
    n_head: int
    n_positions: int
    vocab_size: int
    n_inner: int = 0
    eps: float = 1e-5

    def __post_init__(self):
        if not self.n_inner:
            self.n_inner = 4 * self.n_embd


@dataclass
class GPT2Layer:
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    w_qkv: np.ndarray  # (3d, d)
    b_qkv: np.ndarray  # (3d,)
    w_o: np.ndarray  # (d, d)
    b_o: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray
    w_up: np.ndarray  # (ff, d)
    b_up: np.ndarray
    w_down: np.ndarray  # (d, ff)
    b_down: np.ndarray


@dataclass
class GPT2Weights:
    cfg: GPT2Config
    wte: np.ndarray  # (vocab, d)
    wpe: np.ndarray  # (n_pos, d)
    layers: list[GPT2Layer]
    lnf_g: np.ndarray
    lnf_b: np.ndarray
    output: np.ndarray  # (vocab, d); wte when tied
    meta: dict = field(default_factory=dict)


def layer_norm(x, g, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def forward(w: GPT2Weights, tokens, dtype=np.float64) -> np.ndarray:
    cfg = w.cfg
    tokens = np.asarray(tokens, dtype=np.int64)
    T = len(tokens)
    if T > cfg.n_positions:
        raise ValueError("sequence longer than n_positions")
    d, H = cfg.n_embd, cfg.n_head
    hd = d // H
    c = lambda a: np.asarray(a, dtype=dtype)  # noqa: E731
    x = c(w.wte)[tokens] + c(w.wpe)[:T]
    mask = np.triu(np.ones((T, T), dtype=bool), k=1)
    for L in w.layers:
        a = layer_norm(x, c(L.ln1_g), c(L.ln1_b), cfg.eps)
        qkv = a @ c(L.w_qkv).T + c(L.b_qkv)
        q, k, v = qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:]
        out = np.empty((T, d), dtype=dtype)
        for h in range(H):
            s = slice(h * hd, (h + 1) * hd)
            sc = (q[:, s] @ k[:, s].T) / np.sqrt(hd)
            sc = np.where(mask, -np.inf, sc)
            sc -= sc.max(axis=-1, keepdims=True)
            p = np.exp(sc)
            p /= p.sum(axis=-1, keepdims=True)
            out[:, s] = p @ v[:, s]
        x = x + out @ c(L.w_o).T + c(L.b_o)
        m = layer_norm(x, c(L.ln2_g), c(L.ln2_b), cfg.eps)
        x = x + gelu_new(m @ c(L.w_up).T + c(L.b_up)) @ c(L.w_down).T + c(L.b_down)
    x = layer_norm(x, c(w.lnf_g), c(w.lnf_b), cfg.eps)
    return x @ c(w.output).T


def load_hf_dir(path: str | Path) -> GPT2Weights:
    from safetensors.numpy import load_file

    path = Path(path)
    c = json.loads((path / "config.json").read_text())
    t = {k.removeprefix("transformer."): v.astype(np.float32)
         for k, v in load_file(str(path / "model.safetensors")).items()}
    cfg = GPT2Config(n_layer=c["n_layer"], n_embd=c["n_embd"], n_head=c["n_head"], n_positions=c["n_positions"],
                     vocab_size=c["vocab_size"], n_inner=c.get("n_inner") or 0, eps=c["layer_norm_epsilon"])
    layers = []
    for i in range(cfg.n_layer):
        b = f"h.{i}."
        layers.append(GPT2Layer(
            t[b + "ln_1.weight"], t[b + "ln_1.bias"],
            t[b + "attn.c_attn.weight"].T, t[b + "attn.c_attn.bias"],
            t[b + "attn.c_proj.weight"].T, t[b + "attn.c_proj.bias"],
            t[b + "ln_2.weight"], t[b + "ln_2.bias"],
            t[b + "mlp.c_fc.weight"].T, t[b + "mlp.c_fc.bias"],
            t[b + "mlp.c_proj.weight"].T, t[b + "mlp.c_proj.bias"],
        ))
    out = t.get("lm_head.weight", t["wte.weight"])
    return GPT2Weights(cfg, t["wte.weight"], t["wpe.weight"], layers, t["ln_f.weight"], t["ln_f.bias"], out,
                       meta={"path": str(path)})


def load_gguf(path: str | Path) -> GPT2Weights:
    import gguf

    r = gguf.GGUFReader(str(path))
    f = lambda k: r.fields[k].contents()  # noqa: E731
    assert f("general.architecture") == "gpt2"
    t = {}
    for x in r.tensors:
        a = np.asarray(gguf.quants.dequantize(x.data, x.tensor_type), dtype=np.float32)
        t[x.name] = a.reshape(tuple(int(v) for v in reversed(x.shape.tolist())))
    cfg = GPT2Config(n_layer=int(f("gpt2.block_count")), n_embd=int(f("gpt2.embedding_length")),
                     n_head=int(f("gpt2.attention.head_count")), n_positions=int(f("gpt2.context_length")),
                     vocab_size=t["token_embd.weight"].shape[0], n_inner=int(f("gpt2.feed_forward_length")),
                     eps=float(f("gpt2.attention.layer_norm_epsilon")))
    layers = []
    for i in range(cfg.n_layer):
        b = f"blk.{i}."
        layers.append(GPT2Layer(
            t[b + "attn_norm.weight"], t[b + "attn_norm.bias"],
            t[b + "attn_qkv.weight"], t[b + "attn_qkv.bias"],
            t[b + "attn_output.weight"], t[b + "attn_output.bias"],
            t[b + "ffn_norm.weight"], t[b + "ffn_norm.bias"],
            t[b + "ffn_up.weight"], t[b + "ffn_up.bias"],
            t[b + "ffn_down.weight"], t[b + "ffn_down.bias"],
        ))
    out = t.get("output.weight", t["token_embd.weight"])
    return GPT2Weights(cfg, t["token_embd.weight"], t["position_embd.weight"], layers,
                       t["output_norm.weight"], t["output_norm.bias"], out, meta={"path": str(path)})
