// Element-wise and row-wise ops of the forward pass. They touch activations only (a few KB
// per token), but with a batch of 64 tree nodes a scalar exp per SwiGLU element costs more
// than the weights' arithmetic, so the transcendental and reducing ops have AVX-512 versions
// chosen at run time, with the scalar versions in ops_ref as their test oracles.
//
// Every op is computed row by row with the same instruction sequence whatever the batch size
// or thread count, so a row of a 64-node tree batch equals the same row decoded alone.
#pragma once
#include <cstdint>

namespace rooflm {

// y = x / rms(x) * w   (w may be null: no scale)
void rmsnorm(float* y, const float* x, const float* w, int64_t n, float eps);
// y = (x - mean) / std * w + b
void layernorm(float* y, const float* x, const float* w, const float* b, int64_t n, float eps);

// Rotary position embedding of one head vector in place.
// adjacent = true rotates pairs (x[2i], x[2i+1]) (llama.cpp's "normal" layout for GGUF llama);
// false rotates (x[i], x[i + d/2]) (NeoX / Hugging Face rotate_half layout).
// The cos/sin table for one position is computed once per forward pass and shared by all
// heads and layers (rot_dim/2 entries each).
void rope_table(float* cos_out, float* sin_out, int64_t rot_dim, int64_t pos, float theta);
void rope(float* x, int64_t rot_dim, const float* cos_t, const float* sin_t, bool adjacent);

void silu_mul(float* gate, const float* up, int64_t n);        // gate = silu(gate) * up
void gelu_mul(float* gate, const float* up, int64_t n);        // gate = gelu_tanh(gate) * up
void gelu(float* x, int64_t n);                                // tanh approximation (GPT-2 gelu_new)
void add(float* y, const float* x, int64_t n);                 // y += x
void scale(float* y, float s, int64_t n);
void softmax(float* x, int64_t n);                             // in place, numerically stable
void to_fp16(uint16_t* dst, const float* src, int64_t n);      // round to nearest even (f16 KV cache)

// Scalar references (libm exp/tanh, double accumulation): the oracles of the tests.
namespace ops_ref {
void rmsnorm(float* y, const float* x, const float* w, int64_t n, float eps);
void layernorm(float* y, const float* x, const float* w, const float* b, int64_t n, float eps);
void silu_mul(float* gate, const float* up, int64_t n);
void gelu_mul(float* gate, const float* up, int64_t n);
void gelu(float* x, int64_t n);
void softmax(float* x, int64_t n);
void exp(float* x, int64_t n);  // x = e^x element-wise (exposes the vector exp to the tests)
void to_fp16(uint16_t* dst, const float* src, int64_t n);
}  // namespace ops_ref

// AVX-512 versions (call only where kernel_path_supported(KernelPath::AVX512)).
namespace ops_avx512 {
void rmsnorm(float* y, const float* x, const float* w, int64_t n, float eps);
void layernorm(float* y, const float* x, const float* w, const float* b, int64_t n, float eps);
void silu_mul(float* gate, const float* up, int64_t n);
void gelu_mul(float* gate, const float* up, int64_t n);
void gelu(float* x, int64_t n);
void softmax(float* x, int64_t n);
void exp(float* x, int64_t n);
void to_fp16(uint16_t* dst, const float* src, int64_t n);
}  // namespace ops_avx512

}  // namespace rooflm
