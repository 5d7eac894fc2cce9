// ladle/io/detail/posix_file.hpp: the few POSIX calls the io headers need (read-only mmap,
// full pwrite, temporary-file + fsync + rename), each failure a ladle::runtime_error with errno.
#pragma once

#include "ladle/core/error.hpp"

#if !defined(__unix__) && !defined(__APPLE__)
#  error "ladle/io needs a POSIX system (mmap, pwrite, fsync, rename)"
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#  error "ladle/io reads and writes little-endian data in place; big-endian hosts are not supported"
#endif

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ladle {
namespace detail {

[[noreturn]] inline void os_fail(const char* fn, const char* arg, const std::string& what,
                                 const std::string& path, int err) {
  throw_runtime_error(fn, arg, what, " '", path, "' failed: ", std::strerror(err));
}

/// Folder part of a path ("." when none).
inline std::string parent_folder(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

inline std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

inline bool is_directory(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

inline bool file_exists(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

/// Writes all `n` bytes at `offset` (retrying short writes and EINTR).
inline void pwrite_all(int fd, const void* data, std::uint64_t n, std::uint64_t offset,
                       const char* fn, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const std::size_t chunk = static_cast<std::size_t>(n < (std::uint64_t(1) << 30) ? n : (std::uint64_t(1) << 30));
    const ssize_t w = ::pwrite(fd, p, chunk, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      os_fail(fn, "path", "writing", path, errno);
    }
    p += w;
    n -= static_cast<std::uint64_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
}

/// fsync of a folder, so a rename inside it is durable.
inline void sync_folder(const std::string& folder, const char* fn) {
  const int dfd = ::open(folder.c_str(), O_RDONLY | O_CLOEXEC);
  if (dfd < 0) os_fail(fn, "path", "opening folder", folder, errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0 && err != EINVAL) os_fail(fn, "path", "fsync of folder", folder, err);
}

/// Creates "<folder>/.<name>.ladle-tmp-<pid>-<n>" exclusively; returns its fd.
inline int create_temp_beside(const std::string& path, std::string& tmp_path, const char* fn) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp_path = parent_folder(path) + "/." + base_name(path) + ".ladle-tmp-" +
               std::to_string(static_cast<long>(::getpid())) + "-" + std::to_string(counter++);
    const int fd = ::open(tmp_path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) os_fail(fn, "path", "creating temporary file", tmp_path, errno);
  }
  os_fail(fn, "path", "creating a temporary file beside", path, EEXIST);
}

/// fsync (optional), close, rename over `path`, fsync the folder (optional). On failure the
/// temporary file is removed.
inline void commit_temp(int fd, const std::string& tmp_path, const std::string& path, bool sync,
                        const char* fn) {
  if (sync && ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp_path.c_str());
    os_fail(fn, "path", "fsync of", tmp_path, err);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_path.c_str());
    os_fail(fn, "path", "closing", tmp_path, err);
  }
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_path.c_str());
    os_fail(fn, "path", "renaming the temporary file onto", path, err);
  }
  if (sync) sync_folder(parent_folder(path), fn);
}

/// Writes `content` to `path` atomically (temporary file, fsync, rename).
inline void write_file_atomically(const std::string& path, const std::string& content, bool sync,
                                  const char* fn) {
  std::string tmp;
  const int fd = create_temp_beside(path, tmp, fn);
#if LADLE_HAS_EXCEPTIONS
  try {
    pwrite_all(fd, content.data(), content.size(), 0, fn, tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
#else
  pwrite_all(fd, content.data(), content.size(), 0, fn, tmp);
#endif
  commit_temp(fd, tmp, path, sync, fn);
}

/// A read-only private mapping of a whole file.
struct mapped_file {
  const unsigned char* data = nullptr;
  std::uint64_t size = 0;

  static mapped_file map(const std::string& path, const char* fn) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) os_fail(fn, "path", "opening", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      os_fail(fn, "path", "stat of", path, err);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      throw_invalid_argument(fn, "path", "'", path, "' is not a regular file");
    }
    mapped_file m;
    m.size = static_cast<std::uint64_t>(st.st_size);
    if (m.size > 0) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(m.size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        os_fail(fn, "path", "mmap of", path, err);
      }
      m.data = static_cast<const unsigned char*>(p);
    }
    ::close(fd);  // the mapping keeps the file open
    return m;
  }

  static void unmap(const unsigned char* data, std::uint64_t size) noexcept {
    if (data != nullptr && size > 0)
      ::munmap(const_cast<unsigned char*>(data), static_cast<std::size_t>(size));
  }
};

}  // namespace detail
}  // namespace ladle
