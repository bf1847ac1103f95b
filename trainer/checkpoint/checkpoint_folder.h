// The checkpoint folder (--output_dir): `checkpoint-<step>/` subfolders, made crash-consistent.
// A checkpoint is written into a staging folder beside them, its files fsynced, a manifest
// (trainrt_manifest.json: every file's size and XXH3-128 checksum) written and fsynced last, then
// the folder is renamed into place and the parent fsynced. A folder without a valid manifest (cut
// mid-write, or restored half-way from S3) is never resumed from and never counts for rotation.
// Plain POSIX and xxHash: no libtorch here.
#ifndef TRAINRT_TRAINER_CHECKPOINT_CHECKPOINT_FOLDER_H_
#define TRAINRT_TRAINER_CHECKPOINT_CHECKPOINT_FOLDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::trainer {

inline constexpr char kCheckpointManifest[] = "trainrt_manifest.json";

struct CheckpointEntry {
  int64_t step = 0;
  std::string path;       // <dir>/checkpoint-<step>
  bool complete = false;  // the manifest exists, parses, and names files of the sizes it says
  std::string problem;    // why not complete
  uint64_t bytes = 0;     // total size per the manifest
};

// Every `checkpoint-<digits>` folder under `dir`, by ascending step. Checks manifests and sizes,
// not checksums (see VerifyCheckpoint). A missing `dir` has no checkpoints.
std::vector<CheckpointEntry> ListCheckpoints(const std::string& dir);

// Reads every file the manifest names and compares sizes and checksums; the error names the file.
runtime::Status VerifyCheckpoint(const std::string& path);

// The newest checkpoint under `dir` that verifies; "" when none does. Each newer folder that does
// not verify is reported on stderr (once) with the reason.
std::string NewestValidCheckpoint(const std::string& dir);

// A fresh, empty staging folder in `dir` for the checkpoint of `step`.
runtime::Result<std::string> BeginCheckpoint(const std::string& dir, int64_t step);

// Makes `staging` the checkpoint `<dir>/checkpoint-<step>`: fsyncs its files, writes and fsyncs
// the manifest, renames the folder into place (replacing an incomplete folder of that name) and
// fsyncs `dir`. Returns the checkpoint's total bytes.
runtime::Result<uint64_t> CommitCheckpoint(const std::string& staging, const std::string& dir, int64_t step);

// --save_total_limit: deletes the oldest complete checkpoints until `limit` remain, never the
// newest and never `keep_step` (the best one; -1 for none). Incomplete folders older than the
// newest complete one go too. Returns the deleted paths. limit <= 0: nothing is deleted.
std::vector<std::string> RotateCheckpoints(const std::string& dir, int64_t limit, int64_t keep_step);

// Removes staging folders that a killed run left in `dir`.
void RemoveStagingFolders(const std::string& dir);

// OK when the file system of `dir` has at least `bytes` free; else an error naming both figures
// and `estimate`, what the figure is (e.g. "1.2x the last checkpoint").
runtime::Status CheckFreeSpace(const std::string& dir, uint64_t bytes, const std::string& estimate);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_CHECKPOINT_CHECKPOINT_FOLDER_H_
