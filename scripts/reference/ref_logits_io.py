"""Reader for the rooflm.ref_logits.v1 fixtures (JSON header + raw .bin) and the comparison metrics a
test of an engine against them is expected to compute. Independent of how the fixtures were made;
mirrors what the C++ tests do, so it doubles as executable documentation of the format.

    python3 scripts/reference/ref_logits_io.py tests/fixtures/ref_smollm2_logits.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

_DT = {"f16": "<f2", "f32": "<f4", "i32": "<i4"}


def load(json_path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    json_path = Path(json_path)
    header = json.loads(json_path.read_text(encoding="utf-8"))
    assert header["format"] == "rooflm.ref_logits.v1"
    raw = (json_path.parent / header["bin"]["file"]).read_bytes()
    assert len(raw) == header["bin"]["size"]
    arrays = {}
    for name, a in header["arrays"].items():
        n = int(np.prod(a["shape"]))
        arrays[name] = np.frombuffer(raw, dtype=_DT[a["dtype"]], count=n, offset=a["offset"]).reshape(a["shape"])
    return header, arrays


def _log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def kl_full(ref_row, our_row) -> float:
    """KL(softmax(ref) || softmax(ours)) in nats, from full rows."""
    lp, lq = _log_softmax(ref_row), _log_softmax(our_row)
    return float((np.exp(lp) * (lp - lq)).sum())


def kl_topk(ref_ids, ref_topk_logits, ref_lse, our_row) -> float:
    """KL between the two distributions coarse-grained to {top-k ids of ref} + {everything else}:
    sum_i p_i log(p_i/q_i) + p_rest log(p_rest/q_rest). A lower bound on the full KL (data
    processing inequality); close to it when the top-k hold most of the mass."""
    lq = _log_softmax(our_row)
    lp_k = np.asarray(ref_topk_logits, np.float64) - float(ref_lse)
    p_k = np.exp(lp_k)
    lq_k = lq[np.asarray(ref_ids, np.int64)]
    kl = float((p_k * (lp_k - lq_k)).sum())
    p_rest = max(0.0, 1.0 - p_k.sum())
    q_rest = max(1e-300, 1.0 - np.exp(lq_k).sum())
    if p_rest > 0:
        kl += p_rest * np.log(p_rest / q_rest)
    return kl


def compare(header: dict, arrays: dict, ours: list[np.ndarray], margin_thresholds=(0.1, 0.2)) -> dict:
    """ours[i]: (n_tokens_i, vocab) logits of the engine under test for prompt i.

    top1_agreement: fraction of all positions where our argmax == reference argmax.
    top1_agreement_ref_margin_ge_T: the same, counted only where the reference top-1 beats its
        runner-up by >= T (logit units); near-ties can legitimately flip under low-precision math.
    ref_gap_max: max over positions of ref_logit[ref argmax] - ref_logit[our argmax] (0 when we
        agree; needs our argmax among the stored top-k ids, otherwise +inf).
    kl_full_*: KL(ref || ours) over the positions with a stored full row.
    kl_topk_*: coarse-grained KL over all positions (see kl_topk)."""
    agree = n = 0
    agree_t = {t: [0, 0] for t in margin_thresholds}
    gaps = []
    kls_full, kls_topk = [], []
    has_topk = header.get("topk", 0) > 0
    for pi, p in enumerate(header["prompts"]):
        lg = np.asarray(ours[pi])
        am = lg.argmax(-1)
        agree += int((am == np.asarray(p["argmax"])).sum())
        n += p["n_tokens"]
        for pos in range(p["n_tokens"]):
            ok = int(am[pos] == p["argmax"][pos])
            for t in margin_thresholds:
                if p["top1_margin"][pos] >= t:
                    agree_t[t][0] += ok
                    agree_t[t][1] += 1
            if has_topk:
                r = p["position_offset"] + pos
                hit = np.nonzero(arrays["topk_ids"][r] == am[pos])[0]
                gaps.append(float(arrays["topk_logits"][r][0] - arrays["topk_logits"][r][hit[0]]) if len(hit) else np.inf)
            else:
                row = arrays["logits"][p["logits_row_start"] + pos].astype(np.float64)
                gaps.append(float(row.max() - row[am[pos]]))
        for j, pos in enumerate(p["logits_positions"]):
            kls_full.append(kl_full(arrays["logits"][p["logits_row_start"] + j].astype(np.float64), lg[pos]))
        if has_topk:
            for pos in range(p["n_tokens"]):
                r = p["position_offset"] + pos
                kls_topk.append(kl_topk(arrays["topk_ids"][r], arrays["topk_logits"][r], arrays["logsumexp"][r], lg[pos]))
    out = {"top1_agreement": agree / n, "n_positions": n}
    for t, (a, m) in agree_t.items():
        out[f"top1_agreement_ref_margin_ge_{t}"] = a / m if m else 1.0
        out[f"n_positions_ref_margin_ge_{t}"] = m
    out["ref_gap_max"] = float(max(gaps))
    out.update({"kl_full_mean": float(np.mean(kls_full)), "kl_full_max": float(np.max(kls_full)),
                "n_full_rows": len(kls_full)})
    if kls_topk:
        out.update({"kl_topk_mean": float(np.mean(kls_topk)), "kl_topk_max": float(np.max(kls_topk))})
    return out


def _selftest(json_path: str) -> None:
    header, arrays = load(json_path)
    print(f"{json_path}: {header['n_prompts']} prompts, {header['n_positions']} positions, "
          f"arrays {{{', '.join(f'{k}: {v.dtype}{list(v.shape)}' for k, v in arrays.items())}}}")
    for p in header["prompts"]:
        for j, pos in enumerate(p["logits_positions"]):
            row = arrays["logits"][p["logits_row_start"] + j]
            assert int(np.argmax(row)) == p["argmax"][pos] or p["top1_margin"][pos] < 0.01, (p["name"], pos)
        if header.get("topk", 0):
            ids = arrays["topk_ids"][p["position_offset"]:p["position_offset"] + p["n_tokens"], 0]
            assert list(ids) == p["argmax"], p["name"]
    print("  stored rows / top-k / argmax are consistent")


if __name__ == "__main__":
    for a in sys.argv[1:]:
        _selftest(a)
