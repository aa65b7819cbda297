// TokenizerSpec from a Hugging Face tokenizer directory: tokenizer.json (+ tokenizer_config.json),
// or GPT-2's vocab.json + merges.txt.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace rooflm {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& p) {
  try {
    return json::parse(read_text(p));
  } catch (const json::exception& e) {
    fail(p.string(), ": not valid JSON: ", e.what());
  }
}

// A special token in tokenizer_config.json: "text" or {"content": "text", ...} or null.
std::string token_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

int32_t id_of(const TokenizerSpec& s, const std::string& text) {
  if (text.empty()) return -1;
  for (size_t i = 0; i < s.tokens.size(); ++i)
    if (s.tokens[i] == text) return (int32_t)i;
  return -1;
}

const json* get(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string type_of(const json* j) {
  if (!j || !j->is_object()) return "";
  const json* t = get(*j, "type");
  return t && t->is_string() ? t->get<std::string>() : "";
}

bool is_byte_token(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit((unsigned char)t[3]) &&
         std::isxdigit((unsigned char)t[4]);
}

void fill_tokens(TokenizerSpec& s, const std::map<int64_t, std::string>& by_id, const std::string& where) {
  if (by_id.empty()) fail(where, ": the vocabulary is empty");
  int64_t max_id = by_id.rbegin()->first;
  if (by_id.begin()->first < 0) fail(where, ": negative token id ", by_id.begin()->first);
  if (max_id >= (int64_t)INT32_MAX) fail(where, ": token id ", max_id, " is too large");
  // by_id is sorted and holds distinct ids >= 0, so they are 0..max_id without gaps exactly when
  // the i-th id is i. Checked before allocating: one huge id must not cost max_id strings.
  int64_t expect = 0;
  for (const auto& entry : by_id) {
    if (entry.first != expect) fail(where, ": token id ", expect, " has no token (ids must be 0..", max_id, " without gaps)");
    expect++;
  }
  s.tokens.reserve(by_id.size());
  for (const auto& entry : by_id) s.tokens.push_back(entry.second);
}

// Byte-level pre-tokenizer name from tokenizer.json's pre_tokenizer.
std::string byte_level_pre(const json* pt, const std::string& where) {
  std::string t = type_of(pt);
  if (t == "ByteLevel") {
    const json* ap = get(*pt, "add_prefix_space");
    if (ap && ap->is_boolean() && ap->get<bool>())
      fail(where, ": pre_tokenizer ByteLevel with add_prefix_space=true is not supported");
    const json* ur = get(*pt, "use_regex");
    if (ur && ur->is_boolean() && !ur->get<bool>())
      fail(where, ": pre_tokenizer ByteLevel without a regex is not supported");
    return "gpt2";
  }
  if (t == "Sequence") {
    const json* list = get(*pt, "pretokenizers");
    if (list && list->is_array() && list->size() == 2) {
      const json& a = (*list)[0];
      const json& b = (*list)[1];
      std::string ta = type_of(&a), tb = type_of(&b);
      const json* b_regex = get(b, "use_regex");
      bool b_uses_regex = !b_regex || !b_regex->is_boolean() || b_regex->get<bool>();
      const json* b_prefix = get(b, "add_prefix_space");
      bool b_adds_prefix = b_prefix && b_prefix->is_boolean() && b_prefix->get<bool>();
      if (ta == "Digits" && tb == "ByteLevel" && b_uses_regex && !b_adds_prefix) {
        const json* ind = get(a, "individual_digits");
        if (ind && ind->is_boolean() && ind->get<bool>()) return "smollm";
      }
      if (ta == "Split" && tb == "ByteLevel" && !b_uses_regex && !b_adds_prefix) {
        const json* pat = get(a, "pattern");
        const json* re = pat ? get(*pat, "Regex") : nullptr;
        const json* beh = get(a, "behavior");
        const json* inv = get(a, "invert");
        if (re && re->is_string() && beh && beh->is_string() && beh->get<std::string>() == "Isolated" &&
            !(inv && inv->is_boolean() && inv->get<bool>())) {
          std::string name = tok::PreTokenizer::name_of_split_regex(re->get<std::string>());
          if (!name.empty()) return name;
          fail(where, ": pre_tokenizer Split regex is not one we know (known: GPT-2, Llama 3, Qwen2): ",
               re->get<std::string>());
        }
      }
    }
  }
  fail(where, ": unsupported byte-level pre_tokenizer ", pt ? pt->dump() : std::string("null"),
       " (supported: ByteLevel; Sequence[Digits(individual), ByteLevel]; Sequence[Split(Llama 3/Qwen2 regex), ByteLevel])");
}

void spm_prefix_from_json(TokenizerSpec& s, const json* norm, const json* pt, const std::string& where) {
  s.add_space_prefix = false;
  std::string nt = type_of(norm);
  auto is_replace_space = [](const json& n) {
    const json* pat = get(n, "pattern");
    const json* str = pat ? get(*pat, "String") : nullptr;
    const json* content = get(n, "content");
    return type_of(&n) == "Replace" && str && str->is_string() && str->get<std::string>() == " " && content &&
           content->is_string() && content->get<std::string>() == "\xE2\x96\x81";
  };
  if (nt == "Sequence") {
    const json* list = get(*norm, "normalizers");
    bool prepend = false, replace = false;
    for (const json& n : list && list->is_array() ? *list : json::array()) {
      if (type_of(&n) == "Prepend") {
        const json* p = get(n, "prepend");
        if (!p || !p->is_string() || p->get<std::string>() != "\xE2\x96\x81")
          fail(where, ": normalizer Prepend other than U+2581 is not supported");
        prepend = true;
      } else if (is_replace_space(n)) {
        replace = true;
      } else {
        fail(where, ": unsupported normalizer ", n.dump());
      }
    }
    if (!replace) fail(where, ": SentencePiece-style normalizer without Replace(' ', U+2581) is not supported");
    if (prepend) {
      s.add_space_prefix = true;
      s.space_prefix = SpacePrefix::Normalizer;
    }
  } else if (nt == "Replace") {
    if (!is_replace_space(*norm)) fail(where, ": unsupported normalizer ", norm->dump());
  } else if (!nt.empty()) {
    fail(where, ": unsupported normalizer ", norm->dump());
  }

  std::string pt_type = type_of(pt);
  if (pt_type == "Metaspace") {
    const json* split = get(*pt, "split");
    if (split && split->is_boolean() && split->get<bool>())
      fail(where, ": pre_tokenizer Metaspace with split=true is not supported");
    const json* scheme = get(*pt, "prepend_scheme");
    std::string sc = scheme && scheme->is_string() ? scheme->get<std::string>() : "always";
    const json* aps = get(*pt, "add_prefix_space");  // older serialisation
    if (!scheme && aps && aps->is_boolean()) sc = aps->get<bool>() ? "always" : "never";
    if (sc == "first") s.add_space_prefix = true, s.space_prefix = SpacePrefix::First;
    else if (sc == "always") s.add_space_prefix = true, s.space_prefix = SpacePrefix::Always;
    else if (sc != "never") fail(where, ": Metaspace prepend_scheme '", sc, "' is not supported");
  } else if (pt_type == "Split") {
    // Gemma splits on " " after the normalizer has replaced every space: no effect.
    const json* pat = get(*pt, "pattern");
    const json* str = pat ? get(*pat, "String") : nullptr;
    if (!(str && str->is_string() && str->get<std::string>() == " "))
      fail(where, ": unsupported SentencePiece-style pre_tokenizer ", pt->dump());
  } else if (!pt_type.empty()) {
    fail(where, ": unsupported SentencePiece-style pre_tokenizer ", pt->dump());
  }
}

TokenizerSpec from_tokenizer_json(const fs::path& p) {
  const std::string where = p.string();
  json j = read_json(p);
  TokenizerSpec s;
  const json* model = get(j, "model");
  if (!model || !model->is_object()) fail(where, ": 'model' is missing");
  std::string mtype = type_of(model);
  if (mtype != "BPE" && !(mtype.empty() && get(*model, "merges")))
    fail(where, ": model.type = '", mtype, "': only BPE tokenizers are supported");
  const json* vocab = get(*model, "vocab");
  if (!vocab || !vocab->is_object()) fail(where, ": model.vocab is missing (expected an object token -> id)");
  std::map<int64_t, std::string> by_id;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) fail(where, ": model.vocab['", it.key(), "'] is not an integer id");
    auto [pos, fresh] = by_id.emplace(it.value().get<int64_t>(), it.key());
    if (!fresh) fail(where, ": model.vocab: id ", pos->first, " is used twice");
  }
  std::map<int64_t, bool> added_special;
  if (const json* added = get(j, "added_tokens"); added && added->is_array()) {
    for (const json& a : *added) {
      const json* id = get(a, "id");
      const json* content = get(a, "content");
      if (!id || !id->is_number_integer() || !content || !content->is_string())
        fail(where, ": added_tokens entry without an integer id and a string content: ", a.dump());
      by_id[id->get<int64_t>()] = content->get<std::string>();
      const json* sp = get(a, "special");
      added_special[id->get<int64_t>()] = sp && sp->is_boolean() && sp->get<bool>();
    }
  }
  fill_tokens(s, by_id, where + ": model.vocab");
  s.token_types.assign(s.tokens.size(), kTokenNormal);
  for (const auto& [id, special] : added_special) s.token_types[(size_t)id] = special ? kTokenControl : kTokenUserDefined;

  if (const json* merges = get(*model, "merges"); merges && merges->is_array()) {
    s.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const json& m = (*merges)[i];
      if (m.is_string()) s.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        s.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else fail(where, ": model.merges[", i, "] is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  if (const json* im = get(*model, "ignore_merges"); im && im->is_boolean()) s.ignore_merges = im->get<bool>();
  const json* bf = get(*model, "byte_fallback");
  bool byte_fallback = bf && bf->is_boolean() && bf->get<bool>();
  if (const json* unk = get(*model, "unk_token"); unk && unk->is_string()) s.unk_id = id_of(s, unk->get<std::string>());

  const json* pt = get(j, "pre_tokenizer");
  const json* norm = get(j, "normalizer");
  std::string pt_type = type_of(pt);
  bool byte_level = pt_type == "ByteLevel" || type_of(get(j, "decoder")) == "ByteLevel";
  if (pt_type == "Sequence")
    if (const json* list = get(*pt, "pretokenizers"); list && list->is_array())
      for (const json& x : *list) byte_level = byte_level || type_of(&x) == "ByteLevel";
  if (byte_level) {
    s.model = "gpt2";
    std::string nt = type_of(norm);
    // Qwen2 declares NFC; text is assumed to be NFC already (see the report / tokenizer.h).
    if (!nt.empty() && nt != "NFC") fail(where, ": normalizer ", norm->dump(), " is not supported for byte-level BPE");
    s.pre = byte_level_pre(pt, where);
  } else if (byte_fallback || pt_type == "Metaspace" || type_of(norm) == "Sequence" || type_of(norm) == "Replace") {
    s.model = "llama";
    s.pre = "default";
    spm_prefix_from_json(s, norm, pt, where);
    for (size_t i = 0; i < s.tokens.size(); ++i)
      if (is_byte_token(s.tokens[i]) && s.token_types[i] == kTokenNormal) s.token_types[i] = kTokenByte;
  } else {
    fail(where, ": cannot tell the tokenizer kind (expected a ByteLevel pre-tokenizer or a SentencePiece-style BPE "
                "with byte_fallback/Metaspace)");
  }

  // BOS/EOS added by the post-processor (TemplateProcessing "<s> $A"), possibly inside a Sequence (Llama 3).
  const json* pp = get(j, "post_processor");
  if (type_of(pp) == "Sequence")
    if (const json* list = get(*pp, "processors"); list && list->is_array())
      for (const json& x : *list)
        if (type_of(&x) == "TemplateProcessing") pp = &x;
  if (type_of(pp) == "TemplateProcessing") {
    const json* single = get(*pp, "single");
    if (single && single->is_array() && !single->empty()) {
      auto special_id = [&](const json& e) -> std::string {
        const json* st = get(e, "SpecialToken");
        const json* id = st ? get(*st, "id") : nullptr;
        return id && id->is_string() ? id->get<std::string>() : "";
      };
      std::string first = special_id(single->front()), last = special_id(single->back());
      if (!first.empty()) s.bos_id = id_of(s, first), s.add_bos = s.bos_id >= 0;
      if (!last.empty() && single->size() > 1) s.eos_id = id_of(s, last), s.add_eos = s.eos_id >= 0;
    }
  }
  return s;
}

TokenizerSpec from_vocab_merges(const fs::path& vocab_path, const fs::path& merges_path) {
  TokenizerSpec s;
  s.model = "gpt2";
  s.pre = "gpt2";
  json v = read_json(vocab_path);
  if (!v.is_object()) fail(vocab_path.string(), ": expected an object token -> id");
  std::map<int64_t, std::string> by_id;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer()) fail(vocab_path.string(), ": '", it.key(), "' has no integer id");
    if (!by_id.emplace(it.value().get<int64_t>(), it.key()).second)
      fail(vocab_path.string(), ": id ", it.value().get<int64_t>(), " is used twice");
  }
  fill_tokens(s, by_id, vocab_path.string());
  std::istringstream in(read_text(merges_path));
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first && line.rfind("#version", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    s.merges.push_back(line);
  }
  s.token_types.assign(s.tokens.size(), kTokenNormal);
  return s;
}

}  // namespace

