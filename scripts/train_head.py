#!/usr/bin/env python3
"""Train an EAGLE-style draft head for a target GGUF model (docs/DRAFT_HEADS.md).

Reads the target's sizes, embedding and output rows from its GGUF file and a features folder
written by `rooflm features`; trains one llama decoder layer over concat(e(x[t+1]), f[t]) that
predicts f[t+1] (SmoothL1) and, through the target's frozen output rows of a frequency-ranked
draft vocabulary, the target's next-token distribution (cross-entropy vs its top-k); writes
the head GGUF, a .json log beside it and optionally an SVG loss chart.

usage: scripts/train_head.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf
           --features data/feat_smollm2 [--features more ...] --out heads/smollm2.head.gguf
           [--draft-vocab 8192] [--ff N] [--heads H] [--kv-heads N] [--seq 512]
           [--batch-tokens 4096] [--epochs 2] [--minutes 40] [--lr 3e-4] [--seed 0]
           [--threads 2] [--max-steps N] [--loss-chart out.svg] [--smoke]

Training: sequences are cut into windows of --seq pairs (pair t = (x[t+1], f[t]) at absolute
position t; RoPE is relative, so t vs t+1 makes no difference); every 50th sequence is held out
for validation. Loss = SmoothL1(f_hat, f[t+1]) + --w-tok * CE(draft logits, target top-k renormalised
to the draft vocabulary; skipped where that mass < 0.5). AdamW, linear warmup then cosine to 10%
over max(step share, wall-time share of --minutes), grad clip 0.5. bf16 autocast when the CPU has
AMX-BF16; master weights f32.
Initialisation: fc = [N(0, 0.02) | I] so the residual stream starts as f[t]; other matrices
N(0, 0.02); attn/ffn norms 1; output_norm = the features' mean RMS, so that f_hat starts near
f[t] (a "copy the last feature" baseline) rather than at noise.
--smoke (CI): 30 steps on --features (default: a synthetic folder from the test helper at the
end), exits 1 unless the mean loss of the last 5 steps is below that of the first 5.
"""
import argparse
import json
import math
import os
import shlex
import sys
import tempfile
import time

import numpy as np
import gguf

Q8 = gguf.GGMLQuantizationType.Q8_0
ARCH = "rooflm-head"


def die(msg):
    sys.exit(f"train_head: error: {msg}")


# ---------------------------------------------------------------- target model

class FastReader(gguf.GGUFReader):
    """GGUFReader slicing a plain ndarray view of its mapping: the stock reader builds a numpy
    memmap per metadata string, ~30 s for gemma's 262k-token vocabulary; this takes ~6 s."""

    def _get(self, offset, dtype, count=1, override_order=None):
        if getattr(self, "_plain", None) is None:
            self._plain = self.data.view(np.ndarray)
        count = int(count)
        arr = self._plain[offset:offset + np.dtype(dtype).itemsize * count].view(dtype=dtype)[:count]
        return arr.view(arr.dtype.newbyteorder(self.byte_order if override_order is None else override_order))


