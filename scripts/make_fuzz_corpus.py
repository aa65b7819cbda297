#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (fuzz/corpus/<target>/) and their
dictionaries (fuzz/dict/<target>.dict: keys, markers and numbers the mutator splices in).

Seeds are small and crafted here (no third-party writer), so the fuzzers start from inputs that
already reach deep into each reader: a complete tiny GGUF model with a tokenizer and a chat
template, every metadata value type, every tensor type, safetensors of each dtype, configs and
tokenizer.json files of each supported kind, texts with special tokens and invalid UTF-8, and
the chat templates of tests/fixtures/tokenizer_chat_templates.json, benchmark prompt files.

    python3 scripts/make_fuzz_corpus.py           # rewrite fuzz/corpus/ and fuzz/dict/ (deterministic)
    python3 scripts/make_fuzz_corpus.py --check   # exit 1 if they differ from what this writes
"""
import argparse
import filecmp
import json
import os
import shutil
import struct
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --- GGUF -------------------------------------------------------------------------------------

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
              U64: "<Q", I64: "<q", F64: "<d"}
# ggml type id -> (block size, bytes per block)
TENSOR_TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
                12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gvalue(t, v):
    if t == STR:
        return gstr(v)
    if t == ARR:
        et, items = v
        out = struct.pack("<IQ", et, len(items))
        for x in items:
            out += gvalue(et, x)
        return out
    return struct.pack(SCALAR_FMT[t], v)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, dims, ggml type)] filled with a byte pattern."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gstr(k) + struct.pack("<I", t) + gvalue(t, v)
    offset, blobs = 0, []
    for name, dims, ty in tensors:
        n = 1
        for d in dims:
            n *= d
        block, size = TENSOR_TYPES[ty]
        nbytes = n // block * size
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ty, offset)
        blobs.append(bytes((i * 7 + 3) % 251 for i in range(nbytes)))
        offset += (nbytes + alignment - 1) // alignment * alignment
    out += b"\0" * (-len(out) % alignment)
    for b in blobs:
        out += b + b"\0" * (-len(b) % alignment)
    return out


# A byte-level vocabulary small enough for a seed: a few letters (GPT-2 byte alphabet, where
# U+0120 'Ġ' is the space) and merges between them.
BL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "h", "e", "l", "o", "\u0120", "w", "r", "d", "1",
             "he", "ll", "hell", "hello", "\u0120w", "or", "\u0120wor"]
BL_MERGES = ["h e", "l l", "he ll", "hell o", "\u0120 w", "o r", "\u0120w or"]
BL_TYPES = [3, 3, 3] + [1] * (len(BL_TOKENS) - 3)
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
# SentencePiece-style: byte fallback tokens for a few bytes, U+2581 pieces, scores.
SPM_TOKENS = ["<unk>", "<s>", "</s>", "<0x0A>", "<0x20>", "<0xC3>", "<0xA9>", "<0xFF>", "\u2581", "h", "e", "l", "o",
              "\u2581h", "he", "ll", "\u2581he", "hello", "\u2581hello", "<start_of_turn>", "<end_of_turn>", "  "]
SPM_TYPES = [2, 3, 3, 6, 6, 6, 6, 6] + [1] * 11 + [3, 3, 4]


def llama_metadata(arch, n_vocab, n_embd=8, n_ff=16, n_head=2, n_head_kv=1, n_layer=1, ctx=32):
    a = arch + "."
    return [("general.architecture", STR, arch), ("general.name", STR, "tiny " + arch),
            (a + "block_count", U32, n_layer), (a + "embedding_length", U32, n_embd),
            (a + "feed_forward_length", U32, n_ff), (a + "attention.head_count", U32, n_head),
            (a + "attention.head_count_kv", U32, n_head_kv), (a + "context_length", U32, ctx),
            (a + "rope.dimension_count", U32, n_embd // n_head), (a + "rope.freq_base", F32, 10000.0),
            (a + "attention.layer_norm_rms_epsilon", F32, 1e-5), (a + "vocab_size", U32, n_vocab)]


def byte_level_tokenizer(pre="smollm"):
    return [("tokenizer.ggml.model", STR, "gpt2"), ("tokenizer.ggml.pre", STR, pre),
            ("tokenizer.ggml.tokens", ARR, (STR, BL_TOKENS)), ("tokenizer.ggml.token_type", ARR, (I32, BL_TYPES)),
            ("tokenizer.ggml.merges", ARR, (STR, BL_MERGES)), ("tokenizer.ggml.bos_token_id", U32, 1),
            ("tokenizer.ggml.eos_token_id", U32, 2), ("tokenizer.ggml.add_bos_token", BOOL, False),
            ("tokenizer.chat_template", STR, CHATML)]


def spm_tokenizer():
    return [("tokenizer.ggml.model", STR, "llama"), ("tokenizer.ggml.tokens", ARR, (STR, SPM_TOKENS)),
            ("tokenizer.ggml.scores", ARR, (F32, [-float(i) for i in range(len(SPM_TOKENS))])),
            ("tokenizer.ggml.token_type", ARR, (I32, SPM_TYPES)), ("tokenizer.ggml.bos_token_id", U32, 1),
            ("tokenizer.ggml.eos_token_id", U32, 2), ("tokenizer.ggml.unknown_token_id", U32, 0),
            ("tokenizer.ggml.add_space_prefix", BOOL, True)]


def layer_tensors(n_embd=8, n_ff=16, n_head=2, n_head_kv=1, ty=0):
    hd = n_embd // n_head
    return [("blk.0.attn_norm.weight", [n_embd], 0), ("blk.0.attn_q.weight", [n_embd, n_embd], ty),
            ("blk.0.attn_k.weight", [n_embd, hd * n_head_kv], ty), ("blk.0.attn_v.weight", [n_embd, hd * n_head_kv], ty),
            ("blk.0.attn_output.weight", [n_embd, n_embd], ty), ("blk.0.ffn_norm.weight", [n_embd], 0),
            ("blk.0.ffn_gate.weight", [n_embd, n_ff], ty), ("blk.0.ffn_up.weight", [n_embd, n_ff], ty),
            ("blk.0.ffn_down.weight", [n_ff, n_embd], ty)]


def gguf_seeds():
    n = len(BL_TOKENS)
    seeds = {}
    seeds["empty_v3.gguf"] = gguf([], [])
    seeds["empty_v2.gguf"] = gguf([], [], version=2)
    seeds["tiny_llama_model.gguf"] = gguf(
        llama_metadata("llama", n) + byte_level_tokenizer(),
        [("token_embd.weight", [8, n], 0), ("output_norm.weight", [8], 0)] + layer_tensors())
    seeds["tiny_qwen2_metadata.gguf"] = gguf(llama_metadata("qwen2", n) + byte_level_tokenizer("qwen2"),
                                             [("token_embd.weight", [8, n], 1)])
    seeds["tiny_gemma3_spm.gguf"] = gguf(
        llama_metadata("gemma3", len(SPM_TOKENS)) + [("gemma3.attention.sliding_window", U32, 4)] + spm_tokenizer(),
        [("token_embd.weight", [8, len(SPM_TOKENS)], 30)])
    gpt2 = [("general.architecture", STR, "gpt2"), ("gpt2.block_count", U32, 1), ("gpt2.embedding_length", U32, 8),
            ("gpt2.feed_forward_length", U32, 32), ("gpt2.attention.head_count", U32, 2),
            ("gpt2.context_length", U32, 16), ("gpt2.attention.layer_norm_epsilon", F32, 1e-5)]
    seeds["tiny_gpt2_metadata.gguf"] = gguf(gpt2 + byte_level_tokenizer("gpt2"),
                                            [("position_embd.weight", [8, 16], 0), ("blk.0.attn_qkv.weight", [8, 24], 0)])
    # Every metadata value type, nested arrays, a custom alignment.
    every = [("u8", U8, 200), ("i8", I8, -5), ("u16", U16, 60000), ("i16", I16, -300), ("u32", U32, 4000000000),
             ("i32", I32, -70000), ("f32", F32, 1.5), ("bool", BOOL, True), ("str", STR, "h\u00e9llo"),
             ("u64", U64, 1 << 40), ("i64", I64, -(1 << 40)), ("f64", F64, 2.25),
             ("arr.str", ARR, (STR, ["a", "bc", ""])), ("arr.f32", ARR, (F32, [0.5, -1.0])),
             ("arr.nested", ARR, (ARR, [(I32, [1, 2]), (I32, [3])])), ("arr.empty", ARR, (U8, [])),
             ("general.alignment", U32, 64)]
    seeds["every_value_type.gguf"] = gguf(every, [("t", [4], 0)], alignment=64)
    # Every tensor type the reader knows, one block each.
    seeds["every_tensor_type.gguf"] = gguf(
        [("general.architecture", STR, "llama")],
        [("t%d" % ty, [TENSOR_TYPES[ty][0] if TENSOR_TYPES[ty][0] > 1 else 8, 2], ty) for ty in sorted(TENSOR_TYPES)])
    return seeds


# --- safetensors ------------------------------------------------------------------------------

def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape)], data filled with a byte pattern."""
    header, blobs, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        nbytes = n * (4 if dt == "F32" else 2)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + nbytes]}
        blobs += bytes((i * 5 + 1) % 256 for i in range(nbytes))
        off += nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blobs


