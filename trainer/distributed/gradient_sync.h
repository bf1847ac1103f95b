// GradientSynchronizer: data parallelism's gradient averaging, as PyTorch's DDP does it but on
// portable libtorch parts (distributed.md §2.8-2.9): parameters are packed in reverse order into
// buckets (the first about 1 MiB, then about 25 MiB), and a bucket's all-reduce is launched from
// the gradient-accumulator hooks as soon as its last gradient is ready, while backward is still
// computing earlier layers. Buckets launch strictly in order, so every rank issues the same
// sequence. Finish() waits for them and writes the averages back into the gradients. With
// gradient accumulation, only the last micro-batch's backward synchronises (set_sync(false) before
// the others, as DDP's no_sync()).
#ifndef TRAINRT_TRAINER_DISTRIBUTED_GRADIENT_SYNC_H_
#define TRAINRT_TRAINER_DISTRIBUTED_GRADIENT_SYNC_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <ATen/core/Tensor.h>

#include "trainer/distributed/collectives.h"

namespace torch::autograd {
struct Node;
}

namespace trainrt::trainer {

class GradientSynchronizer {
 public:
  static constexpr size_t kFirstBucketBytes = 1 << 20;
  static constexpr size_t kBucketBytes = 25 << 20;

  // `params` in model order. They must stay alive as long as this object.
  GradientSynchronizer(Collectives& collectives, std::vector<at::Tensor> params,
                       size_t first_bucket_bytes = kFirstBucketBytes, size_t bucket_bytes = kBucketBytes);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Whether the next backward all-reduces (false on accumulation micro-steps).
  void set_sync(bool sync) { sync_ = sync; }
  // After a synchronising backward: launches what is left (parameters without gradients count as
  // zeros), waits, and leaves each gradient the average over the ranks.
  void Finish();
  size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    at::Tensor flat;
    size_t ready = 0;
    Collectives::Pending pending;
  };
  void OnGradReady(size_t param);
  void LaunchReady();  // launches ready buckets in order; mu_ held
  void Launch(Bucket& b, size_t index);

  Collectives& collectives_;
  std::vector<at::Tensor> params_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> ready_;
  std::vector<Bucket> buckets_;
  size_t next_launch_ = 0;
  bool sync_ = true;
  std::mutex mu_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // hooks live on these
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DISTRIBUTED_GRADIENT_SYNC_H_
