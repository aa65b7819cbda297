#!/usr/bin/env python3
"""Build the tokenizer test fixtures (tests/fixtures/tokenizer_*.json, tests/fixtures/tiny_gpt2_tokenizer/).

The oracle is Hugging Face `transformers` / `tokenizers`:

* GGUF models: transformers turns the GGUF vocabulary into a fast tokenizer
  (`PreTrainedTokenizerFast.from_pretrained(dir, gguf_file=...)`, the same code path as
  `AutoTokenizer.from_pretrained(dir, gguf_file=...)`). Two corrections are applied and written into
  the fixture's `notes`, because the conversion is not faithful to the model's own tokenizer.json:
    - pre "smollm": transformers has no entry for it and falls back to the plain GPT-2 ByteLevel
      regex. SmolLM2's tokenizer.json (and llama.cpp's "smollm" pre-tokenizer) first split every
      digit (\\p{N}) on its own, then apply the GPT-2 ByteLevel regex. We set that pre-tokenizer.
    - Gemma GGUFs carry no tokenizer.chat_template; the fixture's chat renderings use the Gemma 3
      template published with google/gemma-3-*-it (stored in the fixture as `chat_template`).
* The tiny GPT-2 tokenizer is trained here with `tokenizers` (byte-level BPE, vocab 400) and saved as
  tokenizer.json + vocab.json/merges.txt + tokenizer_config.json; expected ids come from transformers
  loading that directory (and are cross-checked against the vocab.json+merges.txt pair).
* Chat templates: tokenizer_chat_templates.json holds published templates (ChatML/SmolLM2, Qwen2.5,
  Llama 3, Llama 2, Zephyr, Gemma 3) and their renderings by transformers' apply_chat_template.

transformers' GGUF reader imports torch at module level only to name tensor dtypes; torch is not
needed for tokenizers, so a stub module is installed when torch is missing.

* Variants (tokenizer_variants.json, tokenizer_variants/<name>/tokenizer.json): the tiny vocabulary
  under each supported pre-tokenizer (gpt2, smollm, llama-bpe with ignore_merges, qwen2) and turned
  into a SentencePiece-style vocabulary (transformers' GGUF "llama" conversion = Metaspace "first";
  and the legacy Llama tokenizer.json normalizer Prepend+Replace), to test models we do not ship.

Usage: python3 scripts/make_tokenizer_fixture.py [--only smollm2|gemma3|tiny|chat|variants]
"""
import argparse
import json
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")

GGUF_MODELS = {
    # fixture name -> (path relative to the repo, HF conversion fix-ups)
    "smollm2": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "models/gemma-3-270m-q4_k_m.gguf",
}

