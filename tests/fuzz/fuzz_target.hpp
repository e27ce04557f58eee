/* pvsim: fuzz targets, written once, run two ways.
 *
 *   PVSIM_FUZZ_TARGET(fio_json) { ...parse `input`... }
 *
 * Every target registers itself by name. In the ordinary test suite, the smoke test (tests/fuzz/smoke_test.cpp) runs
 * each on its seed corpus and on deterministic mutations of it, in seconds. In the clang build with -DPVSIM_FUZZ=ON
 * (tests/fuzz/CMakeLists.txt), fuzz_<name> is a libFuzzer harness for that one target (libfuzzer_entry.cpp), built
 * with AddressSanitizer and UBSan, for long runs.
 *
 * The contract checked for every input: the parser returns, or throws pvsim::InputError (bad input, said clearly).
 * Any other exception escapes the target: libFuzzer reports it as a crash, the smoke test as a failure. */
#pragma once

#include "sim/input_error.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::fuzz {

using Target = std::function<void(std::string_view)>;

struct Registered {
  Target run;
  std::vector<std::string> seeds; // seed corpus: files or folders, relative to the source tree (or ../shared)
};

inline std::map<std::string, Registered>& targets()
{
  static std::map<std::string, Registered> t;
  return t;
}

inline bool register_target(const std::string& name, Target t, std::vector<std::string> seeds)
{
  targets()[name] = {std::move(t), std::move(seeds)};
  return true;
}

/** Runs `parse`; an InputError is a clean refusal and is swallowed, anything else escapes. */
template <class F>
void expect_clean(F&& parse)
{
  try {
    parse();
  } catch (const InputError&) {
  }
}

/** Where scratch files go: /dev/shm when there is one (no disk writes per input), else the temporary directory. */
std::string scratch_dir();
/** A scratch file holding `input`, for readers that take a path (one per process, rewritten each time). */
std::string scratch_file(std::string_view input, const std::string& suffix);

} // namespace pvsim::fuzz

/** Defines a fuzz target: its body parses `input` (a std::string_view); the arguments after the name are its seed
 * specs, "folder:substring" (a folder of the source tree, or "shared/..." for ../shared). */
#define PVSIM_FUZZ_TARGET(name, ...)                                                                                   \
  static void pvsim_fuzz_##name(std::string_view input);                                                               \
  static const bool pvsim_fuzz_registered_##name =                                                                     \
      ::pvsim::fuzz::register_target(#name, pvsim_fuzz_##name, std::vector<std::string>{__VA_ARGS__});                 \
  static void pvsim_fuzz_##name(std::string_view input)