def weights_hash(path, offset):
    """docs/DRAFT_HEADS.md: sum_i ((w[i] ^ i*K1) * K2) mod 2^64 over the tensor data's LE u64 words."""
    k1, k2, mask = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, (1 << 64) - 1
    raw = np.memmap(path, np.uint8, "r", offset=offset)
    chunk = 1 << 22  # words per chunk (32 MiB)
    local = np.arange(chunk, dtype=np.uint64) * np.uint64(k1)  # wraps mod 2^64, as wanted
    tmp = np.empty(chunk, np.uint64)
    h = 0
    for w0 in range(0, (len(raw) + 7) // 8, chunk):
        b = raw[w0 * 8:(w0 + chunk) * 8]
        if len(b) % 8:  # zero-pad the last word
            b = np.concatenate([b, np.zeros(8 - len(b) % 8, np.uint8)])
        w = b.view("<u8")
        t = tmp[:len(w)]
        np.add(local[:len(w)], np.uint64((w0 * k1) & mask), out=t)  # (w0 + j) * K1
        np.bitwise_xor(t, w, out=t)
        np.multiply(t, np.uint64(k2), out=t)
        h = (h + int(t.sum(dtype=np.uint64))) & mask
    h ^= h >> 31
    return f"{h:016x}"


class Target:
    def __init__(self, path):
        if not os.path.isfile(path):
            die(f"{path}: no such model file (scripts/fetch_models.py fetches the real ones)")
        r = FastReader(path)
        self.path, self.data_offset = path, r.data_offset

        def meta(key, default=None):
            f = r.fields.get(key)
            if f is None:
                if default is None:
                    die(f"{path}: metadata '{key}' is missing")
                return default
            return f.contents()

        self.arch = meta("general.architecture")
        self.name = meta("general.name", self.arch)
        a = self.arch + "."
        self.n_embd, self.n_layer = int(meta(a + "embedding_length")), int(meta(a + "block_count"))
        self.n_ff, self.n_ctx = int(meta(a + "feed_forward_length")), int(meta(a + "context_length"))
        self.eps = float(meta(a + "attention.layer_norm_rms_epsilon", 1e-5))
        tensors = {t.name: t for t in r.tensors}
        self.embd = tensors["token_embd.weight"]
        self.out = tensors.get("output.weight", self.embd)  # tied embeddings
        self.out_norm = tensors.get("output_norm.weight")
        self.n_vocab = int(self.embd.shape[1])  # GGUF dims are [cols, rows]
        self.hash = weights_hash(path, r.data_offset)

    def rows(self, tensor, ids, chunk=8192):
        """Dequantized float32 rows `ids` of a [rows, n_embd] tensor, a chunk at a time."""
        ids = np.asarray(ids, np.int64)
        out = np.empty((len(ids), self.n_embd), np.float32)
        for i in range(0, len(ids), chunk):
            raw = np.asarray(tensor.data[ids[i:i + chunk]])
            out[i:i + chunk] = gguf.quants.dequantize(raw, tensor.tensor_type).reshape(-1, self.n_embd)
        return out


# ---------------------------------------------------------------- features

class Features:
    def __init__(self, d, target):
        try:
            with open(os.path.join(d, "meta.json")) as f:
                self.meta = json.load(f)
        except (OSError, ValueError) as e:
            die(f"{d}: cannot read meta.json ({e})")
        m, h = self.meta, target.hash
        for key, want in (("n_embd", target.n_embd), ("n_vocab", target.n_vocab), ("weights_hash", h)):
            if m.get(key) != want:
                die(f"{d}: features were made for another model: meta.json {key} = {m.get(key)!r}, "
                    f"{target.path} has {want!r}")
        load = lambda name: np.load(os.path.join(d, name), mmap_mode="r")  # noqa: E731
        self.dir = d
        self.tokens, self.starts = np.asarray(load("tokens.npy")), np.asarray(load("starts.npy"))
        self.feats, self.topk_ids, self.topk_probs = load("features.npy"), load("topk_ids.npy"), load("topk_probs.npy")
        n = len(self.tokens)
        if self.starts[0] != 0 or self.starts[-1] != n or self.feats.shape != (n, target.n_embd) \
                or self.topk_ids.shape[0] != n or self.topk_probs.shape != self.topk_ids.shape:
            die(f"{d}: inconsistent shapes (tokens {n}, starts[-1] {self.starts[-1]}, features "
                f"{self.feats.shape}, topk {self.topk_ids.shape} / {self.topk_probs.shape})")


def make_windows(feats, seq):
    """(folder, first row, pairs, position of the first pair, is_val) per window of <= seq pairs.
    Pair t of a sequence reads (x[t+1], f[t]) and predicts row t+1; it sits at position t."""
    out, g = [], 0
    for fi, F in enumerate(feats):
        for s in range(len(F.starts) - 1):
            a, b = int(F.starts[s]), int(F.starts[s + 1])
            val = g % 50 == 25  # 2% of the sequences, deterministic
            g += 1
            for w0 in range(0, b - a - 1, seq):
                out.append((fi, a + w0, min(seq, b - a - 1 - w0), w0, val))
    if out and not any(w[4] for w in out) and g >= 2:  # tiny folders: hold out the last sequence
        a = int(feats[-1].starts[-2])
        out = [w[:4] + (w[0] == len(feats) - 1 and w[1] >= a,) for w in out]
    return out


def batches(windows, batch_tokens, rng):
    """Shuffled batches of windows; each pool of 64 windows is sorted by length to limit padding."""
    order = rng.permutation(len(windows))
    out = []
    for p in range(0, len(order), 64):
        pool = sorted(order[p:p + 64], key=lambda i: -windows[i][2])
        cur = []
        for i in pool:
            if cur and (len(cur) + 1) * windows[cur[0]][2] > batch_tokens:
                out.append(cur)
                cur = []
            cur.append(i)
        out.append(cur)
    return [out[i] for i in rng.permutation(len(out))]


# ---------------------------------------------------------------- model

def build_model(torch, d, ff, n_head, n_kv, eps, theta):
    nn, F = torch.nn, torch.nn.functional
    hd = d // n_head

    def rms(x, w):  # in f32 even under autocast
        x = x.float()
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    def rot(x):  # NeoX rotate_half: pairs (i, i + hd/2)
        return torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            lin = lambda i, o: nn.Linear(i, o, bias=False)  # noqa: E731
            self.fc = lin(2 * d, d)
            self.q, self.k, self.v, self.o = lin(d, d), lin(d, n_kv * hd), lin(d, n_kv * hd), lin(d, d)
            self.gate, self.up, self.down = lin(d, ff), lin(d, ff), lin(ff, d)
            self.attn_norm, self.ffn_norm, self.out_norm = (nn.Parameter(torch.ones(d)) for _ in range(3))
            self.register_buffer("inv_freq", theta ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd))

        def forward(self, e, f, pos, prev_kv=()):
            """f_hat and this pass's (k, v). prev_kv: the (k, v) of the earlier unrolled passes
            (training-time test): pass s at position u sees pass 1's keys up to u - s + 1 and pass
            r's key at u - (s - r), exactly the rows a depth-s draft node attends to."""
            B, T, _ = f.shape
            x = self.fc(torch.cat([e, f], -1))
            h = rms(x, self.attn_norm)
            q = self.q(h).view(B, T, n_head, hd).transpose(1, 2)
            k = self.k(h).view(B, T, n_kv, hd).transpose(1, 2)
            v = self.v(h).view(B, T, n_kv, hd).transpose(1, 2)
            ang = pos[:, None, :, None].float() * self.inv_freq  # [B,1,T,hd/2], absolute positions
            cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
            q, k = (q * cos + rot(q) * sin).to(v.dtype), (k * cos + rot(k) * sin).to(v.dtype)
            if not prev_kv:
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=n_kv != n_head)
            else:
                s = len(prev_kv) + 1
                ks = torch.cat([kv[0].to(k.dtype) for kv in prev_kv] + [k], 2)
                vs = torch.cat([kv[1].to(v.dtype) for kv in prev_kv] + [v], 2)
                u = torch.arange(T)[:, None]
                masks = [torch.arange(T)[None, :] <= u - (s - 1)]
                masks += [torch.arange(T)[None, :] == u - (s - r) for r in range(2, s + 1)]
                a = F.scaled_dot_product_attention(q, ks, vs, attn_mask=torch.cat(masks, 1),
                                                   enable_gqa=n_kv != n_head)
            x = x + self.o(a.transpose(1, 2).reshape(B, T, d))
            h = rms(x, self.ffn_norm)
            x = x + self.down(F.silu(self.gate(h)) * self.up(h))
            return rms(x, self.out_norm), (k, v)

    return Head()


