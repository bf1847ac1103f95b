// The launcher's rendezvous store with its own client (the torch client is tested end to end by
// tests/integration/launch_torch_test.sh).
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "launcher/tcp_store_client.h"
#include "launcher/tcp_store_server.h"

namespace trainrt::launcher {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<TcpStoreClient> Client(const TcpStoreServer& server) {
  auto c = TcpStoreClient::Connect("127.0.0.1", server.port(), milliseconds(5000));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(TcpStore, SetGetAddCheck) {
  auto server = TcpStoreServer::Start(0);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto a = Client(**server);
  auto b = Client(**server);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Set("k", std::string("v\0w", 3)).ok());
  auto got = b->Get("k", milliseconds(1000));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::string("v\0w", 3));
  EXPECT_EQ(*a->Add("n", 5), 5);
  EXPECT_EQ(*b->Add("n", -2), 3);
  EXPECT_TRUE(*a->Check({"k", "n"}));
  EXPECT_FALSE(*a->Check({"k", "absent"}));
  EXPECT_EQ((*server)->NumKeys(), 2);
}

TEST(TcpStore, WaitBlocksUntilAnotherClientSets) {
  auto server = TcpStoreServer::Start(0);
  ASSERT_TRUE(server.ok());
  auto waiter = Client(**server);
  auto setter = Client(**server);
  std::thread t([&] {
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_TRUE(setter->Set("a", "1").ok());
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_TRUE(setter->Add("b", 1).ok());
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(waiter->Wait({"a", "b"}, milliseconds(5000)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));
  t.join();
}

TEST(TcpStore, WaitTimesOutAndTheClientStaysUsable) {
  auto server = TcpStoreServer::Start(0);
  ASSERT_TRUE(server.ok());
  auto c = Client(**server);
  runtime::Status s = c->Wait({"never"}, milliseconds(100));
  EXPECT_EQ(s.code(), runtime::Status::Code::kCancelled);
  ASSERT_TRUE(c->Set("never", "now").ok());  // a cancelled wait must not fire later
  auto v = c->Get("never", milliseconds(1000));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, "now");
}

TEST(TcpStore, ConnectGivesUpWithAClearError) {
  auto server = TcpStoreServer::Start(0);
  ASSERT_TRUE(server.ok());
  const uint16_t port = (*server)->port();
  server->reset();  // nobody listens there any more
  auto c = TcpStoreClient::Connect("127.0.0.1", port, milliseconds(300));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().ToString().find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << c.status().ToString();
}

TEST(TcpStore, DeleteKeysWithoutKeepsOnlyTheLaunchersKeys) {
  auto server = TcpStoreServer::Start(0);
  ASSERT_TRUE(server.ok());
  auto c = Client(**server);
  ASSERT_TRUE(c->Set("trainrt/attempt_0/joined/0", "h").ok());
  ASSERT_TRUE(c->Set("/default_pg/0//gloo/rank_0", "stale address").ok());
  ASSERT_TRUE(c->Add("/init/", 1).ok());
  (*server)->DeleteKeysWithout("trainrt/");
  EXPECT_EQ((*server)->NumKeys(), 1);
  EXPECT_TRUE(*c->Check({"trainrt/attempt_0/joined/0"}));
  EXPECT_FALSE(*c->Check({"/default_pg/0//gloo/rank_0"}));
}

TEST(TcpStore, GarbageFromOneClientDoesNotHurtOthers) {
  auto server = TcpStoreServer::Start(0);
  ASSERT_TRUE(server.ok());
  auto good = Client(**server);
  auto bad = Client(**server);
  ASSERT_TRUE(good->Set("x", "1").ok());
  // An absurd field length: the server drops that client only.
  std::string junk = "\x01";
  junk += std::string(8, '\xff');
  (void)bad->Set(junk, "");
  auto v = good->Get("x", milliseconds(1000));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "1");
}

}  // namespace
}  // namespace trainrt::launcher
