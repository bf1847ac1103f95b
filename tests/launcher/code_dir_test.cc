#include "launcher/code_dir.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

namespace trainrt::launcher {
namespace {

struct Entry {
  Entry(std::string n, std::string c = "", mode_t t = AE_IFREG, std::string l = "")
      : name(std::move(n)), contents(std::move(c)), type(t), link(std::move(l)) {}
  std::string name;
  std::string contents;
  mode_t type;
  std::string link;  // for AE_IFLNK
};

// Writes a gzip-compressed tar with exactly these entries (the kind an attacker could hand us).
void WriteTarGz(const std::string& path, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_open_filename(a, path.c_str());
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
    archive_entry_set_size(entry, e.type == AE_IFREG ? static_cast<la_int64_t>(e.contents.size()) : 0);
    archive_write_header(a, entry);
    if (e.type == AE_IFREG) archive_write_data(a, e.contents.data(), e.contents.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST(CodeDir, ExtractsSourceTarball) {
  testing::ScratchDir dir;
  WriteTarGz(dir.path() + "/sourcedir.tar.gz", {{"train.py", "print('hi')\n"}, {"pkg/", "", AE_IFDIR}, {"pkg/m.py", "x=1\n"}});
  runtime::Status s = PrepareCodeDir(dir.path() + "/sourcedir.tar.gz", dir.path() + "/code");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(dir.Read("code/train.py"), "print('hi')\n");
  EXPECT_EQ(dir.Read("code/pkg/m.py"), "x=1\n");
}

TEST(CodeDir, RefusesUnsafeArchivesBeforeWritingAnything) {
  testing::ScratchDir dir;
  const std::vector<std::pair<Entry, std::string>> bad = {
      {{"/etc/evil", "x"}, "is an absolute path"},
      {{"a/../../evil", "x"}, "leaves the code dir"},
      {{"link", "", AE_IFLNK, "/etc/passwd"}, "is a symbolic link"},
      {{"fifo", "", AE_IFIFO}, "is a device, FIFO or socket"},
  };
  for (const auto& [entry, why] : bad) {
    const std::string tarball = dir.path() + "/bad.tar.gz";
    WriteTarGz(tarball, {{"ok.py", "fine"}, entry});
    std::filesystem::remove_all(dir.path() + "/code");
    runtime::Status s = PrepareCodeDir(tarball, dir.path() + "/code");
    ASSERT_FALSE(s.ok()) << entry.name;
    EXPECT_NE(s.ToString().find(why), std::string::npos) << s.ToString();
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/code/ok.py")) << "extracted before checking";
  }
}

TEST(CodeDir, CopiesFolderAndFileUris) {
  testing::ScratchDir dir;
  dir.Write("src/train.sh", "echo hi\n");
  dir.Write("src/sub/data.txt", "d");
  ASSERT_TRUE(PrepareCodeDir("file://" + dir.path() + "/src", dir.path() + "/code").ok());
  EXPECT_EQ(dir.Read("code/sub/data.txt"), "d");
  dir.Write("single/run.py", "print(1)\n");
  ASSERT_TRUE(PrepareCodeDir(dir.path() + "/single/run.py", dir.path() + "/code2").ok());
  EXPECT_EQ(dir.Read("code2/run.py"), "print(1)\n");
}

TEST(CodeDir, NonEmptyCodeDirWinsAndS3IsRefusedClearly) {
  testing::ScratchDir dir;
  dir.Write("code/baked.py", "baked");
  ASSERT_TRUE(PrepareCodeDir("s3://bucket/job/source/sourcedir.tar.gz", dir.path() + "/code").ok());
  EXPECT_EQ(dir.Read("code/baked.py"), "baked");
  runtime::Status s = PrepareCodeDir("s3://bucket/job/source/sourcedir.tar.gz", dir.path() + "/empty");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("downloading code from S3 is not supported"), std::string::npos);
  s = PrepareCodeDir(dir.path() + "/absent", dir.path() + "/empty");
  EXPECT_EQ(s.code(), runtime::Status::Code::kNotFound);
}

}  // namespace
}  // namespace trainrt::launcher