# ---------------------------------------------------------------- training

def load_batch(torch, feats, windows, idx, lut_emb, lut_draft):
    """Padded tensors for windows `idx`: inputs e-row ids, f[t], positions; targets f[t+1], top-k."""
    B, T = len(idx), max(windows[i][2] for i in idx)
    F0 = feats[0]
    d, K = F0.feats.shape[1], F0.topk_ids.shape[1]
    emb = np.zeros((B, T), np.int64)
    fin, ftg = np.zeros((B, T, d), np.float32), np.zeros((B, T, d), np.float32)
    tk_ids, tk_p = np.full((B, T, K), -1, np.int64), np.zeros((B, T, K), np.float32)
    top1, pos, valid = np.full((B, T), -1, np.int64), np.zeros((B, T), np.int64), np.zeros((B, T), bool)
    for b, i in enumerate(idx):
        fi, r, n, p0, _ = windows[i]
        F = feats[fi]
        f = np.asarray(F.feats[r:r + n + 1], np.float32)
        fin[b, :n], ftg[b, :n] = f[:-1], f[1:]
        emb[b, :n] = lut_emb[F.tokens[r + 1:r + n + 1]]
        ids = np.asarray(F.topk_ids[r + 1:r + n + 1])
        tk_ids[b, :n, :ids.shape[1]], tk_p[b, :n, :ids.shape[1]] = lut_draft[ids], F.topk_probs[r + 1:r + n + 1]
        top1[b, :n], pos[b, :n], valid[b, :n] = ids[:, 0], np.arange(p0, p0 + n), True
    t = torch.from_numpy
    return dict(emb=t(emb), fin=t(fin), ftg=t(ftg), tk_ids=t(tk_ids), tk_p=t(tk_p), top1=t(top1),
                pos=t(pos), valid=t(valid))


