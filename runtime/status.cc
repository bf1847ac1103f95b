#include "runtime/status.h"

#include <cerrno>
#include <cstring>

namespace trainrt::runtime {

Status Status::FromErrno(const std::string& context, int errnum) {
  std::string msg = context + ": " + std::strerror(errnum);
  return errnum == ENOENT ? NotFound(std::move(msg)) : IOError(std::move(msg));
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace trainrt::runtime
