// Native renderers for the chat formats we recognise (internal; Tokenizer::apply_chat_template).
#pragma once
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace rooflm::tok {

enum class ChatFormat { None, Unknown, ChatML, Gemma, Llama3, Llama2, Zephyr };

struct ChatTemplateInfo {
  ChatFormat format = ChatFormat::None;
  bool has_default_system = false;  // ChatML: the template writes a system turn when none is given
  std::string default_system;
};

// Recognises a Jinja chat template by its markers, or a format name ("chatml", "gemma", "llama3",
// "llama2", "zephyr"). An empty string gives ChatFormat::None.
ChatTemplateInfo detect_chat_template(const std::string& tmpl);
const char* chat_format_name(ChatFormat f);
std::string known_chat_formats();

// bos/eos: the text of the BOS/EOS tokens (what the template's bos_token/eos_token would print).
std::string render_chat(const ChatTemplateInfo& info, const std::vector<ChatMessage>& msgs, bool add_generation_prompt,
                        const std::string& bos, const std::string& eos);

}  // namespace rooflm::tok
