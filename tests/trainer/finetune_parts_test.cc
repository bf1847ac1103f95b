// The fine-tuner's small parts: arguments, labels and data errors, metrics, log lines.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_util.h"
#include "trainer/data/text_classification_data.h"
#include "trainer/data/text_rows.h"
#include "trainer/distributed/distributed_env.h"
#include "trainer/finetune_args.h"
#include "trainer/metrics/classification_metrics.h"
#include "trainer/trainer_log.h"
#include "trainer/model/model_path.h"

namespace trainrt::trainer {
namespace {

TEST(FinetuneArgs, SeedSpellingsHfNamesDefaultsAndUnknowns) {
  runtime::EnvMap env{{"SM_MODEL_DIR", "/opt/ml/model"}, {"SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"}};
  auto a = FinetuneArgs::Parse({"--epochs", "1", "--train_batch_size", "32", "--model_name", "distilbert-base-uncased",
                                "--learning_rate", "5e-05", "--fp16", "False", "--evaluation_strategy", "epoch",
                                "--sagemaker_whatever", "x", "--warmup_steps", "500"},
                               env);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->num_train_epochs, 1.0);
  EXPECT_EQ(a->per_device_train_batch_size, 32);
  EXPECT_EQ(a->per_device_eval_batch_size, 8);  // TrainingArguments' default
  EXPECT_EQ(a->model_name_or_path, "distilbert-base-uncased");
  EXPECT_EQ(a->eval_strategy, "epoch");
  EXPECT_EQ(a->model_dir, "/opt/ml/model");
  EXPECT_EQ(a->training_dir, "/opt/ml/input/data/train");
  EXPECT_EQ(a->warmup_steps, 500);
  EXPECT_EQ(a->ignored, (std::vector<std::string>{"--sagemaker_whatever"}));
}

TEST(FinetuneArgs, CheckpointsDefaultToTheSyncedFolderAndNeverGoIntoTheModelDir) {
  testing::ScratchDir dir;
  runtime::EnvMap env{{"SAGEMAKER_BASE_DIR", dir.path()}, {"SM_MODEL_DIR", dir.path() + "/model"},
                      {"SM_CHANNEL_TRAIN", dir.path() + "/input/data/train"}};
  auto a = FinetuneArgs::Parse({"--model_name", "m"}, env);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->output_dir, dir.path() + "/checkpoints");
  // The seed notebook's output_dir inside the model dir is moved out, with a warning.
  a = FinetuneArgs::Parse({"--model_name", "m", "--output_dir", dir.path() + "/model/ckpt"}, env);
  EXPECT_EQ(a->output_dir, dir.path() + "/checkpoints");
  ASSERT_EQ(a->warnings.size(), 1u);
  EXPECT_NE(a->warnings[0].find("inside the model dir"), std::string::npos);
  // The checkpoint config's LocalPath wins, and container paths follow SAGEMAKER_BASE_DIR.
  dir.Write("input/config/checkpointconfig.json", "{\"LocalPath\": \"" + dir.path() + "/spot\"}");
  a = FinetuneArgs::Parse({"--model_name", "/opt/ml/input/data/model", "--output_dir", "/opt/ml/checkpoints",
                           "--output_data_dir", "/opt/ml/output/data"}, env);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->output_dir, dir.path() + "/spot");
  EXPECT_EQ(a->model_name_or_path, dir.path() + "/input/data/model");
  EXPECT_EQ(a->output_data_dir, dir.path() + "/output/data");
}

TEST(FinetuneArgs, MpParametersAsSageMakerDeliversThemAndPlainArgumentsWin) {
  runtime::EnvMap env{{"SM_CHANNEL_TRAIN", "/d"},
                      {"SM_HP_MP_PARAMETERS", "{\"partitions\":2,\"microbatches\":4,\"pipeline\":\"simple\","
                                              "\"placement_strategy\":\"spread\",\"optimize\":\"speed\",\"ddp\":true}"}};
  auto a = FinetuneArgs::Parse({"--model_name", "m"}, env);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->pipeline.partitions, 2);
  EXPECT_EQ(a->pipeline.microbatches, 4);
  EXPECT_EQ(a->pipeline.pipeline, "simple");
  EXPECT_EQ(a->pipeline.placement_strategy, "spread");
  EXPECT_TRUE(a->pipeline.ddp);
  EXPECT_EQ(a->ignored, (std::vector<std::string>{"SM_HP_MP_PARAMETERS optimize=speed"}));
  a = FinetuneArgs::Parse({"--model_name", "m", "--mp_parameters", "partitions=4,microbatches=8,ddp=False",
                           "--microbatches", "2"}, env);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->pipeline.partitions, 4);
  EXPECT_EQ(a->pipeline.microbatches, 2);
  EXPECT_FALSE(a->pipeline.ddp);
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--mp_parameters", "pipeline=fast"}, env).status().ToString(),
            "--mp_parameters pipeline='fast': expected interleaved or simple");
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--mp_parameters", "partitions"}, env).status().ToString(),
            "--mp_parameters: 'partitions' is not key=value");
}

