/* The smoke run of every fuzz target (tests/fuzz/fuzz_target.hpp) in the ordinary test suite: each target's seed
 * corpus, then 2000 deterministic mutations of it (byte flips, deletions, duplications, insertions of bytes that
 * parsers trip on, truncations). Only InputError may come out. Long fuzzing runs use the libFuzzer build
 * (-DPVSIM_FUZZ=ON with clang, tests/fuzz/README.md). */
#include "tests/fuzz/fuzz_target.hpp"
#include "tests/support/support.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace pvsim;
namespace fs = std::filesystem;

namespace {
/** The seed files of one spec "folder:substring": files whose path below the folder contains the substring (the
 * folder under the source tree, or under ../shared for "shared/..."), at most 64 of them, each at most 256 KiB, in a
 * fixed order. */
std::vector<std::string> seed_files(const std::string& spec)
{
  auto colon        = spec.find(':');
  std::string dir   = spec.substr(0, colon);
  std::string match = colon == std::string::npos ? "" : spec.substr(colon + 1);
  fs::path root =
      dir.rfind("shared/", 0) == 0 ? fs::path(test::shared_dir()) / dir.substr(7) : fs::path(test::source_dir()) / dir;
  std::vector<std::string> paths;
  if (not fs::is_directory(root))
    return paths;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() and e.path().string().find(match, root.string().size()) != std::string::npos and
        e.file_size() <= 256 * 1024)
      paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  if (paths.size() > 64)
    paths.resize(64);
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

/** A deterministic mutation of `s`. */
std::string mutate(std::string s, std::uint64_t& state)
{
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  static const std::vector<std::string> tokens = {"{",
                                                  "}",
                                                  "[",
                                                  "]",
                                                  "\"",
                                                  ",",
                                                  ":",
                                                  "0",
                                                  "-1",
                                                  "1e309",
                                                  "nan",
                                                  "\n",
                                                  std::string(1, '\0'),
                                                  "\xff",
                                                  "=",
                                                  " ",
                                                  "9999999999999999999"};
  int ops                                      = 1 + static_cast<int>(next() % 4);
  for (int i = 0; i < ops; ++i) {
    std::size_t at = s.empty() ? 0 : next() % s.size();
    switch (next() % 5) {
    case 0:
      if (not s.empty())
        s[at] = static_cast<char>(s[at] ^ (1 << (next() % 8)));
      break;
    case 1:
      s.erase(at, next() % 16);
      break;
    case 2:
      s.insert(at, s.substr(at, next() % 32));
      break;
    case 3:
      s.insert(at, tokens[next() % tokens.size()]);
      break;
    default:
      s.resize(at);
    }
  }
  return s;
}
} // namespace

class FuzzSmoke : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzSmoke, SeedsAndMutationsAreParsedOrRefusedCleanly)
{
  const auto& target = fuzz::targets().at(GetParam());
  std::vector<std::string> seeds;
  for (const auto& spec : target.seeds)
    for (auto& s : seed_files(spec))
      seeds.push_back(std::move(s));
  if (seeds.empty())
    seeds = {"", "0", "1ms", "{}", "[]"};
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  int runs            = 0;
  for (const auto& s : seeds) {
    target.run(s);
    ++runs;
  }
  for (int i = 0; i < 2000; ++i) {
    std::string input = mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], state);
    try {
      target.run(input);
    } catch (const std::exception& e) {
      FAIL() << GetParam() << ": " << e.what() << " on mutation " << i << ":\n" << input.substr(0, 2000);
    }
    ++runs;
  }
  std::printf("[fuzz] %s: %zu seeds, %d inputs\n", GetParam().c_str(), seeds.size(), runs);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzSmoke, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& entry : fuzz::targets())
                             names.push_back(entry.first);
                           return names;
                         }()));
