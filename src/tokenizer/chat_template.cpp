#include "tokenizer/chat_template.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace rooflm::tok {

namespace {

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

// Finds a string literal in the template that reads '<|im_start|>system\n...<|im_end|>\n' with
// fixed text: the default system prompt written when the conversation has none.
bool find_default_system(const std::string& t, std::string& out) {
  const std::string head = "<|im_start|>system";
  for (size_t at = t.find(head); at != std::string::npos; at = t.find(head, at + 1)) {
    if (at == 0 || (t[at - 1] != '\'' && t[at - 1] != '"')) continue;
    char quote = t[at - 1];
    size_t p = at + head.size();
    // The literal continues to the next unescaped closing quote.
    std::string lit;
    bool closed = false;
    for (; p < t.size(); ++p) {
      char c = t[p];
      if (c == '\\' && p + 1 < t.size()) {
        char e = t[++p];
        switch (e) {
          case 'n': lit += '\n'; break;
          case 't': lit += '\t'; break;
          case 'r': lit += '\r'; break;
          default: lit += e; break;  // \\ \' \"
        }
        continue;
      }
      if (c == quote) {
        closed = true;
        break;
      }
      lit += c;
    }
    if (!closed || lit.empty() || lit[0] != '\n') continue;
    const std::string tail = "<|im_end|>";
    size_t end = lit.find(tail);
    if (end == std::string::npos || end <= 1) continue;
    out = lit.substr(1, end - 1);
    return true;
  }
  return false;
}

void check_alternation(const std::vector<ChatMessage>& loop, const char* fmt) {
  for (size_t i = 0; i < loop.size(); ++i)
    if ((loop[i].role == "user") != (i % 2 == 0))
      fail("chat template (", fmt, "): conversation roles must alternate user/assistant/user/assistant/... "
           "(message ", i, " has role '", loop[i].role, "')");
}

}  // namespace

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::ChatML: return "chatml";
    case ChatFormat::Gemma: return "gemma";
    case ChatFormat::Llama3: return "llama3";
    case ChatFormat::Llama2: return "llama2";
    case ChatFormat::Zephyr: return "zephyr";
    default: return "";
  }
}

std::string known_chat_formats() {
  return "chatml (<|im_start|>: SmolLM2, Qwen), gemma (<start_of_turn>), llama3 (<|start_header_id|>), "
         "llama2 ([INST] <<SYS>>), zephyr (<|user|>: TinyLlama)";
}

ChatTemplateInfo detect_chat_template(const std::string& t) {
  ChatTemplateInfo info;
  if (t.empty()) return info;
  if (t == "chatml") info.format = ChatFormat::ChatML;
  else if (t == "gemma") info.format = ChatFormat::Gemma;
  else if (t == "llama3") info.format = ChatFormat::Llama3;
  else if (t == "llama2") info.format = ChatFormat::Llama2;
  else if (t == "zephyr") info.format = ChatFormat::Zephyr;
  else if (contains(t, "<start_of_turn>")) info.format = ChatFormat::Gemma;
  else if (contains(t, "<|start_header_id|>") && contains(t, "<|eot_id|>")) {
    // Llama 3.1+ templates add a dated system header and tool blocks: not this simple format.
    info.format = contains(t, "Cutting Knowledge Date") ? ChatFormat::Unknown : ChatFormat::Llama3;
  } else if (contains(t, "<|im_start|>")) {
    info.format = ChatFormat::ChatML;
    info.has_default_system = find_default_system(t, info.default_system);
  } else if (contains(t, "[INST]") && contains(t, "<<SYS>>")) info.format = ChatFormat::Llama2;
  else if (contains(t, "<|user|>") && contains(t, "<|assistant|>") && contains(t, "eos_token"))
    info.format = ChatFormat::Zephyr;
  else info.format = ChatFormat::Unknown;
  return info;
}

std::string render_chat(const ChatTemplateInfo& info, const std::vector<ChatMessage>& msgs, bool add_gen,
                        const std::string& bos, const std::string& eos) {
  std::string out;
  switch (info.format) {
    case ChatFormat::None:
      fail("tokenizer: the model has no chat template (tokenizer.chat_template); known formats: ",
           known_chat_formats(), " (set TokenizerSpec::chat_template to a format name to choose one)");
    case ChatFormat::Unknown:
      fail("tokenizer: chat template is not a known format; known formats: ", known_chat_formats());

    case ChatFormat::ChatML:
      if (info.has_default_system && !msgs.empty() && msgs[0].role != "system")
        out += "<|im_start|>system\n" + info.default_system + "<|im_end|>\n";
      for (const auto& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_gen) out += "<|im_start|>assistant\n";
      return out;

    case ChatFormat::Gemma: {
      out += bos;
      std::string prefix;
      size_t first = 0;
      if (!msgs.empty() && msgs[0].role == "system") {
        prefix = msgs[0].content + "\n\n";
        first = 1;
      }
      std::vector<ChatMessage> loop(msgs.begin() + first, msgs.end());
      check_alternation(loop, "gemma");
      for (size_t i = 0; i < loop.size(); ++i) {
        const std::string role = loop[i].role == "assistant" ? "model" : loop[i].role;
        out += "<start_of_turn>" + role + "\n" + (i == 0 ? prefix : std::string()) + py_strip(loop[i].content) +
               "<end_of_turn>\n";
      }
      if (add_gen) out += "<start_of_turn>model\n";
      return out;
    }

    case ChatFormat::Llama3:
      for (size_t i = 0; i < msgs.size(); ++i) {
        if (i == 0) out += bos;
        out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n" + py_strip(msgs[i].content) +
               "<|eot_id|>";
      }
      if (add_gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;

    case ChatFormat::Llama2: {
      // The template has no generation prompt: the last [/INST] is where the answer starts.
      size_t first = 0;
      bool has_sys = false;
      std::string sys;
      if (!msgs.empty() && msgs[0].role == "system") {
        sys = msgs[0].content;
        has_sys = true;
        first = 1;
      }
      std::vector<ChatMessage> loop(msgs.begin() + first, msgs.end());
      check_alternation(loop, "llama2");
      for (size_t i = 0; i < loop.size(); ++i) {
        std::string content = loop[i].content;
        if (i == 0 && has_sys) content = std::string("<<SYS>>\n").append(sys).append("\n<</SYS>>\n\n").append(content);
        if (loop[i].role == "user") out.append(bos).append("[INST] ").append(py_strip(content)).append(" [/INST]");
        else if (loop[i].role == "assistant") out.append(" ").append(py_strip(content)).append(" ").append(eos);
      }
      return out;
    }

    case ChatFormat::Zephyr:
      for (size_t i = 0; i < msgs.size(); ++i) {
        const auto& m = msgs[i];
        if (m.role == "user" || m.role == "system" || m.role == "assistant")
          out.append("<|").append(m.role).append("|>\n").append(m.content).append(eos).append("\n");
        if (i + 1 == msgs.size() && add_gen) out += "<|assistant|>\n";
      }
      return out;
  }
  return out;
}

}  // namespace rooflm::tok
