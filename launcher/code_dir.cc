#include "launcher/code_dir.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "runtime/container_paths.h"
#include "runtime/file_util.h"

namespace trainrt::launcher {
namespace {

namespace fs = std::filesystem;

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

runtime::Result<ArchivePtr> OpenArchive(const std::string& path) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return runtime::Status::InvalidArgument(path + ": not a readable tar archive: " + archive_error_string(a.get()));
  }
  return a;
}

// Why `entry` may not be extracted, or "" when it may.
std::string UnsafeReason(archive_entry* entry) {
  const char* name_c = archive_entry_pathname(entry);
  const std::string name = name_c ? name_c : "";
  if (name.empty()) return "an entry without a name";
  if (name[0] == '/') return "'" + name + "' is an absolute path";
  for (size_t start = 0; start <= name.size();) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0) return "'" + name + "' leaves the code dir";
    start = end + 1;
  }
  if (archive_entry_hardlink(entry) != nullptr) return "'" + name + "' is a hard link";
  const mode_t type = archive_entry_filetype(entry);
  if (type == AE_IFLNK) return "'" + name + "' is a symbolic link";
  if (type != AE_IFREG && type != AE_IFDIR) return "'" + name + "' is a device, FIFO or socket";
  return "";
}

bool IsArchive(const std::string& path) {
  auto a = OpenArchive(path);
  if (!a.ok()) return false;
  archive_entry* entry;
  return archive_read_next_header(a->get(), &entry) == ARCHIVE_OK;
}

}  // namespace

runtime::Status ExtractArchiveSafely(const std::string& path, const std::string& dest) {
  {  // First pass: check every entry before writing anything.
    auto a = OpenArchive(path);
    if (!a.ok()) return a.status();
    archive_entry* entry;
    int rc;
    while ((rc = archive_read_next_header(a->get(), &entry)) == ARCHIVE_OK) {
      const std::string why = UnsafeReason(entry);
      if (!why.empty()) return runtime::Status::InvalidArgument(path + ": refusing to extract: " + why);
    }
    if (rc != ARCHIVE_EOF) {
      return runtime::Status::Corruption(path + ": damaged archive: " + archive_error_string(a->get()));
    }
  }
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(dest));
  auto a = OpenArchive(path);
  if (!a.ok()) return a.status();
  std::unique_ptr<archive, int (*)(archive*)> disk(archive_write_disk_new(), archive_write_free);
  // Entries were checked above and are re-rooted under `dest` (an absolute path) below, so only
  // the checks that still apply to the rewritten paths are asked of libarchive.
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_entry* entry;
  while (archive_read_next_header(a->get(), &entry) == ARCHIVE_OK) {
    const std::string target = runtime::JoinPath(dest, archive_entry_pathname(entry));
    archive_entry_set_pathname(entry, target.c_str());
    if (archive_write_header(disk.get(), entry) != ARCHIVE_OK) {
      return runtime::Status::IOError(target + ": " + archive_error_string(disk.get()));
    }
    const void* block;
    size_t size;
    la_int64_t offset;
    int rc;
    while ((rc = archive_read_data_block(a->get(), &block, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(disk.get(), block, size, offset) != ARCHIVE_OK) {
        return runtime::Status::IOError(target + ": " + archive_error_string(disk.get()));
      }
    }
    if (rc != ARCHIVE_EOF) return runtime::Status::Corruption(path + ": " + archive_error_string(a->get()));
    archive_write_finish_entry(disk.get());
  }
  return runtime::Status::Ok();
}

runtime::Status PrepareCodeDir(const std::string& source_uri, const std::string& code_dir) {
  std::error_code ec;
  if (fs::is_directory(code_dir, ec) && !fs::is_empty(code_dir, ec)) {
    std::fprintf(stderr, "train: code dir %s is not empty; using it as it is\n", code_dir.c_str());
    return runtime::Status::Ok();
  }
  std::string source = source_uri;
  if (source.rfind("s3://", 0) == 0) {
    return runtime::Status::InvalidArgument(
        "sagemaker_submit_directory=" + source +
        ": downloading code from S3 is not supported by trainrt; bake the code into the image's code dir (" +
        code_dir + ") or point sagemaker_submit_directory at a local folder or .tar.gz");
  }
  if (source.rfind("file://", 0) == 0) source = source.substr(7);
  if (fs::equivalent(source, code_dir, ec)) return runtime::Status::Ok();
  if (!fs::exists(source, ec)) {
    return runtime::Status::NotFound("sagemaker_submit_directory=" + source_uri + ": no such file or directory");
  }
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(code_dir));
  if (fs::is_directory(source, ec)) {
    fs::copy(source, code_dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return runtime::Status::IOError("copying " + source + " to " + code_dir + ": " + ec.message());
    return runtime::Status::Ok();
  }
  if (IsArchive(source)) return ExtractArchiveSafely(source, code_dir);
  fs::copy_file(source, fs::path(code_dir) / fs::path(source).filename(), fs::copy_options::overwrite_existing, ec);
  if (ec) return runtime::Status::IOError("copying " + source + " to " + code_dir + ": " + ec.message());
  return runtime::Status::Ok();
}

}  // namespace trainrt::launcher