# ----------------------------------------------------------------------------------------------
# Corpus: awkward strings. All valid UTF-8 (Python str); invalid UTF-8 is tested in C++ directly.
# ----------------------------------------------------------------------------------------------
CORPUS = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    "\n\n\n\n",
    " \n ",
    "\r\n",
    "Hello world",
    " Hello world",
    "Hello  world",
    "Hello   world  ",
    "Hello world!   ",
    "trailing spaces   ",
    "   leading spaces",
    "\tindented\twith\ttabs\t",
    "line one\nline two\r\nline three\rline four\n",
    "a\n\nb\n\n\nc \n d",
    "It's I'm you're we'll they've he'd she's DON'T WE'LL I'M O'Neil",
    "'s 're 've 'll 'd 'm 't 'S 'RE",
    "rock 'n' roll isn't ''quoted''",
    "0",
    "12",
    "123",
    "1234",
    "12345678901234567890",
    " 42 and  7 and   365",
    "3.14159 2,000,000 1e-9 0x1F -17 +3",
    "Call 555-0123 before 10:30pm on 2024-12-31.",
    "x\u00b2 + y\u00b3 = z\u00bd, \u0663\u0664 \u096a\u0968 \u2167 \u2460",  # superscripts, fractions, Arabic/Devanagari digits, Roman numeral, circled
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe",
    "e\u0301 a\u0308 n\u0303 Z\u0351\u0359\u035a\u0320 (combining marks)",
    "\U0001F44B\U0001F30D \U0001F600\U0001F603\U0001F604",
    "family: \U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 flag: \U0001F3F3\uFE0F\u200D\U0001F308 \U0001F1FA\U0001F1F8",
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002\u30ab\u30bf\u30ab\u30ca\u3068\u3072\u3089\u304c\u306a",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8\uc785\ub2c8\ub2e4",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a \u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "non\u00a0breaking\u00a0space, ideographic\u3000space, em\u2003space, line\u2028separator",
    "zero\u200bwidth\u200cjoiner\u200dtest\ufeffBOM",
    "odd spaces: a\u0085b c\u000bd\u000ce f\u180eg h\u2009i j\u1680k l\u202fm\u205fn",
    "letters: \u01c5 \u02b0 \u16ee \u2168 \U0001d7d8\U0001d7d9 \ua66e \u00aa\u00ba",
    "control \x00 \x01 \x07 \x1b[31m \x7f chars",
    "bytes SmolLM2 has no token for: \x04\x06\x13\x14\x16\x1d end",
    "def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n",
    "int main() {\n\tstd::vector<int> v{1, 2, 3};\n\treturn v[0] == 1 ? 0 : -1;\n}\n",
    "    if (a && b || !c) { x += 1; } // comment",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
    "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}",
    "<html><body><div class=\"x\">Hi &amp; bye</div></body></html>",
    "https://example.com/path?q=1&r=two#frag mail: someone@example.org",
    "# Title\n\n- item one\n- item **two**\n\n```python\nx = 1\n```\n",
    "!!! ??? ... --- === *** ___ ~~~ ``` ''' \"\"\"",
    "\u2014 \u2013 \u2026 \u00ab\u00bb \u201cquoted\u201d \u2018single\u2019 \u20ac100 \u00a35 \u00a5300",
    "CamelCaseWordsAndALLCAPS and snake_case_words",
    "a" * 300,
    "supercalifragilisticexpialidocious" * 8,
    "9" * 200,
    " " * 100,
    "\n" * 40,
    "ab " * 60,
    "\u00e9" * 50,
    "\U0001F600" * 20,
    "Mixed\tWhitespace \n\t \r\n  end",
    # special tokens inside text (only tokens that exist in a given vocab are special there)
    "<|im_start|>user\nHello<|im_end|>\n",
    "<|im_start|><|im_start|>double<|im_end|><|im_end|>",
    "a<|endoftext|>b <|endoftext|> c",
    "partial <|im_start and <|im_end| and |>",
    "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
    "<bos><eos><pad> text",
    "<s>[INST] hi [/INST]</s>",
    "<table><tr><td>cell</td></tr></table>",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! the_quick-brown.fox",
]


def random_strings(n, seed):
    """Deterministic random strings from awkward fragments (pre-tokenizer edge cases)."""
    import random
    rng = random.Random(seed)
    pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") +
            [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n", "'s", "'S", "'ll", "'RE", "'",
             "\u00e9", "\u00df", "\u4e2d", "\u6587", "\U0001F600", "\u0301", "\u00a0", "\u0085", "\u3000", "\u2009",
             "!", "?", ".", ",", "-", "_", "(", ")", "{", "}", "/", "\\", "\"", "#", "$", "%", "&", "*", "+", "=",
             "<|im_start|>", "<|endoftext|>", "<s>", "</s>", "<start_of_turn>", "<|", "|>",
             "\u00b2", "\u00bd", "\u0663", "\u01c5", "\u200b", "\x00", "\u017f", "\u212a", "\u0130", "\u0915\u094d",
             "hello", "world", "The", " the", "123", "4567", "  42"])
    out = []
    for _ in range(n):
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 24))))
    return out


CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": False},
    {"messages": [{"role": "system", "content": "You are terse."},
                  {"role": "user", "content": "What is 2+2?"}], "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "Hi there"},
                  {"role": "assistant", "content": "Hello! How can I help?"},
                  {"role": "user", "content": "Tell me a joke.\nMake it short."}], "add_generation_prompt": True},
    {"messages": [{"role": "system", "content": "You are a pirate."},
                  {"role": "user", "content": "Hi there"},
                  {"role": "assistant", "content": "Arr, hello!"},
                  {"role": "user", "content": "Where is the treasure?"}], "add_generation_prompt": True},
    {"messages": [{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "  padded content \n"},
                  {"role": "assistant", "content": " Sure. "}], "add_generation_prompt": False},
]

