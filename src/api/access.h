// What the public handles (include/rooflm/rooflm.h) hold, and the library's way in to them.
#pragma once
#include <memory>

#include "core/threadpool.h"
#include "decode/generate.h"
#include "decode/sampler.h"
#include "model/model.h"
#include "model/session.h"
#include "rooflm/rooflm.h"

namespace rooflm::api {

struct Model::Impl {
  std::shared_ptr<const rooflm::Model> model;  // shared by handles of with_threads
  std::unique_ptr<ThreadPool> pool;  // the model's own: no process-wide pool
};

struct Access {
  using ModelImpl = Model::Impl;
  static const std::shared_ptr<ModelImpl>& impl(const Model& m) { return m.impl_; }
  static const rooflm::Model& model(const Model& m) { return *m.impl_->model; }
  static ThreadPool& pool(const Model& m) { return *m.impl_->pool; }
};

// The KV cache format the public option names.
inline DType dtype_of(KvType t) { return t == KvType::F32 ? DType::F32 : DType::F16; }

}  // namespace rooflm::api