def safetensors_seeds():
    return {
        "empty_header.safetensors": safetensors([]),
        "one_f32.safetensors": safetensors([("w", "F32", [2, 3])]),
        "f16_bf16_metadata.safetensors": safetensors(
            [("model.embed_tokens.weight", "F16", [4, 2]), ("model.norm.weight", "BF16", [2]), ("scalar", "F32", [])],
            {"format": "pt"}),
        "four_dims.safetensors": safetensors([("t", "F32", [1, 2, 1, 2])]),
    }


# --- config.json ------------------------------------------------------------------------------

def hf_config_seeds():
    seeds = {}
    for m in ("tiny_gpt2", "tiny_llama", "tiny_qwen2"):
        with open(os.path.join(ROOT, "tests", "fixtures", m, "hf", "config.json"), "rb") as f:
            seeds[m + ".json"] = f.read()
    seeds["minimal_llama.json"] = json.dumps({
        "model_type": "llama", "num_hidden_layers": 1, "hidden_size": 8, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 32, "vocab_size": 20}).encode()
    seeds["gpt2_n_inner_null.json"] = json.dumps({
        "model_type": "gpt2", "n_layer": 1, "n_embd": 8, "n_head": 2, "n_inner": None, "n_positions": 16,
        "vocab_size": 20}).encode()
    return seeds


