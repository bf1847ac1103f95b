#include "trainer/data/channel_files.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "runtime/file_util.h"

namespace trainrt::trainer {

runtime::Result<std::vector<std::string>> ChannelFiles(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return runtime::Status::FromErrno("channel " + dir, errno);
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(name);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

runtime::Status ForEachJsonLine(const std::string& path,
                                const std::function<runtime::Status(const nlohmann::json&, const std::string&)>& row) {
  auto text = runtime::ReadFileToString(path);
  if (!text.ok()) return text.status();
  size_t start = 0, line_no = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string line = text->substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ": row " + std::to_string(line_no);
    const auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) return runtime::Status::InvalidArgument(where + ": not a JSON object");
    TRAINRT_RETURN_IF_ERROR(row(parsed, where));
  }
  return runtime::Status::Ok();
}

}  // namespace trainrt::trainer
