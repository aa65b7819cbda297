"""Load the SmolLM2 tokenizer from the GGUF via transformers (AutoTokenizer + gguf_file).

transformers 5.x imports torch at module level in transformers/integrations/gguf/reader.py even
though reading GGUF *metadata* (all a tokenizer needs) never touches a tensor. torch is not
installable here, so when it is missing we register a throw-away stand-in module named `torch`
(attribute lookups return dummy classes) for the duration of the load and remove it afterwards.
The tokenizer that comes out is transformers' own GGUF->tokenizers conversion
(integrations/gguf/gguf_tokenizer_mapping.py), unchanged.

AutoTokenizer.from_pretrained(models_dir, gguf_file=...) additionally builds a model *config*
through transformers' torch-only GGUF checkpoint loader; only the tokenizer class choice depends on
it (LlamaTokenizer for a llama GGUF), so without torch we call that class's from_pretrained
directly, which is the exact call AutoTokenizer ends with.
"""
from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path


@contextlib.contextmanager
def _torch_stand_in():
    if importlib.util.find_spec("torch") is not None or "torch" in sys.modules:
        yield False
        return
    stub = types.ModuleType("torch")
    stub.__spec__ = importlib.machinery.ModuleSpec("torch", None)
    stub.__getattr__ = lambda name: type(name, (), {})  # type: ignore[attr-defined]
    sys.modules["torch"] = stub
    try:
        yield True
    finally:
        sys.modules.pop("torch", None)


def load_gguf_tokenizer(gguf_path: str | Path):
    gguf_path = Path(gguf_path)
    import transformers  # noqa: F401  (import before the stand-in so availability flags stay honest)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    with _torch_stand_in() as stubbed:
        if not stubbed:
            from transformers import AutoTokenizer
            return AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        from transformers import LlamaTokenizer
        return LlamaTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
