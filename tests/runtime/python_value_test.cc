#include "runtime/python_value.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace trainrt::runtime {
namespace {

TEST(PythonFloatRepr, MatchesPythonRepr) {
  EXPECT_EQ(PythonFloatRepr(5e-05), "5e-05");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PythonFloatRepr(5.0), "5.0");
  EXPECT_EQ(PythonFloatRepr(0.0), "0.0");
  EXPECT_EQ(PythonFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(PythonFloatRepr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(PythonFloatRepr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(PythonFloatRepr(1.5e300), "1.5e+300");
  EXPECT_EQ(PythonFloatRepr(123.456), "123.456");
  EXPECT_EQ(PythonFloatRepr(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(PythonFloatRepr(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(PythonRepr, StringsUsePythonQuotingAndEscapes) {
  EXPECT_EQ(PythonRepr(PyValue::String("a b")), "'a b'");
  EXPECT_EQ(PythonRepr(PyValue::String("it's")), "\"it's\"");
  EXPECT_EQ(PythonRepr(PyValue::String("it's \"x\"")), "'it\\'s \"x\"'");
  EXPECT_EQ(PythonRepr(PyValue::String("tab\tnl\ncr\r\\")), "'tab\\tnl\\ncr\\r\\\\'");
  EXPECT_EQ(PythonRepr(PyValue::String("\x07\x7f")), "'\\x07\\x7f'");
  EXPECT_EQ(PythonRepr(PyValue::String("caf\xc3\xa9 \xf0\x9f\x98\x80")), "'caf\xc3\xa9 \xf0\x9f\x98\x80'");
  EXPECT_EQ(PythonRepr(PyValue::String("\xc2\x85\xc2\xa0\xe2\x80\x8b")), "'\\x85\\xa0\\u200b'");
}

TEST(PythonRepr, ContainersLikePython) {
  PyValue list = PyValue::MakeList({PyValue::Int(1), PyValue::String("a b"), PyValue::Float(2.5), PyValue::None(),
                                    PyValue::Bool(true)});
  EXPECT_EQ(PythonRepr(list), "[1, 'a b', 2.5, None, True]");
  PyValue dict = PyValue::MakeDict({{"z", PyValue::None()}, {"y", PyValue::MakeList({})}});
  EXPECT_EQ(PythonRepr(dict), "{'z': None, 'y': []}");  // insertion order, not sorted
  EXPECT_EQ(PythonStr(PyValue::String("raw 'text'")), "raw 'text'");
  EXPECT_EQ(PythonStr(PyValue::Bool(false)), "False");
}

TEST(PythonJsonDumps, CompactSortedAsciiOnly) {
  PyValue dict = PyValue::MakeDict({{"b", PyValue::Int(1)},
                                    {"a", PyValue::MakeDict({{"z", PyValue::None()}, {"y", PyValue::Float(5e-05)}})},
                                    {"\xc3\xa9", PyValue::String("caf\xc3\xa9 \xf0\x9f\x98\x80\n\"\x01\x7f")}});
  EXPECT_EQ(PythonJsonDumps(dict), "{\"a\":{\"y\":5e-05,\"z\":null},\"b\":1,\"\\u00e9\":\"caf\\u00e9 \\ud83d\\ude00\\n\\\"\\u0001\\u007f\"}");
  EXPECT_EQ(PythonJsonDumps(dict, /*sort_keys=*/false).substr(0, 5), "{\"b\":");
  PyValue nonfinite = PyValue::MakeList({PyValue::Float(std::numeric_limits<double>::quiet_NaN()),
                                         PyValue::Float(std::numeric_limits<double>::infinity()),
                                         PyValue::Float(-std::numeric_limits<double>::infinity())});
  EXPECT_EQ(PythonJsonDumps(nonfinite), "[NaN,Infinity,-Infinity]");
}

TEST(PyValue, TruthinessAndDictSemantics) {
  EXPECT_FALSE(PyValue::Int(0).Truthy());
  EXPECT_TRUE(PyValue::IntFromDecimal("-0").int_decimal() == "0");
  EXPECT_FALSE(PyValue::String("").Truthy());
  EXPECT_TRUE(PyValue::String("false").Truthy());  // a non-empty string is truthy in Python
  EXPECT_FALSE(PyValue::Float(0.0).Truthy());
  EXPECT_TRUE(PyValue::Float(std::numeric_limits<double>::quiet_NaN()).Truthy());
  PyValue d = PyValue::MakeDict({});
  d.Set("a", PyValue::Int(1));
  d.Set("b", PyValue::Int(2));
  d.Set("a", PyValue::Int(3));
  ASSERT_EQ(d.dict().size(), 2u);
  EXPECT_EQ(d.dict()[0].first, "a");
  EXPECT_EQ(*d.Find("a")->AsInt64(), 3);
  EXPECT_FALSE(PyValue::IntFromDecimal("123456789012345678901234567890").AsInt64().has_value());
}

}  // namespace
}  // namespace trainrt::runtime
