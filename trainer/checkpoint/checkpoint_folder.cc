#include "trainer/checkpoint/checkpoint_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/file_util.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

constexpr char kPrefix[] = "checkpoint-";
constexpr char kStagingPrefix[] = ".staging-checkpoint-";

// The step of a `checkpoint-<digits>` name (Trainer's ^checkpoint\-(\d+)$), or -1.
int64_t StepOf(const std::string& name) {
  const size_t n = std::strlen(kPrefix);
  if (name.size() <= n || name.compare(0, n, kPrefix) != 0 || name.size() - n > 18) return -1;
  int64_t step = 0;
  for (size_t i = n; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::vector<std::string> ListNames(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status Fsync(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path, errno);
  Status s = ::fsync(fd) == 0 ? Status::Ok() : Status::FromErrno("fsync " + path, errno);
  ::close(fd);
  return s;
}

struct FileDigest {
  uint64_t bytes = 0;
  std::string xxh3_128;  // 32 hex digits
};

Result<FileDigest> Digest(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path, errno);
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  std::vector<char> buf(1 << 20);
  FileDigest d;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      XXH3_freeState(state);
      ::close(fd);
      return Status::FromErrno(path, err);
    }
    if (n == 0) break;
    XXH3_128bits_update(state, buf.data(), static_cast<size_t>(n));
    d.bytes += static_cast<uint64_t>(n);
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  ::close(fd);
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  d.xxh3_128 = hex;
  return d;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : UINT64_MAX;
}

// The manifest's files (name -> expected digest), or why it is not usable.
Result<std::vector<std::pair<std::string, FileDigest>>> ReadManifest(const std::string& checkpoint) {
  const std::string file = checkpoint + "/" + kCheckpointManifest;
  auto text = runtime::ReadFileToString(file);
  if (!text.ok()) return Status::NotFound(file + ": missing (the checkpoint was not completed)");
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_object()) {
    return Status::InvalidArgument(file + ": not a trainrt checkpoint manifest");
  }
  std::vector<std::pair<std::string, FileDigest>> files;
  for (const auto& [name, entry] : j["files"].items()) {
    if (!entry.is_object() || !entry.contains("bytes") || !entry["bytes"].is_number_unsigned() ||
        !entry.contains("xxh3_128") || !entry["xxh3_128"].is_string() || name.find('/') != std::string::npos) {
      return Status::InvalidArgument(file + ": entry '" + name + "' malformed");
    }
    files.emplace_back(name, FileDigest{entry["bytes"].get<uint64_t>(), entry["xxh3_128"].get<std::string>()});
  }
  return files;
}

}  // namespace

