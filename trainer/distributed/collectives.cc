#include "trainer/distributed/collectives.h"

#include <unistd.h>

#include <cstdio>
#include <map>
#include <thread>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef TRAINRT_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace trainrt::trainer {
namespace {

constexpr auto kReportWait = std::chrono::seconds(3);  // for the other ranks' failure reports

std::string Now() {
  char buf[32];
  const time_t t = ::time(nullptr);
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::gmtime(&t));
  return buf;
}

}  // namespace

runtime::Result<std::unique_ptr<Collectives>> Collectives::Connect(const DistributedEnv& env, const c10::Device& device,
                                                                   std::chrono::seconds timeout) {
  std::unique_ptr<Collectives> c(new Collectives());
  c->rank_ = env.rank;
  c->size_ = env.world_size;
  c->timeout_ = timeout;
  c->cuda_ = device.is_cuda();
  c->single_host_ = env.world_size == env.local_world_size;
#ifndef TRAINRT_HAVE_NCCL
  if (c->cuda_) {
    return runtime::Status::InvalidArgument("this trainrt-finetune was built without NCCL: data parallel training "
                                            "on GPUs needs a build against a CUDA libtorch");
  }
#endif
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = !env.agent_store && env.rank == 0;
    options.numWorkers = env.agent_store ? std::nullopt : std::optional<std::size_t>(env.world_size);
    options.waitWorkers = false;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    // The fine-tuner's keys (c10d's too) in the launcher/worker namespace, per restart attempt: a
    // restarted job never reads the keys of the attempt before (a stop agreement, say).
    c->store_ = c10::make_intrusive<c10d::PrefixStore>(runtime::worker::WorkerKey(env.restart_count, "finetune"), tcp);
    c->backend_ = c->CreateBackend();
  } catch (const std::exception& e) {
    return runtime::Status::IOError("joining the process group (rank " + std::to_string(env.rank) + " of " +
                                    std::to_string(env.world_size) + ", store " + env.master_addr + ":" +
                                    std::to_string(env.master_port) + "): " + e.what());
  }
  return c;
}

c10::intrusive_ptr<c10d::Backend> Collectives::CreateBackend() const {
  auto pg_store = c10::make_intrusive<c10d::PrefixStore>("pg", store_);
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_);
#ifdef TRAINRT_HAVE_NCCL
  if (cuda_) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(pg_store, rank_, size_, options);
  }
#endif
  // Gloo's devices as Python's init_process_group picks them: GLOO_SOCKET_IFNAME's interfaces, else
  // the host name's address (loopback when every rank is on this host).
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* ifnames = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifnames != nullptr && *ifnames != '\0') {
    const std::string list = ifnames;
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = list.find(',', start);
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(list.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else if (single_host_) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->threads = static_cast<int>(options->devices.size()) * 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, rank_, size_, options);
}

Collectives::~Collectives() = default;

void Collectives::Fail(const std::string& what, const std::string& error) {
  const std::string mine = what + " at step " + std::to_string(step_);
  std::string others;
  try {
    store_->set("failed/" + std::to_string(rank_), mine);
    std::this_thread::sleep_for(kReportWait);
    std::string silent;
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      const std::string key = "failed/" + std::to_string(r);
      if (store_->check({key})) {
        const std::vector<uint8_t> v = store_->get(key);
        others += "; rank " + std::to_string(r) + " failed in " + std::string(v.begin(), v.end());
      } else {
        silent += (silent.empty() ? "" : ", ") + std::to_string(r);
      }
    }
    if (!silent.empty()) others += "; rank(s) " + silent + " did not report (hung, stopped or gone)";
  } catch (const std::exception& e) {
    others += "; the store is unreachable too (" + std::string(e.what()).substr(0, 200) + ")";
  }
  std::string first_line = error.substr(0, error.find('\n'));
  throw CollectiveError("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": " + mine + " failed at " +
                        Now() + " UTC (collective timeout " + std::to_string(timeout_.count()) + " s): " +
                        first_line + others);
}

template <typename Launch>
c10::intrusive_ptr<c10d::Work> Collectives::Start(const std::string& what, Launch&& launch) {
  try {
    return launch();
  } catch (const std::exception& e) {
    Fail(what, e.what());
  }
}