def losses(torch, model, E, W, bt, noise_amp=0.0, w_tok=0.1, reg_scale=1.0, unroll=1):
    """(total, reg, tok, logits of pass 1's valid positions [n, draft vocab]). With unroll > 1,
    pass s reads pass s-1's predictions as its features (EAGLE-3's training-time test), so the
    head learns to draft deeper from its own outputs; the losses are averaged over the passes."""
    F = torch.nn.functional
    fin = bt["fin"]
    if noise_amp > 0:  # EAGLE: uniform noise on the input features
        fin = fin + (torch.rand_like(fin) * 2 - 1) * noise_amp
    emb, kvs, total, first = E[bt["emb"]], [], 0.0, None
    for step in range(unroll):
        fh, kv = model(emb, fin, bt["pos"], tuple(kvs))
        kvs.append(kv)
        valid = bt["valid"].clone()
        valid[:, :step] = False  # pass s predicts from pass s-1 at the position before
        # reg_scale: features are compared in units of reg_scale (--reg-scale rms: their mean RMS, so a
        # model whose output norm scales features up, like Gemma 3's, keeps SmoothL1 in its quadratic range)
        reg = F.smooth_l1_loss(fh[valid] / reg_scale, bt["ftg"][valid] / reg_scale, reduction="none").mean(-1)
        logits = (fh[valid] @ W.t()).float()  # padding rows dropped before the big matmul
        ids, p = bt["tk_ids"][valid], bt["tk_p"][valid]
        p = p * (ids >= 0)
        mass = p.sum(-1)
        ok = mass >= 0.5  # too little of the target's mass inside the draft vocabulary: no token loss
        p = p / mass.clamp_min(1e-6)[..., None]
        # Cross-entropy vs the renormalised top-k: -sum_k p_k log softmax(z)_k = lse(z) - sum_k p_k z_k
        # (cheaper than a full log_softmax tensor and its backward).
        tok = torch.logsumexp(logits, -1) - (p * logits.gather(-1, ids.clamp_min(0))).sum(-1)
        reg_m = reg.mean() if len(reg) else reg.sum()
        tok_m = (tok * ok).sum() / ok.sum().clamp_min(1)
        total = total + (reg_m + w_tok * tok_m) / unroll
        if first is None:
            first = (reg_m, tok_m, logits)
        fin = torch.cat([torch.zeros_like(fh[:, :1]), fh[:, :-1]], 1)  # position u reads f_hat of u - 1
    return (total,) + first


def evaluate(torch, model, E, W, feats, windows, val_idx, luts, args, autocast):
    """Validation losses and top-1 agreement with the target (misses include top-1 outside the vocab)."""
    model.eval()
    s = dict(reg=0.0, tok=0.0, n=0, hit=0, inv=0)
    with torch.no_grad(), autocast():
        for idx in batches([windows[i] for i in val_idx], args.batch_tokens, np.random.default_rng(0)):
            bt = load_batch(torch, feats, [windows[val_idx[i]] for i in idx], range(len(idx)), *luts)
            _, reg, tok, logits = losses(torch, model, E, W, bt, 0.0, args.w_tok, args.reg_scale_value)
            top1_d = luts[1][bt["top1"][bt["valid"]].numpy()]  # target top-1 as a draft index
            n, pred, inv = len(top1_d), logits.argmax(-1).numpy(), top1_d >= 0
            s["reg"] += float(reg) * n
            s["tok"] += float(tok) * n
            s["n"] += n
            s["hit"] += int((inv & (pred == top1_d)).sum())
            s["inv"] += int(inv.sum())
    model.train()
    n = max(s["n"], 1)
    return dict(reg=s["reg"] / n, tok=s["tok"] / n, top1=s["hit"] / n, top1_in_vocab=s["hit"] / max(s["inv"], 1),
                positions=s["n"])


def draft_vocab(feats, n_vocab, size, min_top1):
    """The `size` most frequent tokens (ties: more often the target's top-1, then lower id),
    forced to hold every token that is the target's top-1 at least `min_top1` times."""
    tok = sum(np.bincount(F.tokens, minlength=n_vocab) for F in feats)
    top1 = sum(np.bincount(np.asarray(F.topk_ids[:, 0]), minlength=n_vocab) for F in feats)
    ids = np.arange(n_vocab)
    must = top1 >= min_top1
    size = min(size, n_vocab)
    if must.sum() > size:
        print(f"warning: {must.sum()} tokens are the target's top-1 >= {min_top1} times; "
              f"keeping the {size} most frequent", flush=True)
    chosen = np.lexsort((ids, -top1, -tok, ~must))[:size]  # lexsort: last key is the primary one
    return chosen[np.lexsort((chosen, -top1[chosen], -tok[chosen]))], tok, top1


# ---------------------------------------------------------------- output files