# --- tokenizer.json (+ NUL + tokenizer_config.json) -------------------------------------------

def bl_tokenizer_json(pre_tokenizer, normalizer=None):
    vocab = {t: i for i, t in enumerate(BL_TOKENS) if not t.startswith("<|")}
    added = [{"id": i, "content": t, "special": True} for i, t in enumerate(BL_TOKENS) if t.startswith("<|")]
    return {"version": "1.0", "added_tokens": added, "normalizer": normalizer, "pre_tokenizer": pre_tokenizer,
            "post_processor": None, "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": vocab, "merges": BL_MERGES, "ignore_merges": False}}


def spm_tokenizer_json(normalizer, pre_tokenizer, merges=True):
    vocab = {t: i for i, t in enumerate(SPM_TOKENS)}
    model = {"type": "BPE", "vocab": vocab, "byte_fallback": True, "unk_token": "<unk>",
             "merges": [["\u2581", "h"], ["h", "e"], ["l", "l"], ["\u2581h", "e"]] if merges else []}
    return {"version": "1.0", "added_tokens": [{"id": 1, "content": "<s>", "special": True}],
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer,
            "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                                         {"Sequence": {"id": "A", "type_id": 0}}]},
            "decoder": None, "model": model}


def hf_tokenizer_seeds():
    from_variant = {}
    # The exact regexes the reader recognises, taken from the fixtures (they are long).
    for v in ("llama-bpe", "qwen2"):
        with open(os.path.join(ROOT, "tests", "fixtures", "tokenizer_variants", v, "tokenizer.json")) as f:
            from_variant[v] = json.load(f)["pre_tokenizer"]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    replace = {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}
    cfg = json.dumps({"bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"}, "add_bos_token": False,
                      "chat_template": CHATML}).encode()
    dump = lambda j: json.dumps(j, ensure_ascii=False).encode()
    vocab_merges = os.path.join(ROOT, "tests", "fixtures", "tiny_gpt2_tokenizer")
    with open(os.path.join(vocab_merges, "vocab.json"), "rb") as f:
        vocab = f.read()
    with open(os.path.join(vocab_merges, "merges.txt"), "rb") as f:
        merges = f.read()
    bl_vocab = {t: i for i, t in enumerate(BL_TOKENS)}
    return {
        # Parts: tokenizer.json NUL tokenizer_config.json NUL vocab.json NUL merges.txt (empty = absent).
        "vocab_merges_tiny_gpt2": b"\0\0" + vocab + b"\0" + merges,
        "vocab_merges_small": b"\0" + cfg + b"\0" + dump(bl_vocab) + b"\0" + ("#version: 0.2\n" + "\n".join(BL_MERGES)).encode(),
        "bytelevel.json": dump(bl_tokenizer_json(byte_level)),
        "bytelevel_with_config.json": dump(bl_tokenizer_json(byte_level)) + b"\0" + cfg,
        "smollm_digits.json": dump(bl_tokenizer_json(
            {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level]})),
        "llama3_split.json": dump(bl_tokenizer_json(from_variant["llama-bpe"])),
        "qwen2_split_nfc.json": dump(bl_tokenizer_json(from_variant["qwen2"], {"type": "NFC"})),
        "spm_metaspace_first.json": dump(spm_tokenizer_json(
            None, {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False})),
        "spm_legacy_prepend.json": dump(spm_tokenizer_json(
            {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"}, replace]}, None)),
        "spm_by_score.json": dump(spm_tokenizer_json(replace, {"type": "Split", "pattern": {"String": " "}},
                                                     merges=False)),
    }


# --- tokenizer inputs: selector byte + text ---------------------------------------------------

TEXTS = [
    b"Hello world! The three primary colors are red, blue and green.",
    "Caf\u00e9 \u00fcber na\u00efve \u4f60\u597d\u4e16\u754c \U0001F600 \u0645\u0631\u062d\u0628\u0627".encode(),
    b"12345 67.89 3,141,592 0x1F",
    b"  leading spaces\n\n\ttabs\r\n   trailing   ",
    b"abc\x80xyz caf\xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xff\xfe",
    b"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    b"<start_of_turn>user\nhi<end_of_turn>\n<s>[INST] x [/INST]</s>",
    b"I'm sure they'll say it's 'quoted' and DON'T",
]


def tokenizer_seeds():
    seeds = {}
    for sel in range(9):  # one per tokenizer slot (the target takes the low 6 bits modulo its count)
        for i, t in enumerate(TEXTS):
            if (sel + i) % 3 == 0:
                seeds["tok%d_text%d" % (sel, i)] = bytes([sel | (0x40 if i % 2 else 0)]) + t
    seeds["decode_ids"] = bytes([0x80]) + struct.pack("<16H", *range(0, 16000, 1000))
    return seeds


# --- chat templates: template NUL bos NUL eos NUL role NUL content ... ------------------------

def chat_template_seeds():
    with open(os.path.join(ROOT, "tests", "fixtures", "tokenizer_chat_templates.json")) as f:
        templates = json.load(f)["templates"]
    conv = [b"system", b"Be brief.", b"user", b"Hi there ", b"assistant", b" Hello! ", b"user", b"\xff\xfe?"]
    seeds = {}
    for t in templates:
        parts = [t["template"].encode(), t["bos_token"].encode(), t["eos_token"].encode()] + conv
        seeds["tmpl_" + t["name"]] = b"\0".join(parts)
    for name in ("chatml", "gemma", "llama3", "llama2", "zephyr"):
        seeds["name_" + name] = b"\0".join([b"\x01" + name.encode(), b"<s>", b"</s>"] + conv[2:6])
    seeds["unknown"] = b"\0".join([b"{{ messages }}", b"", b"", b"user", b"x"])
    return seeds


# --- benchmark prompt files (JSON Lines) ------------------------------------------------------

def prompts_seeds():
    line = lambda j: json.dumps(j, ensure_ascii=False).encode() + b"\n"
    return {
        "mt_bench.jsonl": line({"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Shorter."]}),
        "humaneval.jsonl": line({"task_id": "HumanEval/0", "prompt": "def f(x):\n    \"\"\"Double x.\"\"\"\n"}),
        "plain_ids.jsonl": line({"prompt": "caf\u00e9", "id": "a"}) + b"\n   \n" + line({"prompt": "two", "id": 7}),
        "mixed_crlf.jsonl": (line({"prompt": "x"}) + line({"question_id": 1, "turns": ["t"]})).replace(b"\n", b"\r\n"),
    }


# --- libFuzzer dictionaries (fuzz/dict/<target>.dict): words the mutator splices in ----------

def dict_file(words):
    def esc(w):
        b = w.encode() if isinstance(w, str) else w
        return "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\x%02X" % c for c in b)
    return "".join('"%s"\n' % esc(w) for w in words).encode()