# ----------------------------------------------------------------------------------------------
# Published chat templates (data from the models' tokenizer_config.json files).
# ----------------------------------------------------------------------------------------------
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

QWEN25_TEMPLATE = (
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n    {%- else %}\n"
    "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n    {%- endif %}\n"
    "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n"
    "    {%- for tool in tools %}\n        {{- \"\\n\" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n"
    "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": "
    "<args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
    "    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n            {{- '\\n' + message.content }}\n        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n        {%- endfor %}\n        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n        {%- endif %}\n        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
    "            {{- '<|im_end|>\\n' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n"
)

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)

ZEPHYR_TEMPLATE = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
)

GEMMA3_TEMPLATE = (
    "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}\n    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}\n    {%- endif -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = \"\" -%}\n"
    "    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "        {{ raise_exception(\"Conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
    "    {%- endif -%}\n    {%- if (message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n"
    "    {%- else -%}\n        {%- set role = message['role'] -%}\n    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}\n"
    "    {%- elif message['content'] is iterable -%}\n        {%- for item in message['content'] -%}\n"
    "            {%- if item['type'] == 'image' -%}\n                {{ '<start_of_image>' }}\n"
    "            {%- elif item['type'] == 'text' -%}\n                {{ item['text'] | trim }}\n"
    "            {%- endif -%}\n        {%- endfor -%}\n    {%- else -%}\n"
    "        {{ raise_exception(\"Invalid content type\") }}\n    {%- endif -%}\n"
    "    {{ '<end_of_turn>\n' }}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n"
    "    {{'<start_of_turn>model\n'}}\n{%- endif -%}\n"
)

CHAT_TEMPLATES = [
    # name, template, bos_token, eos_token, expected format
    ("smollm2", SMOLLM2_TEMPLATE, "<|im_start|>", "<|im_end|>", "chatml"),
    ("qwen2.5", QWEN25_TEMPLATE, "<|endoftext|>", "<|im_end|>", "chatml"),
    ("llama3", LLAMA3_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>", "llama3"),
    ("llama2", LLAMA2_TEMPLATE, "<s>", "</s>", "llama2"),
    ("zephyr", ZEPHYR_TEMPLATE, "<s>", "</s>", "zephyr"),
    ("gemma3", GEMMA3_TEMPLATE, "<bos>", "<eos>", "gemma"),
]

TINY_TRAIN_TEXT = """\
The little robot woke up early on a cold Monday morning. It checked the weather: 3 degrees, light rain,
wind from the north at 12 km/h. "I'll need my umbrella," it said, and rolled towards the door.
On the way to the market it counted the street lamps: 1, 2, 3, 4, 5 ... 17, 18, 19, 20. The baker
was already open; the smell of fresh bread filled the whole street. "Good morning! Two loaves, please."
The baker smiled and said, "That's 4.50, as always." They've known each other for years, and they'd
never once argued about the price.

Programming notes:
def tokenize(text):
    pieces = text.split()
    return [p.lower() for p in pieces if p]

for (int i = 0; i < n; ++i) { sum += values[i] * weights[i]; }
if x >= 10 and y != 0: print(x / y)
# TODO: handle the empty string, tabs\tand newlines\n correctly.

Numbers and dates: 2024-01-15, 1999, 3.14159, 2,718, 42%, $19.99, 100000, 0.001, 7 days, 365 nights.
Contractions: it's, I'm, you're, we'll, they've, he'd, she's, isn't, don't, won't, can't, shouldn't.
Some words in other languages: café, naïve, über, straße, déjà vu, São Paulo, Zürich, niño.
A few symbols: @ # $ % ^ & * ( ) [ ] { } < > / \\ | ~ ` ' " ! ? . , ; : - _ + =

The river ran quietly through the valley, past old stone bridges and small wooden houses. Children
played by the water while their parents talked about the harvest, the weather, and the price of grain.
In the evening the sky turned orange, then purple, then a deep blue full of stars. The robot sat on a
bench and watched the lights of the town come on, one window at a time. It thought about the day:
the bread, the rain, the river, the children. Then it rolled home, plugged itself in, and went to sleep.

Questions people often ask: What time is it? Where are we going? Why is the sky blue? How many
tokens does this sentence have? Which one is better, the red one or the blue one? Who wrote this?
Answers: It is half past seven. We are going home. Because of scattering. Eleven, probably. The blue
one, obviously. Nobody knows.
"""


# ----------------------------------------------------------------------------------------------
def install_torch_stub():
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    import transformers  # noqa: F401  (must be imported before the stub: it probes for torch)

    class _Stub(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return type(name, (), {})

    sys.modules["torch"] = _Stub("torch")


def hf_from_gguf(relpath):
    install_torch_stub()
    from transformers import PreTrainedTokenizerFast
    path = os.path.join(ROOT, relpath)
    return PreTrainedTokenizerFast.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))


def gguf_meta(relpath):
    from gguf import GGUFReader
    r = GGUFReader(os.path.join(ROOT, relpath))

    def val(key):
        f = r.fields.get(key)
        if f is None:
            return None
        if f.types[0].name == "STRING":
            return bytes(f.parts[f.data[0]]).decode("utf-8")
        if f.types[0].name == "ARRAY":
            return len(f.data)
        return f.parts[f.data[0]][0].item()
    return val


def encode_cases(tok, corpus, bos_text_probe=True):
    bt = tok.backend_tokenizer
    cases = []
    for text in corpus:
        bt.encode_special_tokens = False
        ids = bt.encode(text, add_special_tokens=False).ids
        bt.encode_special_tokens = True
        ids_ns = bt.encode(text, add_special_tokens=False).ids
        bt.encode_special_tokens = False
        case = {"text": text, "ids": ids}
        if ids_ns != ids:
            case["ids_no_special"] = ids_ns
        dec = bt.decode(ids, skip_special_tokens=False)
        case["decoded"] = dec
        cases.append(case)
    return cases


def render_chats(tok, template=None):
    out = []
    for conv in CONVERSATIONS:
        text = tok.apply_chat_template(conv["messages"], tokenize=False,
                                       add_generation_prompt=conv["add_generation_prompt"],
                                       chat_template=template)
        ids = tok.backend_tokenizer.encode(text, add_special_tokens=False).ids
        out.append({"messages": conv["messages"], "add_generation_prompt": conv["add_generation_prompt"],
                    "text": text, "ids": ids})
    return out


def write_json(name, obj):
    import re
    path = os.path.join(FIX, name)
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    # Lists of numbers on one line (JSON strings hold no raw newlines, so this only touches structure).
    text = re.sub(r"\[\n[-0-9.e,\s]*\]", lambda m: "[" + ",".join(x.strip() for x in m.group(0)[1:-1].split(",")) + "]", text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def versions():
    import tokenizers
    import transformers
    return f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}"


# ----------------------------------------------------------------------------------------------
def make_gguf_fixture(name):
    relpath = GGUF_MODELS[name]
    if not os.path.exists(os.path.join(ROOT, relpath)):
        print(f"skip {name}: {relpath} not found")
        return
    from tokenizers import pre_tokenizers
    meta = gguf_meta(relpath)
    tok = hf_from_gguf(relpath)
    notes = []
    pre = meta("tokenizer.ggml.pre")
    if pre == "smollm":
        raw_cases = encode_cases(tok, CORPUS)
        tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ])
        fixed = encode_cases(tok, CORPUS)
        n_diff = sum(1 for a, b in zip(raw_cases, fixed) if a["ids"] != b["ids"])
        notes.append("pre 'smollm': transformers' GGUF conversion uses the plain GPT-2 ByteLevel regex; "
                     "replaced by SmolLM2's own Sequence[Digits(individual_digits=True), ByteLevel] "
                     f"(differs on {n_diff} of {len(CORPUS)} corpus strings, e.g. spaces before digits)")
    template = meta("tokenizer.chat_template")
    chat_template_field = None
    if template is None and name == "gemma3":
        template = GEMMA3_TEMPLATE
        chat_template_field = GEMMA3_TEMPLATE
        notes.append("GGUF has no tokenizer.chat_template; chat renderings use the Gemma 3 template "
                     "published with google/gemma-3-*-it (field chat_template)")
    cases = encode_cases(tok, CORPUS + random_strings(120, seed=1234))
    bt = tok.backend_tokenizer
    with_bos = [{"text": t, "ids": tok(t)["input_ids"]} for t in ["Hello world", "", "<|im_start|>hi"]]
    fixture = {
        "name": name,
        "model_file": relpath,
        "oracle": versions() + " (PreTrainedTokenizerFast.from_pretrained(dir, gguf_file=...))",
        "notes": notes,
        "tokenizer_model": meta("tokenizer.ggml.model"),
        "pre": pre,
        "n_vocab": bt.get_vocab_size(with_added_tokens=True),
        "bos_id": tok.bos_token_id,
        "eos_id": tok.eos_token_id,
        "add_bos": bool(getattr(tok, "add_bos_token", False)),
        "cases": cases,
        "with_bos": with_bos,
        "chat": render_chats(tok, template) if template else [],
    }
    if chat_template_field:
        fixture["chat_template"] = chat_template_field
    write_json(f"tokenizer_{name}.json", fixture)


def make_tiny():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    out_dir = os.path.join(FIX, "tiny_gpt2_tokenizer")
    os.makedirs(out_dir, exist_ok=True)
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(TINY_TRAIN_TEXT.splitlines(keepends=True), trainer=trainer)
    tk.save(os.path.join(out_dir, "tokenizer.json"))
    tk.model.save(out_dir)  # vocab.json + merges.txt
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                   "unk_token": "<|endoftext|>", "add_bos_token": False, "add_prefix_space": False,
                   "model_max_length": 1024, "clean_up_tokenization_spaces": False}, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(out_dir, ROOT)}/ (vocab {tk.get_vocab_size()})")

    from transformers import AutoTokenizer, GPT2Tokenizer
    tok = AutoTokenizer.from_pretrained(out_dir)
    cases = encode_cases(tok, CORPUS + random_strings(120, seed=1234))
    # Cross-check: the vocab.json + merges.txt pair alone gives the same ids.
    from tokenizers import ByteLevelBPETokenizer
    pair = ByteLevelBPETokenizer.from_file(os.path.join(out_dir, "vocab.json"), os.path.join(out_dir, "merges.txt"))
    pair.add_special_tokens(["<|endoftext|>"])
    for c in cases:
        assert pair.encode(c["text"]).ids == c["ids"], c["text"]
    fixture = {
        "name": "tiny_gpt2",
        "hf_dir": "tests/fixtures/tiny_gpt2_tokenizer",
        "oracle": versions() + " (AutoTokenizer.from_pretrained(hf_dir); vocab.json+merges.txt cross-checked)",
        "notes": ["byte-level BPE trained by this script on a few KB of text; <|endoftext|> is id 0 and both BOS and EOS"],
        "tokenizer_model": "gpt2",
        "pre": "gpt2",
        "n_vocab": tok.backend_tokenizer.get_vocab_size(with_added_tokens=True),
        "bos_id": tok.bos_token_id,
        "eos_id": tok.eos_token_id,
        "add_bos": False,
        "cases": cases,
        "with_bos": [],
        "chat": [],
    }
    write_json("tokenizer_tiny_gpt2.json", fixture)