TokenizerSpec tokenizer_spec_from_hf_dir(const std::string& dir) {
  fs::path d(dir);
  if (!fs::is_directory(d)) fail(dir, ": not a directory");
  TokenizerSpec s;
  if (fs::exists(d / "tokenizer.json")) {
    s = from_tokenizer_json(d / "tokenizer.json");
  } else if (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt")) {
    s = from_vocab_merges(d / "vocab.json", d / "merges.txt");
  } else {
    fail(dir, ": no tokenizer.json, and no vocab.json + merges.txt");
  }

  json cfg = fs::exists(d / "tokenizer_config.json") ? read_json(d / "tokenizer_config.json") : json::object();
  const std::string where = (d / "tokenizer_config.json").string();
  auto special = [&](const char* key, int32_t& id) {
    const json* v = get(cfg, key);
    if (!v) return;
    std::string t = token_text(*v);
    if (t.empty()) return;
    int32_t found = id_of(s, t);
    if (found < 0) fail(where, ": ", key, " '", t, "' is not in the vocabulary");
    id = found;
    if (!s.token_types.empty() && s.token_types[(size_t)found] == kTokenNormal) s.token_types[(size_t)found] = kTokenControl;
  };
  special("bos_token", s.bos_id);
  special("eos_token", s.eos_id);
  special("unk_token", s.unk_id);
  special("pad_token", s.pad_id);
  // GPT-2 convention (GPT2Tokenizer defaults): <|endoftext|> is BOS, EOS and UNK.
  if (s.model == "gpt2") {
    int32_t eot = id_of(s, "<|endoftext|>");
    if (eot >= 0) {
      if (s.bos_id < 0 && !get(cfg, "bos_token")) s.bos_id = eot;
      if (s.eos_id < 0 && !get(cfg, "eos_token")) s.eos_id = eot;
      if (s.token_types[(size_t)eot] == kTokenNormal) s.token_types[(size_t)eot] = kTokenControl;
    }
  }
  if (const json* v = get(cfg, "add_bos_token"); v && v->is_boolean()) s.add_bos = v->get<bool>();
  if (const json* v = get(cfg, "add_eos_token"); v && v->is_boolean()) s.add_eos = v->get<bool>();
  if (const json* v = get(cfg, "chat_template")) {
    if (v->is_string()) {
      s.chat_template = v->get<std::string>();
    } else if (v->is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const json& e : *v) {
        const json* name = get(e, "name");
        const json* t = get(e, "template");
        if (name && name->is_string() && name->get<std::string>() == "default" && t && t->is_string())
          s.chat_template = t->get<std::string>();
      }
    }
  }
  if (s.chat_template.empty() && fs::exists(d / "chat_template.jinja")) s.chat_template = read_text(d / "chat_template.jinja");
  return s;
}

}  // namespace rooflm
