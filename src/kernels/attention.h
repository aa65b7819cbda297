// Attention of a batch of nodes over the committed KV cache plus each node's ancestors.
//
// The batch is a tree (a chain for prefill, one node for decode): node i sees every
// committed row [0, n_past) and the batch rows of its ancestors and itself. Batch node a's
// K/V were written at cache row n_past + a. Scores live in a per-thread scratch row, so
// there is no O(n^2) buffer per token.
#pragma once
#include <cstdint>

#include "core/threadpool.h"

namespace rooflm {

struct AttentionArgs {
  const float* q = nullptr;       // [n_tok][n_head * head_dim], already roped
  int64_t q_stride = 0;           // floats between tokens
  const void* k_cache = nullptr;  // key tiles (k_tile_offset below), f32 or f16 (kv_f16)
  const void* v_cache = nullptr;  // [rows][n_head_kv * head_dim], f32 or f16
  bool kv_f16 = false;
  int64_t kv_stride = 0;          // channels of a cache row (n_head_kv * head_dim, or more)
  int n_head = 0, n_head_kv = 0, head_dim = 0;
  int64_t n_past = 0;             // committed rows; committed row j has position j
  int n_tok = 0;
  const int32_t* positions = nullptr;    // position of each batch node
  const int32_t* visible = nullptr;      // concatenated ancestor lists (batch indices, incl. self)
  const int32_t* visible_begin = nullptr; // node i's list is visible[visible_begin[i] .. visible_begin[i+1])
  int64_t window = 0;             // sliding window in positions (0 = unlimited)
  float scale = 1.0f;             // usually 1/sqrt(head_dim)
  float* out = nullptr;           // [n_tok][n_head * head_dim]
  int64_t out_stride = 0;
  float* scratch = nullptr;       // per-thread score rows
  int64_t scratch_stride = 0;     // >= attention_scratch_floats(n_past + n_tok, head_dim)
};

// The K cache is stored in key tiles of 16 rows: inside a tile, channel-major, so that the 16
// values of one channel (one dimension of one KV head) of 16 consecutive keys are contiguous
// and one vector holds them. A query's scores for 16 keys are then 16-lane multiply-adds over
// its dimensions, with no horizontal sums (the V cache stays row-major: the weighted sum of
// V rows is already lane-parallel over dimensions). Element (row, channel c) of a K cache of
// `channels` channels per row; a cache holds whole tiles (k_cache_rows).
constexpr int kKeyTile = 16;
inline int64_t k_tile_offset(int64_t row, int64_t c, int64_t channels) {
  return ((row / kKeyTile) * channels + c) * kKeyTile + row % kKeyTile;
}
inline int64_t k_cache_rows(int64_t rows) { return (rows + kKeyTile - 1) / kKeyTile * kKeyTile; }

// Floats of scratch each thread needs for up to max_keys keys per query: a score row for each
// query head the AVX-512 kernel takes at once (at most 3) and one gathered key tile
// (head_dim x 16 values), or the scalar kernel's row and a converted K/V row.
inline int64_t attention_scratch_floats(int64_t max_keys, int head_dim) {
  return 3 * max_keys + (int64_t)kKeyTile * head_dim;
}

void attention(const AttentionArgs& a, ThreadPool& pool);
// Whether attention(a, pool) splits the work across the pool's threads; when it does not, it
// runs on the calling thread alone and never touches the pool.
bool attention_is_parallel(const AttentionArgs& a);
// Single-threaded scalar oracle with the same semantics.
void attention_ref(const AttentionArgs& a);

// The AVX-512 kernel for one node and `count` query heads from head_begin that share a KV
// head (count <= attention_avx512_max_heads(head_dim): 3 for 64-dim heads): each K tile
// vector and V row is converted once for all of them; scores 16 keys at a time from key
// tiles, vector exp, weighted sum of V in registers. For head_dim 32, 64, 128 or 256;
// attention() uses it where the CPU has AVX-512.
bool attention_avx512_supports(int head_dim);
int attention_avx512_max_heads(int head_dim);
void attend_heads_avx512(const AttentionArgs& a, int node, int head_begin, int count, float* scratch);

}  // namespace rooflm