JSON_WORDS = ['"', '{', '}', '[', ']', ':', ',', 'null', 'true', 'false', '-1', '0', '1e308', '-1e308', '1.5',
              '2147483647', '2147483648', '4294967296', '9223372036854775807', '18446744073709551615', '1e-400',
              '"\\u0000"', '"\\ud800"']
HF_KEYS = ["model_type", "llama", "qwen2", "gpt2", "n_layer", "n_embd", "n_head", "n_inner", "n_positions", "n_ctx",
           "vocab_size", "layer_norm_epsilon", "num_hidden_layers", "hidden_size", "num_attention_heads",
           "num_key_value_heads", "intermediate_size", "max_position_embeddings", "rms_norm_eps", "head_dim",
           "rope_theta", "attention_bias", "tie_word_embeddings", "rope_scaling"]
TOKENIZER_JSON_KEYS = ["model", "type", "BPE", "vocab", "merges", "ignore_merges", "byte_fallback", "unk_token",
                       "added_tokens", "id", "content", "special", "pre_tokenizer", "normalizer", "decoder",
                       "post_processor", "ByteLevel", "Sequence", "pretokenizers", "Digits", "individual_digits",
                       "Split", "pattern", "Regex", "String", "behavior", "Isolated", "invert", "Metaspace",
                       "prepend_scheme", "first", "always", "never", "split", "add_prefix_space", "use_regex",
                       "Replace", "Prepend", "prepend", "normalizers", "NFC", "TemplateProcessing", "single",
                       "SpecialToken", "processors", "bos_token", "eos_token", "pad_token", "add_bos_token",
                       "add_eos_token", "chat_template", "name", "default", "template", "#version", "\u2581", "<0x0A>"]
SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<start_of_turn>", "<end_of_turn>", "<s>", "</s>",
                  "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "[INST]", "[/INST]",
                  "<<SYS>>", "<</SYS>>", "<|user|>", "<|assistant|>", "<|system|>", "<bos>", "<eos>", "<unk>"]
CHAT_WORDS = SPECIAL_TOKENS + ["chatml", "gemma", "llama3", "llama2", "zephyr", "system", "user", "assistant", "model",
                               "eos_token", "Cutting Knowledge Date", "'<|im_start|>system\\n", "<|im_end|>\\n'",
                               b"\0", b"\x01"]
GGUF_WORDS = [b"GGUF", b"\x02\0\0\0", b"\x03\0\0\0", b"\xff\xff\xff\xff\xff\xff\xff\xff",
              b"\0\0\0\0\0\0\0\x80", b"\0\0\0\0\x01\0\0\0"] + [
    "general.architecture", "general.name", "general.alignment", "llama", "qwen2", "gpt2", "gemma3", ".block_count",
    ".embedding_length", ".feed_forward_length", ".attention.head_count", ".attention.head_count_kv",
    ".context_length", ".attention.key_length", ".attention.value_length", ".vocab_size", ".rope.dimension_count",
    ".rope.freq_base", ".attention.layer_norm_rms_epsilon", ".attention.layer_norm_epsilon",
    ".attention.sliding_window", "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
    "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_space_prefix",
    "tokenizer.chat_template", "smollm", "llama-bpe", "token_embd.weight", "output.weight", "blk.0.",
    "attn_q.weight", "ffn_up.weight"]


