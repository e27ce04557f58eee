/* The model types are registered in one place (each model's PVSIM_REGISTER_MODEL); what documents them derives from
 * it or is checked against it. `pvsim models` and the schema come from the registry; the README's model table is
 * written by hand, so this test holds it to the registry. */
#include "tests/support/cli_support.hpp"

#include <regex>
#include <set>
#include <sstream>

using namespace pvsim::test;

namespace {
std::set<std::string> registered_types()
{
  auto r = run_pvsim("models");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Choices inside the models", 0) == 0) // the policies' section follows the models
      break;
    if (not line.empty() and line[0] != ' ')
      out.insert(line.substr(0, line.find(':')));
  }
  return out;
}

/** The types named in the first column of the README's "### Models" table. */
std::set<std::string> readme_types()
{
  std::string readme = read_file(source_dir() + "/README.md");
  auto from          = readme.find("### Models");
  EXPECT_NE(from, std::string::npos) << "README.md has no '### Models' section";
  std::istringstream in(readme.substr(from));
  std::string line;
  std::set<std::string> out;
  std::regex type_re("`([a-z0-9_.]+)`");
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| type", 0) == 0) {
      in_table = true;
      continue;
    }
    if (in_table and line.rfind("|", 0) != 0)
      break;
    if (not in_table or line.rfind("| ---", 0) == 0)
      continue;
    std::string first = line.substr(1, line.find('|', 1) - 1);
    for (std::sregex_iterator it(first.begin(), first.end(), type_re), end; it != end; ++it)
      out.insert((*it)[1]);
  }
  return out;
}
} // namespace

TEST(ModelTypes, TheReadmeTableListsExactlyTheRegisteredModels)
{
  auto registered = registered_types();
  auto readme     = readme_types();
  ASSERT_FALSE(registered.empty());
  for (const auto& t : registered)
    EXPECT_TRUE(readme.count(t)) << t << " is registered but missing from README.md's model table";
  for (const auto& t : readme)
    EXPECT_TRUE(registered.count(t)) << t << " is in README.md's model table but no model registers it";
}

TEST(ModelTypes, PvsimModelsListsEveryAioSizingAndDrainPolicyWithWhatItReads)
{
  auto r = run_pvsim("models");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* line : {"    fixed: ", "    per-disk: ", "    adaptive: ", "    none: ", "    depth-cap: ",
                           "    deadline: ", "    native: ", "    io_uring: "})
    EXPECT_NE(r.output.find(line), std::string::npos) << line << "missing from `pvsim models`";
  EXPECT_NE(r.output.find("[reads: sizing_interval, sizing_step"), std::string::npos);
}
