#include "runtime/cmd_args.h"

#include <gtest/gtest.h>

#include "runtime/python_json.h"

namespace trainrt::runtime {
namespace {

std::vector<std::string> ArgsOf(const std::string& json) {
  auto v = ParsePythonJson(json);
  EXPECT_TRUE(v.ok());
  return ToCmdArgs(v->dict());
}

using Args = std::vector<std::string>;

TEST(ToCmdArgs, ToolkitMappingTable) {
  // test_mapping.py: {"U":"1","b":"2","T":"","":"42"} (bytes value shown here as a string).
  EXPECT_EQ(ArgsOf(R"({"U":"1","b":"2","T":"","":"42"})"), (Args{"", "42", "-T", "", "-U", "1", "-b", "2"}));
  EXPECT_EQ(ArgsOf(R"({"da-sh":1,"da_der":2,"un-sh":3,"un_der":4})"),
            (Args{"--da-sh", "1", "--da_der", "2", "--un-sh", "3", "--un_der", "4"}));
  EXPECT_EQ(ArgsOf(R"({"fp16":true,"lr":5e-05,"f":4.0,"n":null})"),
            (Args{"-f", "4.0", "--fp16", "True", "--lr", "5e-05", "-n", ""}));
  EXPECT_EQ(ArgsOf(R"({"channel_dirs":{"train":"foo","eval":"bar"}})"), (Args{"--channel_dirs", "eval=bar,train=foo"}));
  EXPECT_EQ(ArgsOf(R"({"x":{"b":{"c":true},"a":[1,3,4],"n":null}})"), (Args{"-x", "a=[1, 3, 4],b={'c': True},n=None"}));
  EXPECT_EQ(ArgsOf(R"({"l":["1",["2","3",[["6"]]]]})"), (Args{"-l", "['1', ['2', '3', [['6']]]]"}));
  EXPECT_EQ(ArgsOf(R"({"\u00e9":"one code point"})"), (Args{"-\xc3\xa9", "one code point"}));
}

TEST(ToCmdArgs, ValuesArriveByteForByteWithoutAShell) {
  EXPECT_EQ(ArgsOf(R"({"plain":"hello world","dollar":"$HOME","e":""})"),
            (Args{"--dollar", "$HOME", "-e", "", "--plain", "hello world"}));
}

}  // namespace
}  // namespace trainrt::runtime
