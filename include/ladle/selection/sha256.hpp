// ladle/selection/sha256.hpp: SHA-256 (FIPS 180-4) and DSIR's hashed n-gram bucket.
//
// sha256(data, size) -> 32-byte digest. Two backends giving the same digests: the x86 SHA
// extensions (SHA-NI: sha256rnds2 / sha256msg1 / sha256msg2), chosen at run time by cpuid when
// the compiler can target them (GCC / Clang on x86-64), and a portable one everywhere else.
// sha256_backend() names the one in use.
//
// dsir_bucket(s, buckets): the bucket of DSIR's hashed n-gram features (p-lambda/dsir,
// HashedNgramDSIR): the digest of the UTF-8 bytes of s read as one big-endian 256-bit integer,
// modulo buckets (reduced byte by byte, most significant first). With 10 000 buckets,
// "alice" -> 6720 and "alice went" -> 114, as in the reference's tests.
//
// Complexity: O(size); no allocation. Errors: buckets == 0 -> ladle::invalid_argument.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ladle {

using sha256_digest = std::array<std::uint8_t, 32>;

inline sha256_digest sha256(const void* data, std::size_t size) noexcept;
inline sha256_digest sha256(std::string_view s) noexcept { return sha256(s.data(), s.size()); }
/// "sha-ni" or "portable".
inline const char* sha256_backend() noexcept;

inline std::uint32_t dsir_bucket(std::string_view s, std::uint32_t buckets = 10000);

namespace detail {

inline constexpr std::uint32_t sha256_k[64] = {0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
inline constexpr std::uint32_t sha256_h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

}  // namespace detail
}  // namespace ladle

#include "ladle/selection/detail/sha256_impl.hpp"
