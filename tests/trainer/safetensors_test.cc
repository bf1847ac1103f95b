// safetensors: the real all-MiniLM-L6-v2 weights read; what we write is byte-identical to the
// reference writer (Python safetensors re-saving our file) and loads there; broken files fail clearly.
#include "trainer/model/safetensors.h"

#include <cstdio>
#include <cstdlib>

#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <gtest/gtest.h>

#include "runtime/file_util.h"
#include "tests/runtime/test_util.h"

namespace trainrt::trainer {
namespace {

TensorMap AllDtypes() {
  TensorMap t;
  t["classifier.weight"] = at::arange(12, at::kFloat).reshape({3, 4}).div(7);
  t["classifier.bias"] = at::arange(3, at::kFloat);
  t["half"] = at::arange(5, at::kFloat).to(at::kHalf);
  t["bf16"] = at::arange(6, at::kFloat).to(at::kBFloat16);
  t["f64"] = at::arange(2, at::kDouble);
  t["ids"] = at::arange(4, at::kLong);
  t["i32"] = at::arange(3, at::kInt);
  t["bytes"] = at::arange(3, at::kByte);
  t["mask"] = at::arange(3, at::kLong).gt(0);
  t["scalar"] = at::arange(1, at::kFloat).reshape({});
  t["empty"] = at::arange(0, at::kFloat).reshape({0, 4});
  return t;
}

TEST(Safetensors, ReadsRealModelWeights) {
  auto weights = LoadModelWeights(TRAINRT_MINILM_DIR);
  ASSERT_TRUE(weights.ok()) << weights.status().ToString();
  const at::Tensor& emb = weights->at("embeddings.word_embeddings.weight");
  EXPECT_EQ(emb.sizes(), (std::vector<int64_t>{30522, 384}));
  EXPECT_EQ(emb.scalar_type(), at::kFloat);
  EXPECT_TRUE(weights->count("encoder.layer.5.output.LayerNorm.weight"));
}

TEST(Safetensors, RoundTripsEveryDtype) {
  testing::ScratchDir dir;
  const TensorMap in = AllDtypes();
  ASSERT_TRUE(WriteSafetensors(dir.path() + "/m.safetensors", in, {{"format", "pt"}}).ok());
  auto out = ReadSafetensors(dir.path() + "/m.safetensors");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->metadata.at("format"), "pt");
  ASSERT_EQ(out->tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    EXPECT_EQ(out->tensors.at(name).scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(at::equal(out->tensors.at(name), t)) << name;
  }
}

TEST(Safetensors, ByteIdenticalToTheReferenceWriter) {
  testing::ScratchDir dir;
  const std::string ours = dir.path() + "/ours.safetensors", theirs = dir.path() + "/theirs.safetensors";
  ASSERT_TRUE(WriteSafetensors(ours, AllDtypes(), {{"format", "pt"}}).ok());
  const std::string cmd = std::string(TRAINRT_PYTHON) +
                          " -c 'import sys; from safetensors.torch import load_file, save_file; "
                          "save_file(load_file(sys.argv[1]), sys.argv[2], metadata={\"format\": \"pt\"})' " + ours +
                          " " + theirs;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(*runtime::ReadFileToString(ours), *runtime::ReadFileToString(theirs));
}

TEST(Safetensors, BrokenFilesNameFileAndTensor) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/m.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, AllDtypes(), {}).ok());
  std::string good = *runtime::ReadFileToString(path);
  dir.Write("m.safetensors", good.substr(0, good.size() - 3));
  EXPECT_NE(ReadSafetensors(path).status().ToString().find("data_offsets run past the end of the file"),
            std::string::npos);
  dir.Write("m.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
  EXPECT_NE(ReadSafetensors(path).status().ToString().find(path + ": not a valid safetensors file: header of"),
            std::string::npos);
  std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  dir.Write("m.safetensors", file + header + std::string(4, '\0'));
  EXPECT_NE(ReadSafetensors(path).status().ToString().find(
                "tensor 'w': data_offsets [0, 4) hold 4 bytes, shape and dtype need 8"),
            std::string::npos);
  EXPECT_EQ(ReadSafetensors(dir.path() + "/absent").status().code(), runtime::Status::Code::kNotFound);
}

}  // namespace
}  // namespace trainrt::trainer
