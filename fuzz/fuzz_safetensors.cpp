// safetensors reader: parse arbitrary bytes and touch every tensor it hands out.
#include "fuzz_util.h"
#include "io/safetensors.h"

using namespace rooflm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size);
  fuzz::expect_only_errors("safetensors", [&] {
    SafetensorsFile f(path);
    const uint8_t* begin = f.mapped().data();
    const uint8_t* end = begin + f.mapped().size();
    for (const auto& [name, t] : f.tensors()) {
      // The mapping is not ASan-tracked memory, so check the bounds the reader promised here.
      if (t.nbytes > 0 && (t.data < begin || t.data > end || t.nbytes > (size_t)(end - t.data)))
        fuzz::finding("tensor '" + name + "' lies outside the file");
      // The reader promised a sane element count: the product of the shape may not wrap.
      uint64_t n = 1;
      for (int64_t d : t.shape)
        if (d <= 0 || __builtin_mul_overflow(n, (uint64_t)d, &n) || n > (1ull << 40))
          fuzz::finding("tensor '" + name + "': absurd shape accepted");
      const size_t elem = t.type == DType::F32 ? 4 : 2;
      if (t.nbytes != n * elem) fuzz::finding("tensor '" + name + "': nbytes does not match its shape");
      if (t.nbytes > 0) {
        volatile uint8_t sink = t.data[0];
        sink = t.data[t.nbytes - 1];
        (void)sink;
      }
      if (f.find(name) != &t) fuzz::finding("find() does not find '" + name + "'");
    }
  });
  return 0;
}
