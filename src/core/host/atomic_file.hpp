// A reader never sees half a record: write a temp file in the same directory, fsync it, rename it
// over the target, fsync the directory.
#pragma once
#include <string>

namespace c1m {
// synced: survives a crash of the host (records). replaced: a reader sees the old or the new whole,
// nothing more (a status file rewritten every second, where fsyncs would cost and buy nothing).
enum class Durability { synced, replaced };
// Empty on success, else what failed ("cannot create results/x.json.tmp: No such file or directory").
std::string write_file_atomically(const std::string& path, const std::string& content,
                                  Durability durability = Durability::synced);
// The same, synced, for a file that must not replace another: linked into place, so a file already at
// `path` stays as it is; then *existed is set and the error names it.
std::string write_new_file(const std::string& path, const std::string& content, bool* existed);
// The directory a path's file is in ("results/x.json" -> "results", "x.json" -> ".").
std::string directory_of(const std::string& path);
}  // namespace c1m
