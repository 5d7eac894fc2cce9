// ladle/io/file.hpp: the two file primitives every ladle reader and writer shares.
//
//   mapped_file         a whole file, read-only, memory-mapped where the platform allows it
//                       (POSIX mmap), otherwise read into memory. Never writes to the file.
//   atomic_file_writer  writes a new file under a temporary name in the TARGET's folder and
//                       renames it over the target on commit(), so readers see either the old
//                       file or the complete new one, never a partial write. Destroyed without
//                       commit() (an exception, a failed check), it removes the temporary and
//                       leaves the target untouched. An existing target is refused unless
//                       `overwrite` is set.
//
// Errors: ladle::runtime_error naming the calling function, the path and the system's reason.
// Memory: mapped_file maps the file (pages are read on demand); the fallback reads it whole.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#  define LADLE_IO_POSIX 1
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <unistd.h>
#else
#  define LADLE_IO_POSIX 0
#  include <fstream>
#endif

namespace ladle {
namespace io {

/// A read-only view of a whole file's bytes.
class mapped_file {
 public:
  mapped_file() = default;
  /// Opens and maps `path`; `fn` names the public function in error messages.
  explicit mapped_file(const std::string& path, const char* fn = "io::mapped_file");
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept { swap(o); }
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) { release(); swap(o); }
    return *this;
  }
  ~mapped_file() { release(); }

  const unsigned char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }
  /// True when the bytes are a memory mapping (false: read into memory, or an empty file).
  bool is_mapped() const noexcept { return mapped_; }

 private:
  void release() noexcept;
  void swap(mapped_file& o) noexcept {
    std::swap(path_, o.path_);
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(mapped_, o.mapped_);
    std::swap(buffer_, o.buffer_);
  }
  std::string path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::vector<unsigned char> buffer_;
};

/// Writes a file atomically: write() to the temporary, then commit().
class atomic_file_writer {
 public:
  /// Creates the temporary next to `path`. Throws when `path` exists and !overwrite, when `path`
  /// is a directory, or when the folder cannot be written.
  atomic_file_writer(const std::string& path, bool overwrite, const char* fn = "io::atomic_file_writer");
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  ~atomic_file_writer() { abandon(); }

  void write(const void* bytes, std::size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  /// Bytes written so far.
  std::size_t written() const noexcept { return written_; }
  /// Flushes, closes and renames the temporary over the target.
  void commit();
  /// Removes the temporary (also done by the destructor when commit() was not reached).
  void abandon() noexcept;
  const std::string& path() const noexcept { return path_; }
  const std::string& temporary_path() const noexcept { return temp_; }

 private:
  std::string path_, temp_;
  const char* fn_;
  bool overwrite_;
  std::FILE* file_ = nullptr;
  std::size_t written_ = 0;
};

/// True when `path` names an existing file system entry.
inline bool path_exists(const std::string& path) noexcept {
#if LADLE_IO_POSIX
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
#else
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
#endif
}

// ---- implementation -------------------------------------------------------------------------

inline mapped_file::mapped_file(const std::string& path, const char* fn) : path_(path) {
#if LADLE_IO_POSIX
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_runtime_error(fn, "path", "cannot open '", path, "': ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw_runtime_error(fn, "path", "cannot stat '", path, "': ", std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw_runtime_error(fn, "path", "'", path, "' is a directory, not a file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw_runtime_error(fn, "path", "cannot map '", path, "': ", std::strerror(e));
    }
    data_ = static_cast<const unsigned char*>(p);
    mapped_ = true;
  }
  ::close(fd);  // the mapping stays valid
#else
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_runtime_error(fn, "path", "cannot open '", path, "'");
  buffer_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  data_ = buffer_.data();
  size_ = buffer_.size();
#endif
}

inline void mapped_file::release() noexcept {
#if LADLE_IO_POSIX
  if (mapped_ && data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
#endif
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
  buffer_.clear();
}

inline atomic_file_writer::atomic_file_writer(const std::string& path, bool overwrite,
                                              const char* fn)
    : path_(path), fn_(fn), overwrite_(overwrite) {
  if (path.empty()) throw_runtime_error(fn, "path", "is empty");
#if LADLE_IO_POSIX
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw_runtime_error(fn, "path", "'", path, "' is a directory");
    if (!overwrite)
      throw_runtime_error(fn, "path", "'", path, "' already exists (use --force to overwrite)");
  }
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // O_EXCL on a fresh name: the mode honours the umask like any new file.
  static unsigned counter = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_ = dir + "." + base + ".tmp." + std::to_string(::getpid()) + "." +
            std::to_string(counter++);
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      file_ = ::fdopen(fd, "wb");
      if (file_ == nullptr) {
        ::close(fd);
        ::unlink(temp_.c_str());
        break;
      }
      return;
    }
    if (errno != EEXIST)
      throw_runtime_error(fn, "path", "cannot create a file in the folder of '", path, "': ",
                          std::strerror(errno));
  }
  temp_.clear();
  throw_runtime_error(fn, "path", "cannot create a temporary file next to '", path, "'");
#else
  if (!overwrite && path_exists(path))
    throw_runtime_error(fn, "path", "'", path, "' already exists (use --force to overwrite)");
  temp_ = path + ".tmp";
  file_ = std::fopen(temp_.c_str(), "wb");
  if (file_ == nullptr) throw_runtime_error(fn, "path", "cannot create '", temp_, "'");
#endif
}

inline void atomic_file_writer::write(const void* bytes, std::size_t n) {
  if (file_ == nullptr) throw_runtime_error(fn_, "path", "'", path_, "' is not open for writing");
  if (n > 0 && std::fwrite(bytes, 1, n, file_) != n)
    throw_runtime_error(fn_, "path", "cannot write '", path_, "': ", std::strerror(errno));
  written_ += n;
}

inline void atomic_file_writer::commit() {
  if (file_ == nullptr) throw_runtime_error(fn_, "path", "'", path_, "' is not open for writing");
  std::FILE* f = file_;
  file_ = nullptr;
  const bool flushed = std::fflush(f) == 0;
  const int flush_errno = errno;
  if (std::fclose(f) != 0 || !flushed) {
    const int e = flushed ? errno : flush_errno;
    abandon();
    throw_runtime_error(fn_, "path", "cannot write '", path_, "': ", std::strerror(e));
  }
#if LADLE_IO_POSIX
  if (!overwrite_ && path_exists(path_)) {  // appeared while we were writing
    abandon();
    throw_runtime_error(fn_, "path", "'", path_, "' already exists (use --force to overwrite)");
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    abandon();
    throw_runtime_error(fn_, "path", "cannot rename the temporary to '", path_, "': ",
                        std::strerror(e));
  }
#else
  std::remove(path_.c_str());
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    abandon();
    throw_runtime_error(fn_, "path", "cannot rename the temporary to '", path_, "'");
  }
#endif
  temp_.clear();
}

inline void atomic_file_writer::abandon() noexcept {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!temp_.empty()) {
    std::remove(temp_.c_str());
    temp_.clear();
  }
}

}  // namespace io
}  // namespace ladle
