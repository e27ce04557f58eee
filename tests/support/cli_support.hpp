/* Test helpers for running the pvsim binary as a user would. */
#pragma once

#include "tests/support/support.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace pvsim::test {

struct CommandResult {
  int exit_code;
  std::string output; // stdout and stderr together
};

inline CommandResult run_command(const std::string& cmd)
{
  std::string full = cmd + " 2>&1";
  FILE* p          = popen(full.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (p and fgets(buf.data(), static_cast<int>(buf.size()), p))
    out += buf.data();
  int status = p ? pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline CommandResult run_pvsim(const std::string& args)
{
  return run_command(pvsim_binary() + " " + args);
}

/** The names of the shipped scenarios (the .json files of scenarios/ but the schema), sorted: each one is an example
 * and a test. */
inline std::vector<std::string> shipped_scenario_names()
{
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(source_dir() + "/scenarios"))
    if (e.path().extension() == ".json" and e.path().filename() != "schema.json")
      out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

/** A fresh temporary directory, removed at the end of the test. */
class TempDir {
public:
  TempDir()
  {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pvsim-test-XXXXXX").string();
    path_            = mkdtemp(tmpl.data());
  }
  ~TempDir()
  {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const
  {
    std::ofstream(path_ / name) << content;
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace pvsim::test
