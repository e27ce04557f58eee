/* pvsim: random numbers.
 *
 * xoshiro256** seeded through splitmix64, with our own variate transforms, so that a scenario and a seed give the
 * same numbers on every compiler and standard library (std:: distributions are implementation-defined).
 * Each component draws from its own stream, derived from the run's seed and the component's name: adding a
 * component does not change the numbers the others see. */
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace pvsim {

class Rng {
public:
  explicit Rng(std::uint64_t seed = 1) { reseed(seed); }
  /** A stream for a named entity: same (seed, name) → same stream. */
  Rng(std::uint64_t seed, std::string_view stream_name) { reseed(seed ^ fnv1a(stream_name)); }

  void reseed(std::uint64_t seed)
  {
    std::uint64_t x = seed;
    for (auto& s : s_)
      s = splitmix64(x);
  }

  std::uint64_t next_u64()
  {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t      = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /** Uniform in [0, 1). */
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /** Uniform in (0, 1]: safe for log(). */
  double uniform_pos() { return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53; }
  /** Uniform integer in [0, n). */
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next_u64() % n; }
  double exponential(double mean) { return -mean * std::log(uniform_pos()); }
  /** Standard normal by Box-Muller (one value per call; the pair's second value is dropped for simplicity). */
  double normal()
  {
    double u1 = uniform_pos();
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

  static std::uint64_t fnv1a(std::string_view s)
  {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return h;
  }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x)
  {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z               = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z               = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4]{};
};

} // namespace pvsim
