// GradientSynchronizer over two real Gloo ranks (threads of this process, a TCPStore on
// loopback): buckets and the row-sparse lookup table both leave every rank with the average of
// the ranks' gradients, and accumulation micro-steps do not all-reduce.
#include "trainer/distributed/gradient_sync.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace trainrt::trainer {
namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

struct RankResult {
  std::string error;
  std::vector<at::Tensor> grads;  // table, weight, bias
};

// Rank r looks up rows {r, 4} of a 6 x 3 table scaled by r + 1, and uses weight and bias so that
// their gradients differ per rank. `micro_steps` backwards, the last one synchronising.
void RunRank(int rank, int port, int micro_steps, RankResult& result) {
  DistributedEnv env;
  env.rank = rank;
  env.world_size = env.local_world_size = 2;
  env.local_rank = rank;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  auto group = Collectives::Connect(env, at::kCPU, std::chrono::seconds(60));
  if (!group.ok()) {
    result.error = group.status().ToString();
    return;
  }
  at::Tensor table = at::zeros({6, 3}).requires_grad_(), weight = at::arange(4, at::kFloat).requires_grad_(),
             bias = at::zeros({2}).requires_grad_();
  // Tiny buckets: the dense parameters each get one, the table its own.
  GradientSynchronizer sync(**group, {table, weight, bias}, /*lookup_table=*/0, /*first_bucket_bytes=*/8,
                            /*bucket_bytes=*/8);
  const at::Tensor ids = at::tensor({static_cast<int64_t>(rank), int64_t{4}});
  const double scale = rank + 1.0;
  for (int k = 0; k < micro_steps; ++k) {
    sync.set_sync(k + 1 == micro_steps);
    sync.NoteLookups(ids);
    at::Tensor loss = table.index_select(0, ids).sum() * scale + (weight * weight).sum() * scale + (bias * (rank + 2.0)).sum();
    loss.backward();
  }
  sync.Finish();
  result.grads = {table.grad().clone(), weight.grad().clone(), bias.grad().clone()};
}

void ExpectAverages(int micro_steps) {
  const int port = FreePort();
  ASSERT_GT(port, 0);
  RankResult r0, r1;
  std::thread t0(RunRank, 0, port, micro_steps, std::ref(r0)), t1(RunRank, 1, port, micro_steps, std::ref(r1));
  t0.join();
  t1.join();
  ASSERT_EQ(r0.error, "");
  ASSERT_EQ(r1.error, "");
  const double m = micro_steps;
  at::Tensor table = at::zeros({6, 3});
  table[0].fill_(1.0 * m / 2);          // rank 0 alone, scale 1
  table[1].fill_(2.0 * m / 2);          // rank 1 alone, scale 2
  table[4].fill_((1.0 + 2.0) * m / 2);  // both
  const at::Tensor weight = at::arange(4, at::kFloat) * 2 * (1.0 + 2.0) / 2 * m;
  const at::Tensor bias = at::full({2}, (2.0 + 3.0) / 2 * m);
  for (const RankResult* r : {&r0, &r1}) {
    EXPECT_TRUE(at::allclose(r->grads[0], table)) << r->grads[0];
    EXPECT_TRUE(at::allclose(r->grads[1], weight)) << r->grads[1];
    EXPECT_TRUE(at::allclose(r->grads[2], bias)) << r->grads[2];
  }
}

TEST(GradientSynchronizer, BucketsAndLookupRowsAverageOverTheRanks) { ExpectAverages(1); }

TEST(GradientSynchronizer, AccumulationMicroStepsSynchroniseOnceAtTheEnd) { ExpectAverages(3); }

}  // namespace
}  // namespace trainrt::trainer