TEST(DistributedEnv, TorchrunVariablesThenOpenMpisThenOneProcess) {
  auto one = ReadDistributedEnv({});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->world_size, 1);
  EXPECT_EQ(one->source, "single process");
  auto torchrun = ReadDistributedEnv({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                      {"MASTER_ADDR", "algo-1"}, {"MASTER_PORT", "7777"},
                                      {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"OMPI_COMM_WORLD_SIZE", "9"}});
  ASSERT_TRUE(torchrun.ok()) << torchrun.status().ToString();
  EXPECT_EQ(torchrun->rank, 3);
  EXPECT_EQ(torchrun->local_rank, 1);
  EXPECT_EQ(torchrun->master_addr, "algo-1");
  EXPECT_EQ(torchrun->master_port, 7777);
  EXPECT_TRUE(torchrun->agent_store);
  auto mpi = ReadDistributedEnv({{"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "1"},
                                 {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  ASSERT_TRUE(mpi.ok()) << mpi.status().ToString();
  EXPECT_EQ(mpi->rank, 1);
  EXPECT_EQ(mpi->world_size, 2);
  EXPECT_EQ(mpi->master_addr, "127.0.0.1");  // one host: loopback
  EXPECT_FALSE(mpi->agent_store);
  EXPECT_EQ(mpi->source, "OpenMPI variables");
  EXPECT_NE(ReadDistributedEnv({{"WORLD_SIZE", "2"}, {"RANK", "2"}}).status().ToString().find("RANK"), std::string::npos);
  EXPECT_NE(ReadDistributedEnv({{"WORLD_SIZE", "4"}, {"RANK", "0"}, {"LOCAL_WORLD_SIZE", "2"}}).status().ToString()
                .find("MASTER_ADDR: required"),
            std::string::npos);
}

TEST(FinetuneArgs, BadValuesNameTheArgument) {
  runtime::EnvMap env{{"SM_CHANNEL_TRAIN", "/d"}};
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--epochs", "three"}, env).status().ToString(),
            "argument --epochs='three': expected a number");
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--bf16", "yes"}, env).status().ToString(),
            "argument --bf16='yes': expected True or False");
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--eval_strategy", "sometimes"}, env).status().ToString(),
            "argument --eval_strategy='sometimes': expected no, steps or epoch");
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--stall_timeout", "-5"}, env).status().ToString(),
            "argument --stall_timeout: expected seconds from 0 (never) to 2592000 (30 days)");
  EXPECT_FALSE(FinetuneArgs::Parse({"--model_name", "m", "--stall_timeout", "99999999999"}, env).ok());
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--stall_timeout", "0"}, env)->stall_timeout, 0);
  EXPECT_NE(FinetuneArgs::Parse({}, env).status().ToString().find("argument --model_name_or_path: required"),
            std::string::npos);
}

// The SFT settings, with TRL's and TrainingArguments' names; the max length remembers whether it
// was given (the causal-LM task's default is SFTConfig's 1024).
TEST(FinetuneArgs, SftSettingsAndSchedules) {
  runtime::EnvMap env{{"SM_CHANNEL_TRAIN", "/d"}};
  auto a = FinetuneArgs::Parse({"--model_name", "m", "--lr_scheduler_type", "cosine", "--dataset_text_field", "body",
                                "--completion_only_loss", "False", "--task", "causal-lm"}, env);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->lr_scheduler_type, "cosine");
  EXPECT_EQ(a->dataset_text_field, "body");
  EXPECT_EQ(a->completion_only_loss, std::optional<bool>(false));
  EXPECT_EQ(a->task, "causal-lm");
  EXPECT_FALSE(a->max_seq_length_given);
  auto b = FinetuneArgs::Parse({"--model_name", "m", "--max_length", "2048", "--completion_only_loss", "None"}, env);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->max_seq_length_given);
  EXPECT_EQ(b->max_seq_length, 2048);
  EXPECT_FALSE(b->completion_only_loss.has_value());
  auto packed = FinetuneArgs::Parse({"--model_name", "m", "--packing", "True", "--packing_strategy", "bfd_split"}, env);
  ASSERT_TRUE(packed.ok());
  EXPECT_TRUE(packed->packing);
  EXPECT_EQ(packed->packing_strategy_parsed, PackingStrategy::kBfdSplit);
  EXPECT_FALSE(packed->eval_packing.has_value());  // as packing, TRL's None
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--eval_packing", "False"}, env)->eval_packing, std::optional<bool>(false));
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--packing_strategy", "ffd"}, env).status().ToString(),
            "argument --packing_strategy='ffd': expected bfd, bfd_split or wrapped");
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--eval_packing", "maybe"}, env).status().ToString(),
            "argument --eval_packing='maybe': expected True, False or None");
  EXPECT_EQ(FinetuneArgs::Parse({"--model_name", "m", "--lr_scheduler_type", "warmup_stable_decay"}, env).status().ToString(),
            "argument --lr_scheduler_type='warmup_stable_decay': expected linear, cosine, constant or constant_with_warmup");
}

