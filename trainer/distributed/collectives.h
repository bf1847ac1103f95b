// Collectives: the fine-tuner's process group, on libtorch's c10d: a TCPStore at
// MASTER_ADDR:MASTER_PORT (the launcher's store when TORCHELASTIC_USE_AGENT_STORE is set, else
// one that rank 0 serves), ProcessGroupNCCL for CUDA tensors and ProcessGroupGloo for CPU ones.
//
// Every collective runs under one timeout. When one fails (a peer hung, died, or the timeout
// passed), the error says which collective at which step, and which ranks did not report
// theirs: each failing rank records what it was waiting in under the store, waits a moment for
// the others to do the same, and names those that never did (hung or gone). Errors are thrown
// as CollectiveError; the fine-tuner's main turns them into its one-line failure.
#ifndef TRAINRT_TRAINER_DISTRIBUTED_COLLECTIVES_H_
#define TRAINRT_TRAINER_DISTRIBUTED_COLLECTIVES_H_

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include "runtime/status.h"
#include "trainer/distributed/distributed_env.h"

namespace trainrt::trainer {

class CollectiveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Collectives {
 public:
  // Joins the group: blocks until every rank has connected (or the timeout passes).
  static runtime::Result<std::unique_ptr<Collectives>> Connect(const DistributedEnv& env, const c10::Device& device,
                                                               std::chrono::seconds timeout);
  ~Collectives();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool cuda() const { return cuda_; }  // NCCL (else Gloo)
  // The training step collectives belong to, for error messages.
  void set_step(int64_t step) { step_ = step; }

  // A collective in flight; Wait() throws CollectiveError as the blocking calls do.
  class Pending {
   public:
    Pending() = default;
    Pending(Collectives* owner, c10::intrusive_ptr<c10d::Work> work, std::string what);
    ~Pending();
    Pending(Pending&&) noexcept;
    Pending& operator=(Pending&&) noexcept;
    void Wait();

   private:
    Collectives* owner_ = nullptr;
    c10::intrusive_ptr<c10d::Work> work_;
    std::string what_;
  };

  // `what` names the collective in errors ("all_reduce of gradient bucket 2").
  // Copies root's values into `tensors` on every rank, packed into one buffer per dtype.
  void Broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what);
  void AllReduceSum(std::vector<at::Tensor>& tensors, const std::string& what);
  Pending AllReduceSumAsync(std::vector<at::Tensor>& tensors, const std::string& what);
  // out[r] receives rank r's `in` (same shape on every rank).
  void AllGather(std::vector<at::Tensor>& out, const at::Tensor& in, const std::string& what);
  void Barrier(const std::string& what);
  // Point to point (pipeline stages). Send returns at once; the tensor is kept until it is sent.
  Pending Send(const at::Tensor& tensor, int to, int tag, const std::string& what);
  void Recv(at::Tensor& tensor, int from, int tag, const std::string& what);

  // A group of some of the ranks (every member calls this with the same name): `rank_in_group`
  // of `size`. Shares this group's store and timeout; ranks in its errors are group ranks.
  runtime::Result<std::unique_ptr<Collectives>> NewGroup(const std::string& name, int rank_in_group, int size);

  // The store, for agreements outside the collectives' order (a stop request).
  c10d::Store& store() { return *store_; }

 private:
  Collectives() = default;
  // The process group over store_ for rank_ of size_: NCCL for CUDA, Gloo for CPU.
  c10::intrusive_ptr<c10d::Backend> CreateBackend() const;
  // Calls `launch` (which starts a collective); a launch that throws fails as a timeout does.
  template <typename Launch>
  c10::intrusive_ptr<c10d::Work> Start(const std::string& what, Launch&& launch);
  // Runs `work` to completion or throws CollectiveError with the ranks that did not report.
  void Await(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what);
  [[noreturn]] void Fail(const std::string& what, const std::string& error);

  int rank_ = 0, size_ = 1;
  bool cuda_ = false;
  bool single_host_ = true;  // every rank on this host: Gloo on loopback
  int64_t step_ = 0;
  std::chrono::seconds timeout_{600};
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> backend_;
};

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DISTRIBUTED_COLLECTIVES_H_
