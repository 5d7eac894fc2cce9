// ladle/io/file.hpp: RAII forms of the io layer's POSIX primitives (io/detail/posix_file.hpp),
// for readers and writers that stream (the .npy reader and writer, the `ladle` program).
//
//   mapped_file         a whole file, read-only and memory-mapped: pages load when touched, the
//                       file is never written.
//   atomic_file_writer  appends bytes to a temporary file in the TARGET's folder and renames it
//                       over the target on commit(), so readers see the old file or the complete
//                       new one, never a partial write. Destroyed without commit() (an
//                       exception, a failed check), it removes the temporary and leaves the
//                       target untouched. An existing target is refused unless `overwrite`.
//
// Errors: ladle::runtime_error (OS failures, with strerror) or ladle::invalid_argument (a path
// that is not a regular file) naming the calling function and the path.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/io/detail/posix_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace ladle {

/// A read-only mapping of a whole file.
class mapped_file {
 public:
  mapped_file() = default;
  /// Opens and maps `path`; `fn` names the public function in error messages.
  explicit mapped_file(const std::string& path, const char* fn = "mapped_file")
      : path_(path), map_(detail::mapped_file::map(path, fn)) {}
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept
      : path_(std::move(o.path_)), map_(std::exchange(o.map_, detail::mapped_file{})) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) {
      detail::mapped_file::unmap(map_.data, map_.size);
      path_ = std::move(o.path_);
      map_ = std::exchange(o.map_, detail::mapped_file{});
    }
    return *this;
  }
  ~mapped_file() { detail::mapped_file::unmap(map_.data, map_.size); }

  const unsigned char* data() const noexcept { return map_.data; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(map_.size); }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  detail::mapped_file map_;
};

/// Writes a file atomically: write() to the temporary, then commit().
class atomic_file_writer {
 public:
  /// Creates the temporary beside `path`. Throws when `path` exists and !overwrite, when it is a
  /// directory, or when its folder cannot be written.
  atomic_file_writer(const std::string& path, bool overwrite, const char* fn = "atomic_file_writer")
      : path_(path), fn_(fn), overwrite_(overwrite) {
    if (detail::is_directory(path)) throw_runtime_error(fn, "path", "'", path, "' is a directory");
    if (!overwrite && detail::file_exists(path))
      throw_runtime_error(fn, "path", "'", path, "' already exists (use --force to overwrite)");
    fd_ = detail::create_temp_beside(path, temp_, fn);
  }
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  ~atomic_file_writer() { abandon(); }

  void write(const void* bytes, std::size_t n) {
    if (fd_ < 0) throw_runtime_error(fn_, "path", "'", path_, "' is not open for writing");
    detail::pwrite_all(fd_, bytes, n, written_, fn_, temp_);
    written_ += n;
  }
  void write(const std::string& s) { write(s.data(), s.size()); }
  /// Bytes written so far.
  std::uint64_t written() const noexcept { return written_; }
  /// Closes the temporary and renames it over the target (fsync first when `sync`).
  void commit(bool sync = false) {
    if (fd_ < 0) throw_runtime_error(fn_, "path", "'", path_, "' is not open for writing");
    if (!overwrite_ && detail::file_exists(path_)) {  // appeared while we were writing
      abandon();
      throw_runtime_error(fn_, "path", "'", path_, "' already exists (use --force to overwrite)");
    }
    const int fd = std::exchange(fd_, -1);
    const std::string temp = std::exchange(temp_, std::string());
    detail::commit_temp(fd, temp, path_, sync, fn_);  // removes the temporary on failure
  }
  /// Removes the temporary (also done by the destructor when commit() was not reached).
  void abandon() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    if (!temp_.empty()) ::unlink(std::exchange(temp_, std::string()).c_str());
  }
  const std::string& path() const noexcept { return path_; }
  const std::string& temporary_path() const noexcept { return temp_; }

 private:
  std::string path_, temp_;
  const char* fn_;
  bool overwrite_;
  int fd_ = -1;
  std::uint64_t written_ = 0;
};

}  // namespace ladle
