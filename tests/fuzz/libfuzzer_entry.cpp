/* The libFuzzer entry point of fuzz_<name> (built only with -DPVSIM_FUZZ=ON): the target PVSIM_FUZZ_SELECTED. */
#ifdef PVSIM_FUZZ_SELECTED // the ordinary test binary globs this file too: it is empty there
#include "tests/fuzz/fuzz_target.hpp"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static const pvsim::fuzz::Target* target = [] {
    auto it = pvsim::fuzz::targets().find(PVSIM_FUZZ_SELECTED);
    if (it == pvsim::fuzz::targets().end()) {
      std::fprintf(stderr, "no fuzz target %s\n", PVSIM_FUZZ_SELECTED);
      std::abort();
    }
    return &it->second.run;
  }();
  (*target)(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