// SFT rows: text, or conversations (kept as their JSON), as the first row is; a row that breaks
// from it is named.
TEST(TextRows, ConversationsAreKeptAsJsonAndAMixedRowIsNamed) {
  testing::ScratchDir dir;
  dir.Write("train/a.jsonl", R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
{"messages": [{"role": "user", "content": "x"}]}
)");
  auto rows = ReadTextRows(dir.path() + "/train", {{"text"}, {"prompt", "completion"}, {"messages"}});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->conversational);
  EXPECT_EQ(rows->columns, std::vector<std::string>{"messages"});
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(rows->rows[1][0])[0]["content"], "x");
  dir.Write("bad/a.jsonl", R"({"messages": [{"role": "user", "content": "hi"}]}
{"messages": "just text"}
)");
  EXPECT_EQ(ReadTextRows(dir.path() + "/bad", {{"messages"}}).status().ToString(),
            dir.path() + "/bad/a.jsonl: row 2: column 'messages': expected a conversation (a list of {\"role\", "
            "\"content\"} messages, as the first row has), got \"just text\"");
  dir.Write("text/a.jsonl", "{\"text\": \"plain\"}\n");
  auto text = ReadTextRows(dir.path() + "/text", {{"text"}, {"messages"}});
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->conversational);
  EXPECT_EQ(text->rows[0][0], "plain");
}

TEST(TextClassificationData, ErrorsNameFileRowAndColumn) {
  testing::ScratchDir dir;
  dir.Write("train/a.jsonl", "{\"text\": \"good\", \"label\": 1}\n\n{\"txt\": \"bad\", \"label\": 0}\n");
  auto r = ReadTextClassificationChannel(dir.path() + "/train", Columns{});
  EXPECT_EQ(r.status().ToString(), dir.path() + "/train/a.jsonl: row 3: missing column 'text'");
  dir.Write("empty/none.jsonl", "\n");
  EXPECT_EQ(ReadTextClassificationChannel(dir.path() + "/empty", Columns{}).status().ToString(),
            "channel " + dir.path() + "/empty: no examples");
  dir.Write("xlsx/a.xlsx", "not a table");
  EXPECT_NE(ReadTextClassificationChannel(dir.path() + "/xlsx", Columns{}).status().ToString().find(
                "a.xlsx: unsupported data file"),
            std::string::npos);
  dir.Write("csv/a.csv", "text,label\ngood,1\nbad,\n");
  EXPECT_EQ(ReadTextClassificationChannel(dir.path() + "/csv", Columns{}).status().ToString(),
            dir.path() + "/csv/a.csv: row 2: column 'label' is empty");
}

TextExample Ex(std::string text, std::string label, bool is_int) {
  TextExample e;
  e.text = std::move(text);
  e.label = std::move(label);
  e.label_is_int = is_int;
  return e;
}

TEST(TextClassificationData, LabelsIntsOrNames) {
  std::vector<TextExample> named = {Ex("a", "pos", false), Ex("b", "neg", false), Ex("c", "neutral", false)};
  auto m = BuildLabelMap(named, {}, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->names, (std::vector<std::string>{"neg", "neutral", "pos"}));
  EXPECT_EQ(m->ids.at("pos"), 2);
  std::vector<TextExample> ints = {Ex("a", "0", true), Ex("b", "3", true)};
  EXPECT_EQ(BuildLabelMap(ints, {}, 2).status().ToString(), "label 3 is outside num_labels=2");
  EXPECT_EQ(BuildLabelMap(ints, {}, 0)->names.size(), 4u);
  std::vector<TextExample> mixed = {Ex("a", "0", true), Ex("b", "pos", false)};
  EXPECT_FALSE(BuildLabelMap(mixed, {}, 0).ok());
}