def write_head(path, args, tgt, model, w_out_q8, vocab, info):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    w = gguf.GGUFWriter(path, ARCH)
    a = ARCH + "."
    w.add_name(f"{ARCH} for {tgt.name}")
    for k, v in (("embedding_length", tgt.n_embd), ("feed_forward_length", args.ff), ("block_count", 1),
                 ("attention.head_count", args.heads), ("attention.head_count_kv", args.kv_heads),
                 ("context_length", tgt.n_ctx), ("vocab_size", tgt.n_vocab), ("draft_vocab_size", len(vocab)),
                 ("target.embedding_length", tgt.n_embd), ("target.vocab_size", tgt.n_vocab),
                 ("target.block_count", tgt.n_layer)):
        w.add_uint32(a + k, int(v))
    w.add_float32(a + "attention.layer_norm_rms_epsilon", tgt.eps)
    w.add_float32(a + "rope.freq_base", args.rope_base)
    w.add_string(a + "target.architecture", tgt.arch)
    w.add_string(a + "target.name", tgt.name)
    w.add_string(a + "target.weights_hash", tgt.hash)
    for k, v in info.items():
        w.add_string(a + "train." + k, str(v))
    q8 = lambda name, m: w.add_tensor(name, gguf.quants.quantize(np.ascontiguousarray(m), Q8), raw_dtype=Q8)  # noqa
    f32 = lambda name, m: w.add_tensor(name, np.ascontiguousarray(m, np.float32))  # noqa: E731
    q8("fc.weight", sd["fc.weight"])  # numpy [n_embd, 2 n_embd]: columns [e(x) | f]
    f32("blk.0.attn_norm.weight", sd["attn_norm"])
    for gname, mname in (("attn_q", "q"), ("attn_k", "k"), ("attn_v", "v"), ("attn_output", "o")):
        q8(f"blk.0.{gname}.weight", sd[mname + ".weight"])
    f32("blk.0.ffn_norm.weight", sd["ffn_norm"])
    for gname in ("gate", "up", "down"):
        q8(f"blk.0.ffn_{gname}.weight", sd[gname + ".weight"])
    f32("output_norm.weight", sd["out_norm"])
    w.add_tensor("output.weight", w_out_q8, raw_dtype=Q8)
    w.add_tensor("draft_vocab", np.asarray(vocab, np.int32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_chart(path, step_losses, epochs):
    """A plain SVG: smoothed training loss per step, validation top-1 per epoch (right axis)."""
    W, H, L, R, T, B = 720, 360, 60, 60, 30, 40
    k = max(1, len(step_losses) // 50)  # trailing mean over k steps
    c = np.cumsum(np.concatenate([[0.0], step_losses]))
    sm = [(c[i + 1] - c[max(0, i + 1 - k)]) / min(k, i + 1) for i in range(len(step_losses))]
    n = max(len(sm), 2)
    lo, hi = (min(sm), max(sm)) if sm else (0, 1)
    hi = hi if hi > lo else lo + 1
    px = lambda i: L + (W - L - R) * i / (n - 1)  # noqa: E731
    py = lambda v: T + (H - T - B) * (1 - (v - lo) / (hi - lo))  # noqa: E731
    pa = lambda v: T + (H - T - B) * (1 - v)  # noqa: E731
    stride = max(1, len(sm) // 600)
    pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(sm) if i % stride == 0 or i == len(sm) - 1)
    acc = [(px(min(e["step"], n - 1)), pa(e["val"]["top1"]), e["val"]["top1"]) for e in epochs if e.get("val")]
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>',
         f'<text x="{L}" y="18">draft head training: loss (smoothed, blue, left) and validation top-1 (orange, right)</text>',
         f'<text x="{L - 5}" y="{T + 4}" text-anchor="end">{hi:.3g}</text>',
         f'<text x="{L - 5}" y="{H - B + 4}" text-anchor="end">{lo:.3g}</text>',
         f'<text x="{W - R + 5}" y="{T + 4}">1.0</text><text x="{W - R + 5}" y="{H - B + 4}">0.0</text>',
         f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle">step (0 .. {len(sm)})</text>',
         f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/>']
    if acc:
        o.append('<polyline fill="none" stroke="#ff7f0e" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in acc) + '"/>')
        o += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#ff7f0e"/><text x="{x - 4:.1f}" y="{y - 8:.1f}" '
              f'text-anchor="end">{v:.3f}</text>' for x, y, v in acc]
    o.append("</svg>\n")
    with open(path, "w") as f:
        f.write("\n".join(o))


# ---------------------------------------------------------------- test helper

def fake_features(out_dir, tgt, n_tokens=20000, K=8, seed=0):
    """TEST HELPER ONLY: a features folder in the documented format from a synthetic chain whose
    features depend on (previous feature, current token) and whose top-k comes from the target's
    real output rows, so a head can learn it. Not real target features."""
    rng = np.random.default_rng(seed)
    d = tgt.n_embd
    sub = np.sort(rng.choice(tgt.n_vocab, min(tgt.n_vocab, 2048), replace=False))  # sampled vocabulary
    E, Wo = tgt.rows(tgt.embd, sub), tgt.rows(tgt.out, sub)
    g = np.asarray(tgt.out_norm.data, np.float32).reshape(d) if tgt.out_norm is not None else np.ones(d, np.float32)
    R = rng.standard_normal((d, d)).astype(np.float32) / math.sqrt(d) / (np.sqrt((E ** 2).mean()) + 1e-6)
    lens = []
    while sum(lens) < n_tokens:
        lens.append(int(rng.integers(40, 700)))
    lens[-1] -= sum(lens) - n_tokens
    S, T = len(lens), max(lens)
    x = np.zeros((S, T), np.int64)
    f = np.zeros((S, T, d), np.float32)
    ids, probs = np.zeros((S, T, K), np.int64), np.zeros((S, T, K), np.float32)
    x[:, 0] = rng.integers(0, len(sub), S)
    h = rng.standard_normal((S, d)).astype(np.float32)
    for t in range(T):
        h = 0.7 * h + E[x[:, t]] @ R
        f[:, t] = h / np.sqrt((h ** 2).mean(-1, keepdims=True) + tgt.eps) * g
        logits = f[:, t] @ Wo.T
        p = np.exp(logits - logits.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        top = np.argsort(-p, -1)[:, :K]
        ids[:, t], probs[:, t] = top, np.take_along_axis(p, top, -1)
        if t + 1 < T:
            x[:, t + 1] = (p.cumsum(-1) > rng.random((S, 1))).argmax(-1)
    os.makedirs(out_dir, exist_ok=True)
    cat = lambda a: np.concatenate([a[s, :lens[s]] for s in range(S)])  # noqa: E731
    np.save(os.path.join(out_dir, "tokens.npy"), sub[cat(x)].astype(np.int32))
    np.save(os.path.join(out_dir, "starts.npy"), np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))
    np.save(os.path.join(out_dir, "features.npy"), cat(f).astype(np.float16))
    np.save(os.path.join(out_dir, "topk_ids.npy"), sub[cat(ids)].astype(np.int32))
    np.save(os.path.join(out_dir, "topk_probs.npy"), cat(probs).astype(np.float16))
    meta = dict(model=tgt.path, architecture=tgt.arch, n_embd=d, n_vocab=tgt.n_vocab, top_k=K, positions=n_tokens, sequences=S,
                weights_hash=tgt.hash, fake=True)
    with open(os.path.join(out_dir, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
    print(f"fake features: {n_tokens} tokens in {S} sequences -> {out_dir}", flush=True)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="target GGUF")
    ap.add_argument("--features", action="extend", nargs="+", default=[], help="features folder(s)")
    ap.add_argument("--out", help="head GGUF to write")
    ap.add_argument("--draft-vocab", type=int, default=8192)
    ap.add_argument("--min-top1", type=int, default=3, help="keep tokens that are the target's top-1 this often")
    ap.add_argument("--ff", type=int, help="default: the target's, capped at 4 n_embd")
    ap.add_argument("--heads", type=int, help="default: n_embd / 64")
    ap.add_argument("--kv-heads", type=int, help="default: heads / 3 rounded to a divisor")
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--batch-tokens", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=40.0, help="stop training at this wall time")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--w-tok", type=float, default=0.1, help="weight of the token cross-entropy")
    ap.add_argument("--unroll", type=int, default=1,
                    help="training-time test: passes per step, each reading the previous pass's predictions")
    ap.add_argument("--reg-scale", choices=["1", "rms"], default="1",
                    help="units of the feature regression: 1, or the features' mean RMS (for large-scale features)")
    ap.add_argument("--noise", type=float, default=0.1, help="uniform input-feature noise, times the feature std")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto", help="autocast (auto: if AMX-BF16)")
    ap.add_argument("--max-steps", type=int)
    ap.add_argument("--loss-chart", help="SVG to write")
    ap.add_argument("--smoke", action="store_true",
                    help="CI: 30 steps (--features optional: synthetic), exit 1 unless the loss went down")
    ap.add_argument("--fake-features", help=argparse.SUPPRESS)  # test helper: write a synthetic folder
    ap.add_argument("--fake-tokens", type=int, default=20000, help=argparse.SUPPRESS)
    args = ap.parse_args()
    t_start = time.time()

    tgt = Target(args.model)
    if args.fake_features:
        fake_features(args.fake_features, tgt, args.fake_tokens, seed=args.seed)
        return
    tmp = None
    if args.smoke:
        args.max_steps, args.epochs = args.max_steps or 30, 10 ** 6  # steps, not epochs, end it
        args.lr = max(args.lr, 2e-3)  # a visible drop within 30 steps
        args.bf16 = "off" if args.bf16 == "auto" else args.bf16  # f32: the same numbers on any CI CPU
        args.batch_tokens, args.seq = min(args.batch_tokens, 1024), min(args.seq, 256)
        if not args.features:  # no folder given: a synthetic one
            tmp = tempfile.TemporaryDirectory()
            fake_features(os.path.join(tmp.name, "feat"), tgt, 4000, seed=args.seed)
            args.features = [os.path.join(tmp.name, "feat")]
        args.out = args.out or os.path.join(tmp.name if tmp else tempfile.mkdtemp(), "smoke.head.gguf")
    if not args.features or not args.out:
        die("--features and --out are required")

    d = tgt.n_embd
    args.ff = args.ff or min(tgt.n_ff, 4 * d)
    if not args.heads:
        args.heads = max(1, d // 64)
        while d % args.heads or (d // args.heads) % 2:
            args.heads -= 1
    if not args.kv_heads:
        divs = [k for k in range(1, args.heads + 1) if args.heads % k == 0]
        args.kv_heads = min(divs, key=lambda k: (abs(k - args.heads / 3), k))
    if d % args.heads or (d // args.heads) % 2 or args.heads % args.kv_heads or d % 32 or args.ff % 32:
        die(f"bad sizes: n_embd {d}, heads {args.heads}, kv heads {args.kv_heads}, ff {args.ff} "
            "(head_dim must be even, heads a multiple of kv heads, n_embd and ff multiples of 32 for Q8_0)")
    feats = [Features(p, tgt) for p in args.features]
    print(f"target {tgt.path}: {tgt.arch} '{tgt.name}', n_embd {d}, vocab {tgt.n_vocab}, "
          f"hash {tgt.hash}; features {sum(len(F.tokens) for F in feats)} tokens "
          f"in {sum(len(F.starts) - 1 for F in feats)} sequences", flush=True)

    # Draft vocabulary and coverage.
    vocab, tok_count, top1_count = draft_vocab(feats, tgt.n_vocab, args.draft_vocab, args.min_top1)
    lut_draft = np.full(tgt.n_vocab, -1, np.int64)
    lut_draft[vocab] = np.arange(len(vocab))
    nxt = np.concatenate([np.delete(F.tokens, F.starts[:-1]) for F in feats])  # tokens that follow another
    cov = float((lut_draft[nxt] >= 0).mean()) if len(nxt) else 0.0
    cov1 = float(top1_count[vocab].sum() / max(top1_count.sum(), 1))
    print(f"draft vocab {len(vocab)}: covers {100 * cov:.2f}% of next tokens, {100 * cov1:.2f}% of target top-1",
          flush=True)

    # Frozen tables: embedding rows of the tokens present (compact), output rows via Q8_0.
    present = np.nonzero(tok_count)[0]
    lut_emb = np.zeros(tgt.n_vocab, np.int64)
    lut_emb[present] = np.arange(len(present))
    w_out_q8 = gguf.quants.quantize(tgt.rows(tgt.out, vocab), Q8)  # what the engine will multiply

    # Sleeping, not spinning, OpenMP workers: on a shared machine spinning threads that lose their
    # core stall every parallel region (measured 2.3x faster with 2 threads under load).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # late: ~2 s to import, not needed for the checks above
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    E = torch.from_numpy(tgt.rows(tgt.embd, present))
    W = torch.from_numpy(gguf.quants.dequantize(w_out_q8, Q8).reshape(len(vocab), d))
    amx = "amx_bf16" in open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else False
    bf16 = args.bf16 == "on" or (args.bf16 == "auto" and amx)
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)  # noqa: E731
    if bf16:
        W = W.to(torch.bfloat16)  # frozen: cast once, not in every step's autocast

    windows = make_windows(feats, args.seq)
    train_idx = [i for i, w in enumerate(windows) if not w[4]]
    val_idx = [i for i, w in enumerate(windows) if w[4]]
    sample = np.concatenate([np.asarray(F.feats[:: max(1, len(F.tokens) // 4096)], np.float32) for F in feats])
    feat_std, feat_rms = float(sample.std()), float(np.sqrt((sample ** 2).mean(-1)).mean())
    args.reg_scale_value = feat_rms if args.reg_scale == "rms" else 1.0

    model = build_model(torch, d, args.ff, args.heads, args.kv_heads, tgt.eps, args.rope_base)
    with torch.no_grad():
        for m in (model.q, model.k, model.v, model.o, model.gate, model.up, model.down, model.fc):
            torch.nn.init.normal_(m.weight, std=0.02)
        model.fc.weight[:, d:] = torch.eye(d)  # the residual stream starts as f[t]
        model.out_norm.fill_(feat_rms)  # so f_hat starts near f[t], not at unit scale
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    rng = np.random.default_rng(args.seed)
    per_epoch = len(batches([windows[i] for i in train_idx], args.batch_tokens, np.random.default_rng(0)))
    total = min(args.max_steps or 10 ** 12, per_epoch * args.epochs)
    warm = max(1, min(200, total // 20))
    budget = 60 * args.minutes
    print(f"head: n_embd {d}, ff {args.ff}, heads {args.heads}/{args.kv_heads}, draft vocab {len(vocab)}; "
          f"{len(train_idx)} train / {len(val_idx)} val windows of <= {args.seq}, {per_epoch} steps/epoch, "
          f"bf16 autocast {'on' if bf16 else 'off'} (AMX-BF16 {'yes' if amx else 'no'}), {args.threads} threads",
          flush=True)

    step, seen, step_losses, points, epochs = 0, 0, [], [], []
    t_train = time.time()
    t_last, acc = t_train, [0.0, 0.0, 0.0, 0, 0]  # loss, reg, tok, steps, tokens since the last point

    def emit(ep, now):  # a progress point: means since the last one
        k = acc[3]
        pt = dict(step=step, epoch=ep + 1, elapsed_s=round(now - t_start, 1), tokens=seen, lr=lr,
                  loss=acc[0] / k, reg=acc[1] / k, tok=acc[2] / k, tokens_per_s=acc[4] / max(now - t_last, 1e-9))
        points.append(pt)
        print(f"[{pt['elapsed_s']:7.1f}s] epoch {ep + 1} step {step}/{total} loss {pt['loss']:.4f} "
              f"(reg {pt['reg']:.4f}, tok {pt['tok']:.4f}) lr {lr:.2e} {pt['tokens_per_s']:.0f} tok/s", flush=True)
        return now, [0.0, 0.0, 0.0, 0, 0]

    stop = None
    for ep in range(args.epochs):
        ep_sum, ep_n, ep_tok, ep_t0 = [0.0, 0.0], 0, 0, time.time()
        for idx in batches([windows[i] for i in train_idx], args.batch_tokens, rng):
            bt = load_batch(torch, feats, [windows[train_idx[i]] for i in idx], range(len(idx)), lut_emb, lut_draft)
            # LR: linear warmup, then cosine to 10% over max(step share, wall-time share)
            prog = max(min(step / total, 1), (time.time() - t_start) / budget)
            lr = args.lr * (min(1, (step + 1) / warm) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(prog, 1)))))
            for g in opt.param_groups:
                g["lr"] = lr
            with autocast():
                loss, reg, tok, _ = losses(torch, model, E, W, bt, args.noise * feat_std, args.w_tok, args.reg_scale_value,
                                           args.unroll)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            n = int(bt["valid"].sum())
            loss, reg, tok = loss.item(), reg.item(), tok.item()
            step, seen = step + 1, seen + n
            step_losses.append(loss)
            ep_sum, ep_n, ep_tok = [ep_sum[0] + reg, ep_sum[1] + tok], ep_n + 1, ep_tok + n
            acc = [acc[0] + loss, acc[1] + reg, acc[2] + tok, acc[3] + 1, acc[4] + n]
            now = time.time()
            if args.max_steps and step >= args.max_steps:
                stop = "steps"
            elif now - t_start >= budget:
                stop = "minutes"
            if now - t_last >= 30 or stop:
                t_last, acc = emit(ep, now)
            if stop:
                break
        ep_rate = ep_tok / (time.time() - ep_t0)
        if args.smoke and not stop:  # smoke epochs are a few steps: report only the last one
            continue
        if acc[3]:
            t_last, acc = emit(ep, time.time())
        val = evaluate(torch, model, E, W, feats, windows, val_idx, (lut_emb, lut_draft), args, autocast) \
            if val_idx else None
        e = dict(epoch=ep + 1, step=step, complete=not stop, train_reg=ep_sum[0] / max(ep_n, 1),
                 train_tok=ep_sum[1] / max(ep_n, 1), tokens_per_s=ep_rate, val=val)
        epochs.append(e)
        vs = (f"val top-1 {val['top1']:.4f} (in vocab {val['top1_in_vocab']:.4f}), reg {val['reg']:.4f}, "
              f"tok {val['tok']:.4f}" if val else "no validation sequences")
        print(f"epoch {ep + 1}{'' if not stop else ' (stopped: ' + stop + ')'}: train reg {e['train_reg']:.4f} "
              f"tok {e['train_tok']:.4f}; {vs}; {e['tokens_per_s']:.0f} tok/s", flush=True)
        if stop:
            break

    minutes = (time.time() - t_train) / 60
    last = points[-1] if points else dict(reg=float("nan"), tok=float("nan"))
    val = epochs[-1]["val"] if epochs and epochs[-1]["val"] else None
    info = dict(command="python3 " + " ".join(shlex.quote(a) for a in sys.argv), tokens=seen,
                minutes=f"{minutes:.2f}", final_reg_loss=f"{last['reg']:.5f}", final_tok_loss=f"{last['tok']:.5f}",
                val_top1=f"{val['top1']:.5f}" if val else "n/a")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_head(args.out, args, tgt, model, w_out_q8, vocab, info)
    log = os.path.splitext(args.out)[0] + ".json"
    with open(log, "w") as f:
        json.dump(dict(train=info, args=vars(args), draft_vocab=len(vocab), coverage_next=cov,
                       coverage_top1=cov1, bf16=bf16, points=points, epochs=epochs), f, indent=1)
    if args.loss_chart:
        write_chart(args.loss_chart, step_losses, epochs)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB) and {log} after {minutes:.1f} min of "
          f"training, {seen} tokens", flush=True)

    if args.smoke:
        first, lastm = np.mean(step_losses[:5]), np.mean(step_losses[-5:])
        r = gguf.GGUFReader(args.out)
        names = [t.name for t in r.tensors]
        ok = lastm < first and len(names) == 13 and r.fields["general.architecture"].contents() == ARCH
        print(f"smoke: loss {first:.4f} -> {lastm:.4f} (mean of first / last 5 steps), {len(names)} tensors: "
              f"{'OK' if ok else 'FAILED'}", flush=True)
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
