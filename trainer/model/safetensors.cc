#include "trainer/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <ATen/ops/empty.h>
#include <nlohmann/json.hpp>

#include "runtime/file_util.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's MAX_HEADER_SIZE

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  int alignment;  // position in the reference Dtype enum: the writer orders by it, descending
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", at::kBool, 0},   {"U8", at::kByte, 4},     {"I8", at::kChar, 5},    {"I16", at::kShort, 11},
    {"F16", at::kHalf, 13},   {"BF16", at::kBFloat16, 14}, {"I32", at::kInt, 15}, {"F32", at::kFloat, 17},
    {"F64", at::kDouble, 19}, {"I64", at::kLong, 20},
};

const DtypeInfo* ByName(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* ByType(at::ScalarType t) {
  for (const auto& d : kDtypes) {
    if (d.type == t) return &d;
  }
  return nullptr;
}

// A read-only mapping of a whole file.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno(path, err);
    }
    void* data = nullptr;
    if (st.st_size > 0) {
      data = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return Status::FromErrno("mmap " + path, err);
      }
    }
    ::close(fd);
    return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const char*>(data), static_cast<size_t>(st.st_size)));
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_;
  size_t size_;
};

}  // namespace

Result<SafetensorsFile> ReadSafetensors(const std::string& path) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  const char* data = (*file)->data();
  const size_t size = (*file)->size();
  auto bad = [&](const std::string& what) { return Status::Corruption(path + ": not a valid safetensors file: " + what); };
  if (size < 8) return bad("shorter than its 8-byte header size");
  uint64_t header_size;
  std::memcpy(&header_size, data, 8);
  if (header_size > kMaxHeaderBytes) return bad("header of " + std::to_string(header_size) + " bytes");
  if (8 + header_size > size) return bad("header runs past the end of the file");
  const std::string header(data + 8, header_size);
  if (header.empty() || header[0] != '{') return bad("header does not start with '{'");
  auto json = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return bad("header is not a JSON object");
  const char* buffer = data + 8 + header_size;
  const uint64_t buffer_size = size - 8 - header_size;

  SafetensorsFile out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return bad("__metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) return bad("__metadata__['" + k + "'] is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object() || !entry["dtype"].is_string() || !entry["shape"].is_array() ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      return bad(where + ": expected dtype, shape and data_offsets");
    }
    const DtypeInfo* dtype = ByName(entry["dtype"].get<std::string>());
    if (dtype == nullptr) return bad(where + ": unsupported dtype " + entry["dtype"].get<std::string>());
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) return bad(where + ": shape must hold non-negative integers");
      shape.push_back(d.get<int64_t>());
      numel *= d.get<uint64_t>();
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) return bad(where + ": bad data_offsets");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    const uint64_t bytes = numel * c10::elementSize(dtype->type);
    if (end < begin || end - begin != bytes) {
      return bad(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + ") hold " +
                 std::to_string(end - begin) + " bytes, shape and dtype need " + std::to_string(bytes));
    }
    if (end > buffer_size) return bad(where + ": data_offsets run past the end of the file");
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype->type));
    if (bytes > 0) std::memcpy(t.data_ptr(), buffer + begin, bytes);
    out.tensors[name] = std::move(t);
    ranges.emplace_back(begin, end);
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t expected = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != expected) return bad("tensor data has a hole or an overlap at byte " + std::to_string(expected));
    expected = end;
  }
  if (expected != buffer_size) return bad("trailing bytes after the last tensor");
  return out;
}

Status WriteSafetensors(const std::string& path, const TensorMap& tensors, const StringMap& metadata) {
  struct Item {
    const std::string* name;
    at::Tensor tensor;
    const DtypeInfo* dtype;
  };
  std::vector<Item> items;
  for (const auto& [name, tensor] : tensors) {
    const DtypeInfo* dtype = ByType(tensor.scalar_type());
    if (dtype == nullptr) {
      return Status::InvalidArgument(path + ": tensor '" + name + "': dtype " +
                                     std::string(c10::toString(tensor.scalar_type())) + " has no safetensors name");
    }
    items.push_back({&name, tensor.detach().to(at::kCPU).contiguous(), dtype});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.dtype->alignment != b.dtype->alignment) return a.dtype->alignment > b.dtype->alignment;
    return *a.name < *b.name;
  });
  // The header, by hand to keep the reference's key order ("__metadata__", then offset order).
  std::string header = "{";
  if (!metadata.empty()) header += "\"__metadata__\":" + nlohmann::json(metadata).dump() + ",";
  uint64_t offset = 0;
  for (const Item& item : items) {
    const uint64_t bytes = static_cast<uint64_t>(item.tensor.numel()) * item.tensor.element_size();
    std::string shape = "[";
    for (int64_t i = 0; i < item.tensor.dim(); ++i) shape += (i ? "," : "") + std::to_string(item.tensor.size(i));
    shape += "]";
    header += nlohmann::json(*item.name).dump() + ":{\"dtype\":\"" + item.dtype->name + "\",\"shape\":" + shape +
              ",\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]},";
    offset += bytes;
  }
  if (header.back() == ',') header.pop_back();
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string contents(8, '\0');
  const uint64_t header_size = header.size();
  std::memcpy(contents.data(), &header_size, 8);
  contents += header;
  contents.reserve(contents.size() + offset);
  for (const Item& item : items) {
    contents.append(static_cast<const char*>(item.tensor.data_ptr()),
                    static_cast<size_t>(item.tensor.numel()) * item.tensor.element_size());
  }
  return runtime::WriteFileAtomically(path, contents);
}

Result<TensorMap> LoadModelWeights(const std::string& dir) {
  const std::string single = dir + "/model.safetensors";
  if (runtime::PathExists(single)) {
    auto file = ReadSafetensors(single);
    if (!file.ok()) return file.status();
    return std::move(file->tensors);
  }
  const std::string index_path = dir + "/model.safetensors.index.json";
  auto text = runtime::ReadFileToString(index_path);
  if (!text.ok()) return Status::NotFound(dir + ": no model.safetensors or model.safetensors.index.json");
  auto index = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index["weight_map"].is_object()) {
    return Status::Corruption(index_path + ": expected an object with a 'weight_map'");
  }
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string() || shard.get<std::string>().find('/') != std::string::npos) {
      return Status::Corruption(index_path + ": weight_map['" + name + "']: expected a shard file name");
    }
    shards.insert(shard.get<std::string>());
  }
  TensorMap all;
  for (const std::string& shard : shards) {
    auto file = ReadSafetensors(dir + "/" + shard);
    if (!file.ok()) return file.status();
    for (auto& [name, t] : file->tensors) all[name] = std::move(t);
  }
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!all.count(name)) return Status::Corruption(index_path + ": tensor '" + name + "' is missing from " + shard.get<std::string>());
  }
  return all;
}

}  // namespace trainrt::trainer