TEST(ClassificationMetrics, MatchScikitLearn) {
  // sklearn: accuracy 0.6; binary precision 2/3, recall 2/3, f1 2/3.
  auto b = ComputeClassificationMetrics({1, 0, 1, 1, 0}, {1, 0, 0, 1, 1}, 2);
  EXPECT_DOUBLE_EQ(b.accuracy, 0.6);
  EXPECT_DOUBLE_EQ(b.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(b.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(b.f1, 2.0 / 3);
  // Macro over 3 labels: per label (p, r, f1) = (1, 1/2, 2/3), (1/3, 1, 1/2), (0, 0, 0).
  auto m = ComputeClassificationMetrics({0, 1, 1, 1}, {0, 0, 1, 2}, 3);
  EXPECT_NEAR(m.precision, (1 + 1.0 / 3) / 3, 1e-12);
  EXPECT_NEAR(m.recall, 0.5, 1e-12);
  EXPECT_NEAR(m.f1, (2.0 / 3 + 0.5) / 3, 1e-12);
}

TEST(TrainerLog, PythonDictLinesAndResultBlocks) {
  EXPECT_EQ(PyRound(0.69314718, 4), 0.6931);
  EXPECT_EQ(PyRound(2.675, 2), 2.67);  // the binary value of 2.675 is below the tie, as in Python
  EXPECT_EQ(PythonDictLine({{"loss", 0.6931}, {"grad_norm", 1.23}, {"learning_rate", 5e-05}, {"epoch", 0.5}}),
            "{'loss': 0.6931, 'grad_norm': 1.23, 'learning_rate': 5e-05, 'epoch': 0.5}");
  EXPECT_EQ(PythonDictLine({{"total_flos", 1e15}, {"step", int64_t{3}}}), "{'total_flos': 1000000000000000.0, 'step': 3}");
  EXPECT_EQ(ResultsBlock("eval results", {{"eval_loss", 0.25}, {"eval_accuracy", 0.5}, {"epoch", 1.0}}),
            "***** eval results *****\nepoch = 1.0\neval_accuracy = 0.5\neval_loss = 0.25\n");
}

}  // namespace
}  // namespace trainrt::trainer

namespace trainrt::trainer {
namespace {

TEST(ResolveModelPath, FolderChannelAndHubCache) {
  testing::ScratchDir dir;
  dir.Write("local/config.json", "{}");
  runtime::EnvMap env{{"HF_HOME", dir.path() + "/hf"}};
  EXPECT_EQ(*ResolveModelPath(dir.path() + "/local", env), dir.path() + "/local");
  // The hub cache layout: models--org--name/refs/main names the snapshot.
  dir.Write("hf/hub/models--distilbert--distilbert-base-uncased/refs/main", "abc123\n");
  dir.Write("hf/hub/models--distilbert--distilbert-base-uncased/snapshots/abc123/config.json", "{}");
  dir.Write("hf/hub/models--distilbert--distilbert-base-uncased/snapshots/old999/config.json", "{}");
  EXPECT_EQ(*ResolveModelPath("distilbert/distilbert-base-uncased", env),
            dir.path() + "/hf/hub/models--distilbert--distilbert-base-uncased/snapshots/abc123");
  // The model channel wins over the hub cache for a name that is not a folder.
  dir.Write("channel/config.json", "{}");
  env["SM_CHANNEL_MODEL"] = dir.path() + "/channel";
  EXPECT_EQ(*ResolveModelPath("distilbert-base-uncased", env), dir.path() + "/channel");
  env.erase("SM_CHANNEL_MODEL");
  // Offline, a name found nowhere is an error naming the places looked at (no download is tried;
  // downloads are tested against a local stand-in for the Hub in hub_download_test.py).
  env["HF_HUB_OFFLINE"] = "1";
  auto missing = ResolveModelPath("bert-base-uncased", env);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("model 'bert-base-uncased': not a folder with config.json"),
            std::string::npos);
  EXPECT_NE(missing.status().ToString().find("offline: HF_HUB_OFFLINE is set"), std::string::npos);
  // A path that does not exist is never taken for a Hub name.
  env.erase("HF_HUB_OFFLINE");
  EXPECT_NE(ResolveModelPath(dir.path() + "/nowhere", env).status().ToString().find("not a folder with config.json"),
            std::string::npos);
}

}  // namespace
}  // namespace trainrt::trainer
