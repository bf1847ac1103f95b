// GradientSynchronizer: data parallelism's gradient averaging, as PyTorch's DDP does it but on
// portable libtorch parts (distributed.md §2.8-2.9): parameters are packed in reverse order into
// buckets (the first about 1 MiB, then about 25 MiB), and a bucket's all-reduce is launched from
// the gradient-accumulator hooks as soon as its last gradient is ready, while backward is still
// computing earlier layers. Buckets launch strictly in order, so every rank issues the same
// sequence. Finish() waits for them and writes the averages back into the gradients. With
// gradient accumulation, only the last micro-batch's backward synchronises (set_sync(false) before
// the others, as DDP's no_sync()).
//
// Beyond DDP: the word-embedding table's gradient is zero outside the rows the batches looked up
// (for BERT-base, 300 of 30522 rows in a batch of 16 short texts), yet it is the largest gradient
// and the last one ready, so DDP's all-reduce of it can overlap nothing. Declared as a lookup
// table, it is synchronised as rows: the ranks first sum a mask of the rows each looked up (small,
// launched with the first bucket), then all-reduce only those rows. The result equals the dense
// average, as rows no rank looked up are zero on every rank.
#ifndef TRAINRT_TRAINER_DISTRIBUTED_GRADIENT_SYNC_H_
#define TRAINRT_TRAINER_DISTRIBUTED_GRADIENT_SYNC_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
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

  // `params` in model order. They must stay alive as long as this object. `lookup_table`, if set,
  // indexes a parameter whose gradient is nonzero only in the rows NoteLookups() names (a 2-D
  // embedding table used only through lookups of those ids).
  GradientSynchronizer(Collectives& collectives, std::vector<at::Tensor> params,
                       std::optional<size_t> lookup_table = std::nullopt,
                       size_t first_bucket_bytes = kFirstBucketBytes, size_t bucket_bytes = kBucketBytes);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Whether the next backward all-reduces (false on accumulation micro-steps).
  void set_sync(bool sync) { sync_ = sync; }
  // The ids the lookup table is indexed with in the next forward; call it for every micro-batch,
  // synchronising or not. Without a lookup table it does nothing.
  void NoteLookups(const at::Tensor& ids);
  // After a synchronising backward: launches what is left (parameters without gradients count as
  // zeros), waits, and leaves each gradient the average over the ranks. The gradients then view
  // this object's buffers, so they must be reset (set to none) before the next backward.
  void Finish();
  size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    at::Tensor flat;         // dense buckets: every parameter's gradient, packed
    at::Tensor rows, values;  // the lookup table's bucket: the rows some rank looked up, their gradients
    size_t ready = 0;
    Collectives::Pending pending;
  };
  void OnGradReady(size_t param);
  void LaunchReady();  // launches ready buckets in order; mu_ held
  void Launch(Bucket& b, size_t index);
  void LaunchLookupTable(Bucket& b, size_t index);

  Collectives& collectives_;
  std::vector<at::Tensor> params_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> ready_;
  std::vector<Bucket> buckets_;
  std::optional<size_t> lookup_table_;
  at::Tensor looked_up_;  // per table row: 1 where a micro-batch since the last sync looked it up
  Collectives::Pending looked_up_sum_;
  size_t next_launch_ = 0;
  bool sync_ = true;
  std::mutex mu_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // hooks live on these
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DISTRIBUTED_GRADIENT_SYNC_H_
