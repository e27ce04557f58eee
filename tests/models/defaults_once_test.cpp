/* Defaults once (issue 12, point 4): a model's ParamTable is the only place its defaults live. The Params structs of
 * the models declare their fields without initialisers; code that needs a Params starts from the table's defaults()
 * (sim/params.hpp). This test reads the models' headers and fails on an initialiser in a Params struct. */
#include "tests/support/support.hpp"

#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;

TEST(DefaultsOnce, NoModelParamsStructHasAFieldInitialiser)
{
  std::regex open(R"(^\s*struct\s+(\w+Params)\s*\{)");
  std::regex initialiser(R"(^\s*[\w:<>, ]+\s+\w+\s*(=|\{[^}]*\})\s*[^;]*;)");
  int structs = 0;
  for (const auto& e : fs::recursive_directory_iterator(pvsim::test::source_dir() + "/models")) {
    if (e.path().extension() != ".hpp")
      continue;
    std::ifstream in(e.path());
    std::string line, current;
    int n = 0, depth = 0;
    while (std::getline(in, line)) {
      ++n;
      std::smatch m;
      if (current.empty() and std::regex_search(line, m, open)) {
        current = m[1];
        depth   = 1;
        ++structs;
        continue;
      }
      if (current.empty())
        continue;
      for (char c : line)
        depth += c == '{' ? 1 : c == '}' ? -1 : 0;
      if (depth <= 0) {
        current.clear();
        continue;
      }
      std::string code = line.substr(0, line.find("//"));
      if (depth == 1 and std::regex_search(code, initialiser))
        ADD_FAILURE() << e.path().string() << ":" << n << ": " << current
                      << " has an initialiser; the default belongs in its ParamTable: " << line;
    }
  }
  std::printf("[defaults] %d Params structs read\n", structs);
  EXPECT_GT(structs, 10);
}
