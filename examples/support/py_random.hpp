// The part of Python's `random` module the examples use, bit for bit as CPython computes it, so
// a ported program seeded like its original (random.seed(444)) draws the same numbers.
//
// CPython's generator is MT19937 (Matsumoto and Nishimura, 1998). seed(n) for an int n runs the
// reference init_by_array() over the 32-bit words of abs(n), least significant first (the key
// {0} for 0). getrandbits(k) takes the top k bits of one output for k <= 32, and for more fills
// 32-bit words from the least significant up, the last one truncated to its top bits.
// randint(a, b) is a + _randbelow(b - a + 1), and _randbelow(n) draws getrandbits(bit_length(n))
// until the value is below n.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace py {

/// random.Random: a Mersenne Twister seeded and sampled the way CPython does it.
class Random {
 public:
  explicit Random(std::int64_t n = 0) { seed(n); }

  /// random.seed(n) for an int n.
  void seed(std::int64_t n) {
    // abs() in unsigned arithmetic, so that INT64_MIN works too.
    std::uint64_t a = n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
    std::vector<std::uint32_t> key;
    do {
      key.push_back(static_cast<std::uint32_t>(a));
      a >>= 32;
    } while (a != 0);
    init_by_array(key);
  }

  /// One 32-bit output of MT19937.
  std::uint32_t genrand_uint32() {
    if (index_ >= kN) twist();
    std::uint32_t y = state_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

  /// random.getrandbits(k), for 0 <= k <= 64.
  std::uint64_t getrandbits(int k) {
    if (k < 0 || k > 64) throw std::invalid_argument("getrandbits: k must be in [0, 64]");
    if (k == 0) return 0;
    if (k <= 32) return genrand_uint32() >> (32 - k);
    const std::uint64_t low = genrand_uint32();
    const std::uint64_t high = genrand_uint32() >> (64 - k);
    return high << 32 | low;
  }

  /// random._randbelow(n): uniform in [0, n), by rejection over getrandbits(bit_length(n)).
  std::uint64_t randbelow(std::uint64_t n) {
    if (n == 0) return 0;
    const int k = std::bit_width(n);
    std::uint64_t r = getrandbits(k);
    while (r >= n) r = getrandbits(k);
    return r;
  }

  /// random.randint(a, b): uniform in [a, b], both included; of the arguments' type.
  template <std::integral I>
  I randint(I a, I b) {
    if (b < a) throw std::invalid_argument("empty range for randint()");
    // Modulo 2^64, so that the range of any 64-bit type fits, but for the whole of it.
    const auto width = static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a) + 1;
    if (width == 0) throw std::invalid_argument("randint(): a range of 2**64 values");
    return static_cast<I>(static_cast<std::uint64_t>(a) + randbelow(width));
  }

 private:
  static constexpr int kN = 624;
  static constexpr int kM = 397;

  void init_genrand(std::uint32_t s) {
    state_[0] = s;
    for (int i = 1; i < kN; ++i) {
      const std::uint32_t prev = state_[i - 1];
      state_[i] = 1812433253u * (prev ^ (prev >> 30)) + static_cast<std::uint32_t>(i);
    }
    index_ = kN;
  }

  void init_by_array(const std::vector<std::uint32_t>& key) {
    init_genrand(19650218u);
    const int length = static_cast<int>(key.size());
    int i = 1;
    int j = 0;
    for (int k = kN > length ? kN : length; k > 0; --k) {
      const std::uint32_t prev = state_[i - 1];
      state_[i] =
          (state_[i] ^ ((prev ^ (prev >> 30)) * 1664525u)) + key[j] + static_cast<std::uint32_t>(j);
      if (++i >= kN) {
        state_[0] = state_[kN - 1];
        i = 1;
      }
      if (++j >= length) j = 0;
    }
    for (int k = kN - 1; k > 0; --k) {
      const std::uint32_t prev = state_[i - 1];
      state_[i] =
          (state_[i] ^ ((prev ^ (prev >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
      if (++i >= kN) {
        state_[0] = state_[kN - 1];
        i = 1;
      }
    }
    state_[0] = 0x80000000u;  // the most significant bit set: a non-zero initial state
  }

  // Regenerates all kN words at once.
  void twist() {
    for (int i = 0; i < kN; ++i) {
      const std::uint32_t y = (state_[i] & 0x80000000u) | (state_[(i + 1) % kN] & 0x7fffffffu);
      state_[i] = state_[(i + kM) % kN] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    index_ = 0;
  }

  std::array<std::uint32_t, kN> state_{};
  int index_ = kN;
};

/// The module-level functions (`random.seed(444)`, `random.randint(0, 10)`): one shared
/// generator, seeded from 0 until seed() is called (CPython seeds it from the OS instead).
namespace random {

inline Random& generator() {
  static Random instance;
  return instance;
}
inline void seed(std::int64_t n) {
  generator().seed(n);
}
inline std::uint64_t getrandbits(int k) {
  return generator().getrandbits(k);
}
template <std::integral I>
I randint(I a, I b) {
  return generator().randint(a, b);
}

}  // namespace random

}  // namespace py
