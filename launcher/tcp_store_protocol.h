// The c10d::TCPStore wire protocol of torch 2.x (TCPStoreBackend.hpp), observed byte for byte
// against torch 2.11: every integer little-endian; a string or byte vector is a uint64 length then
// the bytes. A connection opens with VALIDATE (u32 magic, no reply) and PING (u32 nonce, echoed).
//   SET k v -> nothing            GET k -> v                  ADD k i64 -> i64
//   CHECK n k.. -> u8 (0 ready)   WAIT n k.. -> u8 0 when all keys exist (deferred)
//   COMPARE_SET k expected new -> v      GETNUMKEYS -> i64   DELETE_KEY k -> i64
//   APPEND k v -> nothing         MULTI_GET n k.. -> v..      MULTI_SET n (k v).. -> nothing
//   CANCEL_WAIT -> u8 1
#ifndef TRAINRT_LAUNCHER_TCP_STORE_PROTOCOL_H_
#define TRAINRT_LAUNCHER_TCP_STORE_PROTOCOL_H_

#include <cstdint>

namespace trainrt::launcher::store_protocol {

inline constexpr uint32_t kValidationMagic = 0x3C85F7CE;

enum class Query : uint8_t {
  kValidate = 0,
  kSet = 1,
  kCompareSet = 2,
  kGet = 3,
  kAdd = 4,
  kCheck = 5,
  kWait = 6,
  kGetNumKeys = 7,
  kDeleteKey = 8,
  kAppend = 9,
  kMultiGet = 10,
  kMultiSet = 11,
  kCancelWait = 12,
  kPing = 13,
};

inline constexpr uint8_t kCheckReady = 0;
inline constexpr uint8_t kCheckNotReady = 1;
inline constexpr uint8_t kStopWaiting = 0;
inline constexpr uint8_t kWaitCanceled = 1;

}  // namespace trainrt::launcher::store_protocol

#endif  // TRAINRT_LAUNCHER_TCP_STORE_PROTOCOL_H_
