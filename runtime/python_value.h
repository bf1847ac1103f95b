// PyValue: a value with the shape of what Python's json module returns (None, bool, int of any
// size, float, str, list, dict in insertion order), and the Python renderings the SageMaker toolkit
// applies to such values: repr(), str(), and json.dumps(sort_keys=True, separators=(",", ":")).
//
// The SageMaker contract is defined by Python code, so byte-for-byte parity needs Python's object
// model, not a generic JSON one: ints are unbounded, floats print with repr's shortest digits,
// NaN/Infinity are values, and str() of a list is its repr. Values are immutable once built and
// safe to share read-only between threads.
#ifndef TRAINRT_RUNTIME_PYTHON_VALUE_H_
#define TRAINRT_RUNTIME_PYTHON_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace trainrt::runtime {

class PyValue {
 public:
  enum class Type { kNone, kBool, kInt, kFloat, kString, kList, kDict };
  using List = std::vector<PyValue>;
  using Dict = std::vector<std::pair<std::string, PyValue>>;  // insertion order, unique keys

  PyValue() = default;  // None
  static PyValue None() { return PyValue(); }
  static PyValue Bool(bool b);
  static PyValue Int(int64_t i);
  // REQUIRES: `decimal` is an optional '-' and digits without leading zeros ("0" for zero).
  static PyValue IntFromDecimal(std::string decimal);
  static PyValue Float(double d);
  static PyValue String(std::string utf8);
  static PyValue MakeList(List items);
  static PyValue MakeDict(Dict items);  // REQUIRES: keys are unique

  Type type() const { return type_; }
  bool is_none() const { return type_ == Type::kNone; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_list() const { return type_ == Type::kList; }
  bool is_dict() const { return type_ == Type::kDict; }

  bool bool_value() const { return bool_; }
  const std::string& int_decimal() const { return text_; }  // kInt: canonical decimal digits
  double float_value() const { return float_; }
  const std::string& string_value() const { return text_; }
  const List& list() const { return list_; }
  const Dict& dict() const { return dict_; }

  // kInt that fits in int64_t; nullopt otherwise.
  std::optional<int64_t> AsInt64() const;
  // kDict: the value under `key`, or nullptr.
  const PyValue* Find(const std::string& key) const;
  // kDict: Python's d[key] = v (replaces in place, or appends).
  void Set(const std::string& key, PyValue value);
  // Python's bool(value).
  bool Truthy() const;

  friend bool operator==(const PyValue& a, const PyValue& b);

 private:
  Type type_ = Type::kNone;
  bool bool_ = false;
  double float_ = 0.0;
  std::string text_;  // kInt digits or kString bytes
  List list_;
  Dict dict_;
};

// Python's repr(float): shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16 with at
// least one decimal ("5.0", "0.0001"), else exponent ("5e-05", "1e+16"); "nan", "inf", "-inf".
std::string PythonFloatRepr(double d);
// Python's repr(value): 'quoted' strings with Python's escapes, True/False/None, [a, b], {'k': v}.
std::string PythonRepr(const PyValue& value);
// Python's str(value): a string as-is, anything else as repr().
std::string PythonStr(const PyValue& value);
// json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=True): non-ASCII as
// lower-case \uXXXX (surrogate pairs above U+FFFF), NaN/Infinity/-Infinity for non-finite floats.
std::string PythonJsonDumps(const PyValue& value, bool sort_keys = true);
// json.dumps(value) with the default separators (", ", ": "), insertion order, ensure_ascii: how
// the SageMaker SDK writes the config files and encodes hyperparameter values.
std::string PythonJsonDump(const PyValue& value);

}  // namespace trainrt::runtime

#endif  // TRAINRT_RUNTIME_PYTHON_VALUE_H_