std::vector<CheckpointEntry> ListCheckpoints(const std::string& dir) {
  std::vector<CheckpointEntry> out;
  for (const std::string& name : ListNames(dir)) {
    const int64_t step = StepOf(name);
    if (step < 0 || !IsDir(dir + "/" + name)) continue;
    CheckpointEntry e;
    e.step = step;
    e.path = dir + "/" + name;
    auto files = ReadManifest(e.path);
    if (!files.ok()) {
      e.problem = files.status().message();
    } else {
      e.complete = true;
      for (const auto& [file, digest] : *files) {
        const uint64_t size = FileSize(e.path + "/" + file);
        if (size != digest.bytes) {
          e.complete = false;
          e.problem = e.path + "/" + file + (size == UINT64_MAX ? ": missing" : ": " + std::to_string(size) +
                                                                                   " bytes, the manifest says " +
                                                                                   std::to_string(digest.bytes));
          break;
        }
        e.bytes += size;
      }
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

Status VerifyCheckpoint(const std::string& path) {
  auto files = ReadManifest(path);
  if (!files.ok()) return files.status();
  for (const auto& [file, expected] : *files) {
    auto actual = Digest(path + "/" + file);
    if (!actual.ok()) return actual.status();
    if (actual->bytes != expected.bytes || actual->xxh3_128 != expected.xxh3_128) {
      return Status::Corruption(path + "/" + file + ": contents differ from the manifest (" +
                                     std::to_string(actual->bytes) + " bytes, xxh3 " + actual->xxh3_128 + "; expected " +
                                     std::to_string(expected.bytes) + " bytes, xxh3 " + expected.xxh3_128 + ")");
    }
  }
  return Status::Ok();
}

std::string NewestValidCheckpoint(const std::string& dir) {
  std::vector<CheckpointEntry> entries = ListCheckpoints(dir);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    Status s = it->complete ? VerifyCheckpoint(it->path) : Status::InvalidArgument(it->problem);
    if (s.ok()) return it->path;
    std::fprintf(stderr, "trainrt-finetune: warning: ignoring checkpoint %s: %s\n", it->path.c_str(), s.message().c_str());
  }
  return "";
}

Result<std::string> BeginCheckpoint(const std::string& dir, int64_t step) {
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(dir));
  const std::string staging = dir + "/" + kStagingPrefix + std::to_string(step);
  TRAINRT_RETURN_IF_ERROR(runtime::RemoveTree(staging));
  if (::mkdir(staging.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + staging, errno);
  return staging;
}

Result<uint64_t> CommitCheckpoint(const std::string& staging, const std::string& dir, int64_t step) {
  nlohmann::json files = nlohmann::json::object();
  uint64_t total = 0;
  for (const std::string& name : ListNames(staging)) {
    if (name == kCheckpointManifest) continue;
    const std::string path = staging + "/" + name;
    if (IsDir(path)) return Status::InvalidArgument(path + ": checkpoints hold files only");
    TRAINRT_RETURN_IF_ERROR(Fsync(path, false));
    auto d = Digest(path);
    if (!d.ok()) return d.status();
    files[name] = {{"bytes", d->bytes}, {"xxh3_128", d->xxh3_128}};
    total += d->bytes;
  }
  nlohmann::json manifest = {{"format", "trainrt checkpoint manifest 1"}, {"step", step}, {"files", files}};
  TRAINRT_RETURN_IF_ERROR(runtime::WriteFileAtomically(staging + "/" + kCheckpointManifest, manifest.dump(2) + "\n"));
  TRAINRT_RETURN_IF_ERROR(Fsync(staging, true));
  const std::string final_path = dir + "/" + kPrefix + std::to_string(step);
  if (runtime::PathExists(final_path)) {  // an incomplete leftover of that name (or a re-save): replace it
    const std::string old = staging + ".replaced";
    if (::rename(final_path.c_str(), old.c_str()) != 0) return Status::FromErrno("rename " + final_path, errno);
    TRAINRT_RETURN_IF_ERROR(runtime::RemoveTree(old));
  }
  if (::rename(staging.c_str(), final_path.c_str()) != 0) {
    return Status::FromErrno("rename " + staging + " to " + final_path, errno);
  }
  TRAINRT_RETURN_IF_ERROR(Fsync(dir, true));
  return total;
}

std::vector<std::string> RotateCheckpoints(const std::string& dir, int64_t limit, int64_t keep_step) {
  std::vector<std::string> deleted;
  if (limit <= 0) return deleted;
  std::vector<CheckpointEntry> entries = ListCheckpoints(dir);
  int64_t newest = -1;
  for (const auto& e : entries) {
    if (e.complete) newest = e.step;
  }
  if (newest < 0) return deleted;
  std::vector<const CheckpointEntry*> candidates;  // complete, oldest first
  int64_t complete = 0;
  for (const auto& e : entries) {
    if (!e.complete && e.step < newest) {
      if (runtime::RemoveTree(e.path).ok()) deleted.push_back(e.path);
      continue;
    }
    if (!e.complete) continue;
    ++complete;
    if (e.step != newest && e.step != keep_step) candidates.push_back(&e);
  }
  for (const CheckpointEntry* e : candidates) {
    if (complete <= limit) break;
    if (runtime::RemoveTree(e->path).ok()) {
      deleted.push_back(e->path);
      --complete;
    }
  }
  return deleted;
}

void RemoveStagingFolders(const std::string& dir) {
  for (const std::string& name : ListNames(dir)) {
    if (name.rfind(kStagingPrefix, 0) == 0) (void)runtime::RemoveTree(dir + "/" + name);
  }
}

Status CheckFreeSpace(const std::string& dir, uint64_t bytes, const std::string& estimate) {
  // A folder not made yet will be made on the file system of its nearest existing ancestor.
  std::string existing = dir.empty() ? "." : dir;
  struct statvfs st;
  while (::statvfs(existing.c_str(), &st) != 0) {
    if (errno != ENOENT || existing == "/" || existing == ".") return Status::FromErrno("statvfs " + existing, errno);
    const size_t slash = existing.find_last_of('/');
    existing = slash == std::string::npos ? "." : slash == 0 ? "/" : existing.substr(0, slash);
  }
  const uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= bytes) return Status::Ok();
  return Status::IOError("not enough free space in " + dir + " for the next checkpoint: " +
                                   std::to_string(free_bytes) + " bytes free, about " + std::to_string(bytes) +
                                   " needed (" + estimate + "); free space or lower --save_total_limit");
}

}  // namespace trainrt::trainer