void Collectives::Await(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    Fail(what, e.what());
  }
}

Collectives::Pending::Pending(Collectives* owner, c10::intrusive_ptr<c10d::Work> work, std::string what)
    : owner_(owner), work_(std::move(work)), what_(std::move(what)) {}
Collectives::Pending::~Pending() = default;
Collectives::Pending::Pending(Pending&&) noexcept = default;
Collectives::Pending& Collectives::Pending::operator=(Pending&&) noexcept = default;

void Collectives::Pending::Wait() {
  if (!work_) return;
  auto work = std::move(work_);
  owner_->Await(work, what_);
}

void Collectives::Broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  c10d::BroadcastOptions options;
  options.rootRank = root;
  std::map<at::ScalarType, std::vector<at::Tensor*>> by_dtype;
  for (auto& t : tensors) by_dtype[t.scalar_type()].push_back(&t);
  at::NoGradGuard no_grad;
  for (auto& [dtype, group] : by_dtype) {
    std::vector<at::Tensor> flat_parts;
    for (at::Tensor* t : group) flat_parts.push_back(t->reshape({-1}));
    std::vector<at::Tensor> one{at::cat(flat_parts)};
    c10::intrusive_ptr<c10d::Work> work = Start(what, [&] { return backend_->broadcast(one, options); });
    Await(work, what);
    int64_t offset = 0;
    for (at::Tensor* t : group) {
      t->copy_(one[0].narrow(0, offset, t->numel()).view(t->sizes()));
      offset += t->numel();
    }
  }
}

void Collectives::AllReduceSum(std::vector<at::Tensor>& tensors, const std::string& what) {
  AllReduceSumAsync(tensors, what).Wait();
}

Collectives::Pending Collectives::AllReduceSumAsync(std::vector<at::Tensor>& tensors, const std::string& what) {
  c10::intrusive_ptr<c10d::Work> work = Start(what, [&] { return backend_->allreduce(tensors); });
  return Pending(this, std::move(work), what);
}

void Collectives::AllGather(std::vector<at::Tensor>& out, const at::Tensor& in, const std::string& what) {
  out.clear();
  for (int r = 0; r < size_; ++r) out.push_back(at::empty_like(in));
  std::vector<std::vector<at::Tensor>> outputs{out};
  std::vector<at::Tensor> inputs{in};
  c10::intrusive_ptr<c10d::Work> work = Start(what, [&] { return backend_->allgather(outputs, inputs); });
  Await(work, what);
  out = outputs[0];
}

Collectives::Pending Collectives::Send(const at::Tensor& tensor, int to, int tag, const std::string& what) {
  std::vector<at::Tensor> one{tensor.contiguous()};
  c10::intrusive_ptr<c10d::Work> work = Start(what, [&] { return backend_->send(one, to, tag); });
  return Pending(this, std::move(work), what);
}

void Collectives::Recv(at::Tensor& tensor, int from, int tag, const std::string& what) {
  std::vector<at::Tensor> one{tensor};
  c10::intrusive_ptr<c10d::Work> work = Start(what, [&] { return backend_->recv(one, from, tag); });
  Await(work, what);
}

runtime::Result<std::unique_ptr<Collectives>> Collectives::NewGroup(const std::string& name, int rank_in_group, int size) {
  std::unique_ptr<Collectives> c(new Collectives());
  c->rank_ = rank_in_group;
  c->size_ = size;
  c->timeout_ = timeout_;
  c->cuda_ = cuda_;
  c->single_host_ = single_host_;
  try {
    c->store_ = c10::make_intrusive<c10d::PrefixStore>("group/" + name, store_);
    c->backend_ = c->CreateBackend();
  } catch (const std::exception& e) {
    return runtime::Status::IOError("creating process group " + name + ": " + e.what());
  }
  return c;
}

void Collectives::Barrier(const std::string& what) {
  c10::intrusive_ptr<c10d::Work> work = Start(what, [&] { return backend_->barrier(); });
  Await(work, what);
}

}  // namespace trainrt::trainer
