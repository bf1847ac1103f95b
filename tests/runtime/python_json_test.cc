#include "runtime/python_json.h"

#include <cmath>

#include <gtest/gtest.h>

namespace trainrt::runtime {
namespace {

PyValue Parse(const std::string& text) {
  auto v = ParsePythonJson(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
  return v.ok() ? *v : PyValue();
}

bool Fails(const std::string& text) { return !ParsePythonJson(text).ok(); }

TEST(ParsePythonJson, DecodeTableOfTheToolkit) {
  EXPECT_TRUE(std::isnan(Parse("NaN").float_value()));
  EXPECT_EQ(Parse("Infinity").float_value(), INFINITY);
  EXPECT_EQ(Parse("-Infinity").float_value(), -INFINITY);
  EXPECT_EQ(Parse(" 1").int_decimal(), "1");
  EXPECT_TRUE(Fails("01"));
  EXPECT_TRUE(Fails("1_000"));
  EXPECT_EQ(Parse("1E5").float_value(), 100000.0);
  EXPECT_EQ(Parse("1.50").float_value(), 1.5);
  EXPECT_EQ(Parse("12345678901234567890123").int_decimal(), "12345678901234567890123");
  EXPECT_TRUE(Parse("true").bool_value());
  EXPECT_TRUE(Fails("True"));
  EXPECT_TRUE(Parse("null").is_none());
  EXPECT_TRUE(Parse("{}").is_dict());
  EXPECT_EQ(Parse("\"\"").string_value(), "");
  EXPECT_TRUE(Fails(""));
  EXPECT_EQ(Parse("-0").int_decimal(), "0");
  EXPECT_TRUE(std::signbit(Parse("-0.0").float_value()));
  EXPECT_EQ(Parse("1e400").float_value(), INFINITY);
  EXPECT_TRUE(Fails("1."));
  EXPECT_TRUE(Fails("[1,]"));
  EXPECT_TRUE(Fails("\"tab\tinside\""));  // strict: raw control characters are not allowed
  EXPECT_TRUE(Fails("1 2"));
  EXPECT_TRUE(Fails("\v1"));  // only space, tab, CR, LF are whitespace
}

TEST(ParsePythonJson, StringsAndEscapes) {
  EXPECT_EQ(Parse(R"("a\"b\\c\/d\b\f\n\r\t")").string_value(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(Parse(R"("caf\u00e9")").string_value(), "caf\xc3\xa9");
  EXPECT_EQ(Parse(R"("\ud83d\ude00")").string_value(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(Parse("\"raw \xe6\x97\xa5\"").string_value(), "raw \xe6\x97\xa5");
  EXPECT_TRUE(Fails(R"("\x41")"));
  EXPECT_TRUE(Fails(R"("\ud83d")"));
}

TEST(ParsePythonJson, ObjectsKeepOrderAndLastDuplicate) {
  PyValue v = Parse(R"({"b": 1, "a": [1, {"x": null}], "b": 2})");
  ASSERT_EQ(v.dict().size(), 2u);
  EXPECT_EQ(v.dict()[0].first, "b");
  EXPECT_EQ(v.dict()[0].second.int_decimal(), "2");
  EXPECT_EQ(v.dict()[1].second.list().size(), 2u);
  EXPECT_TRUE(Fails("{1: 2}"));
  EXPECT_TRUE(Fails(std::string(600, '[') + std::string(600, ']')));  // too deep: an error, not a crash
}

}  // namespace
}  // namespace trainrt::runtime