def make_chat_templates():
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.join(FIX, "tiny_gpt2_tokenizer"))
    entries = []
    for name, template, bos, eos, fmt in CHAT_TEMPLATES:
        tok.bos_token = bos
        tok.eos_token = eos
        renders = []
        for conv in CONVERSATIONS:
            try:
                text = tok.apply_chat_template(conv["messages"], tokenize=False,
                                               add_generation_prompt=conv["add_generation_prompt"],
                                               chat_template=template)
            except Exception as e:  # e.g. Llama 2 raising on a bad role order
                text = None
                print(f"  {name}: {type(e).__name__}: {e}")
            renders.append({"messages": conv["messages"], "add_generation_prompt": conv["add_generation_prompt"],
                            "text": text})
        entries.append({"name": name, "format": fmt, "bos_token": bos, "eos_token": eos,
                        "template": template, "renders": renders})
    write_json("tokenizer_chat_templates.json", {"oracle": versions() + " apply_chat_template(tokenize=False)",
                                                 "templates": entries})

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def make_variants():
    """The tiny vocabulary under every supported pre-tokenizer, and as a SentencePiece-style vocabulary.

    Writes tokenizer_variants.json (pre-tokenizer piece lengths and ids per variant) and one
    tokenizer.json per variant under tokenizer_variants/<name>/ (to test the HF-dir loader).
    """
    import shutil
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    install_torch_stub()
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer
    from transformers.tokenization_utils_base import generate_merges

    tiny_dir = os.path.join(FIX, "tiny_gpt2_tokenizer")
    vocab, merges = models.BPE.read_file(os.path.join(tiny_dir, "vocab.json"), os.path.join(tiny_dir, "merges.txt"))
    texts = CORPUS + random_strings(120, seed=99)
    out_root = os.path.join(FIX, "tokenizer_variants")
    shutil.rmtree(out_root, ignore_errors=True)
    byte_dec = {v: k for k, v in bytes_to_unicode().items()}

    def save(tk, name):
        d = os.path.join(out_root, name)
        os.makedirs(d, exist_ok=True)
        tk.save(os.path.join(d, "tokenizer.json"))

    def ids_of(tk, t):
        tk.encode_special_tokens = False
        return tk.encode(t, add_special_tokens=False).ids

    byte_level = {}
    pre_tokenizers_by_name = {
        "gpt2": (pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), False),
        "smollm": (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]), False),
        "llama-bpe": (pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
                                               pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), True),
        "qwen2": (pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
                                           pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), False),
    }
    for name, (pt, ignore_merges) in pre_tokenizers_by_name.items():
        tk = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges))
        tk.pre_tokenizer = pt
        tk.decoder = decoders.ByteLevel()
        tk.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
        pieces = []
        for t in texts:
            lens = [len(bytes(byte_dec[c] for c in p)) for p, _ in pt.pre_tokenize_str(t)]
            pieces.append(lens)
        byte_level[name] = {"ignore_merges": ignore_merges, "piece_bytes": pieces,
                            "ids": [ids_of(tk, t) for t in texts]}
        save(tk, name)

    # SentencePiece-style vocabulary made from the tiny one: U+2581 for spaces, <0xNN> byte tokens.
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>"); scores.append(0.0); types.append(6)
    seen = set(tokens)
    for tok_text, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
        try:
            text = bytes(byte_dec[c] for c in tok_text).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        text = text.replace(" ", "\u2581")
        if text in seen or not text:
            continue
        seen.add(text)
        tokens.append(text); scores.append(-float(len(tokens))); types.append(1)
    spm_dict = {"tokenizer_type": "llama", "tokens": tokens, "scores": scores, "token_type": types,
                "bos_token_id": 1, "eos_token_id": 2, "unk_token_id": 0}
    first, _ = convert_gguf_tokenizer("llama", spm_dict)  # transformers' GGUF path (Metaspace "first")
    save(first, "spm-first")
    vocab_ids = {t: i for i, t in enumerate(tokens)}
    gen = generate_merges(vocab_ids, dict(zip(tokens, scores)))
    legacy = Tokenizer(models.BPE(vocab=vocab_ids, merges=gen, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    legacy.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    legacy.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                        decoders.Strip(" ", 1, 0)])
    legacy.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ["<unk>", "<s>", "</s>"]])
    save(legacy, "spm-legacy")
    spm = {"tokens": tokens, "scores": scores, "token_types": types, "bos_id": 1, "eos_id": 2, "unk_id": 0}
    for name, tk in (("first", first), ("legacy", legacy)):
        spm[name] = {"ids": [ids_of(tk, t) for t in texts],
                     "decoded": [tk.decode(ids_of(tk, t), skip_special_tokens=False) for t in texts]}
    write_json("tokenizer_variants.json", {"oracle": versions(), "texts": texts, "byte_level": byte_level, "spm": spm})
    print(f"wrote {os.path.relpath(out_root, ROOT)}/")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["smollm2", "gemma3", "tiny", "chat", "variants"])
    args = ap.parse_args()
    os.makedirs(FIX, exist_ok=True)
    if args.only in (None, "tiny"):
        make_tiny()
    if args.only in (None, "chat"):
        make_chat_templates()
    if args.only in (None, "variants"):
        make_variants()
    for name in GGUF_MODELS:
        if args.only in (None, name):
            make_gguf_fixture(name)


if __name__ == "__main__":
    main()