def dicts():
    json_dict = JSON_WORDS
    return {"gguf": GGUF_WORDS + SPECIAL_TOKENS, "safetensors": json_dict + ["dtype", "shape", "data_offsets", "F32",
                                                                               "F16", "BF16", "__metadata__"],
            "hf_config": json_dict + HF_KEYS, "hf_tokenizer": json_dict + TOKENIZER_JSON_KEYS + SPECIAL_TOKENS,
            "tokenizer": SPECIAL_TOKENS + [b"\xc3", b"\xe2\x96\x81", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80",
                                           b"\xff", "'s", "'ll", "\r\n", "   ", "123"],
            "chat_template": CHAT_WORDS,
            "prompts": json_dict + ["question_id", "category", "turns", "task_id", "prompt", "id", "\n", "\r\n"]}


# ----------------------------------------------------------------------------------------------

def write_all(out_dir):
    targets = {"gguf": gguf_seeds(), "safetensors": safetensors_seeds(), "hf_config": hf_config_seeds(),
               "hf_tokenizer": hf_tokenizer_seeds(), "tokenizer": tokenizer_seeds(),
               "chat_template": chat_template_seeds(), "prompts": prompts_seeds()}
    for target, seeds in targets.items():
        d = os.path.join(out_dir, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    os.makedirs(os.path.join(out_dir, "dict"), exist_ok=True)
    for target, words in dicts().items():
        with open(os.path.join(out_dir, "dict", target + ".dict"), "wb") as f:
            f.write(dict_file(words))
    return targets


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with fuzz/corpus/ instead of writing it")
    args = ap.parse_args()
    fuzz_dir = os.path.join(ROOT, "fuzz")
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            targets = write_all(tmp)
            bad = []
            for sub in ["dict"] + [os.path.join("corpus", t) for t in targets]:
                cmp = filecmp.dircmp(os.path.join(tmp, sub), os.path.join(fuzz_dir, sub))
                bad += [sub + "/" + n for n in cmp.left_only + cmp.right_only + cmp.diff_files]
            if bad:
                print("fuzz/corpus or fuzz/dict differs from scripts/make_fuzz_corpus.py:", ", ".join(bad))
                sys.exit(1)
            print("fuzz/corpus and fuzz/dict are up to date")
        return
    shutil.rmtree(os.path.join(fuzz_dir, "corpus"), ignore_errors=True)
    shutil.rmtree(os.path.join(fuzz_dir, "dict"), ignore_errors=True)
    targets = write_all(fuzz_dir)
    total = sum(len(d) for s in targets.values() for d in s.values())
    print("wrote %d seeds (%d bytes) under fuzz/corpus/ and %d dictionaries under fuzz/dict/"
          % (sum(len(s) for s in targets.values()), total, len(dicts())))


if __name__ == "__main__":
    main()
