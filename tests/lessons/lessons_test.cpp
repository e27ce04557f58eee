/* The lessons (the *.md files of analysis/lessons/) stay true when the models change: each lesson ends with a ```pvsim-check block
 * of the runs it shows and the claims its answer makes, and this test runs them and checks every claim.
 *   run NAME = ARGS            pvsim run -q ARGS -o <tmp>/NAME (ARGS as the lesson's commands write them)
 *   expect SIDE OP SIDE        OP one of < <= > >=; SIDE a number, NAME:path.to.value or NUMBER * NAME:path
 * A path walks results.json: object keys and array indices separated by dots. Every run's arguments must appear in
 * the lesson's text after "pvsim run " (the commands shown are the ones checked). */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <regex>

using namespace pvsim::test;
using json = nlohmann::json;

namespace {
std::vector<std::string> lesson_names()
{
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(source_dir() + "/analysis/lessons"))
    if (e.path().extension() == ".md" and e.path().filename() != "README.md")
      out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string trim(std::string s)
{
  auto a = s.find_first_not_of(" \t");
  auto b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

/** The value at `path` (dots) inside `doc`; fails the test when it is missing. */
double lookup(const json& doc, const std::string& path, const std::string& what)
{
  const json* cur = &doc;
  std::stringstream ss(path);
  std::string tok;
  while (std::getline(ss, tok, '.')) {
    if (cur->is_array() and not tok.empty() and std::all_of(tok.begin(), tok.end(), ::isdigit)) {
      auto i = std::stoul(tok);
      if (i >= cur->size())
        throw std::runtime_error(what + ": index " + tok + " out of range");
      cur = &(*cur)[i];
    } else if (cur->is_object() and cur->contains(tok)) {
      cur = &(*cur)[tok];
    } else {
      throw std::runtime_error(what + ": no '" + tok + "' in results.json");
    }
  }
  if (not cur->is_number())
    throw std::runtime_error(what + ": not a number: " + cur->dump().substr(0, 80));
  return cur->get<double>();
}

/** A side of a claim: "2.5", "run:path" or "2.5 * run:path". */
double side(const std::string& text, const std::map<std::string, json>& runs)
{
  std::string t = trim(text);
  double factor = 1;
  if (auto star = t.find('*'); star != std::string::npos) {
    factor = std::stod(trim(t.substr(0, star)));
    t      = trim(t.substr(star + 1));
  }
  auto colon = t.find(':');
  if (colon == std::string::npos)
    return factor * std::stod(t);
  std::string run = t.substr(0, colon);
  auto it         = runs.find(run);
  if (it == runs.end())
    throw std::runtime_error("no run named '" + run + "'");
  return factor * lookup(it->second, t.substr(colon + 1), t);
}
} // namespace

class Lessons : public ::testing::TestWithParam<std::string> {};

TEST_P(Lessons, EveryClaimOfTheLessonHoldsOnItsRuns)
{
  std::string text = read_file(source_dir() + "/analysis/lessons/" + GetParam() + ".md");
  auto from        = text.find("```pvsim-check");
  ASSERT_NE(from, std::string::npos) << "the lesson has no ```pvsim-check block";
  auto to = text.find("```", from + 3);
  ASSERT_NE(to, std::string::npos);
  std::stringstream block(text.substr(from, to - from));
  std::string line;
  std::getline(block, line); // the fence
  TempDir tmp;
  std::map<std::string, json> runs;
  int claims = 0;
  static const std::regex run_re(R"(^run\s+([A-Za-z0-9_]+)\s*=\s*(.+)$)");
  static const std::regex expect_re(R"(^expect\s+(.+?)\s*(<=|>=|<|>)\s*(.+)$)");
  while (std::getline(block, line)) {
    line = trim(line);
    std::smatch m;
    if (line.empty() or line[0] == '#')
      continue;
    if (std::regex_match(line, m, run_re)) {
      std::string args = trim(m[2]);
      EXPECT_NE(text.find("pvsim run " + args), std::string::npos)
          << "run '" << m[1] << "' is not among the lesson's commands: pvsim run " << args;
      std::string out = tmp.file(m[1]);
      auto r          = run_command("cd " + source_dir() + " && " + pvsim_binary() + " run -q " + args + " -o " + out);
      ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
      runs[m[1]] = json::parse(read_file(out + "/results.json"));
    } else if (std::regex_match(line, m, expect_re)) {
      double lhs = side(m[1], runs), rhs = side(m[3], runs);
      std::string op = m[2];
      bool ok        = op == "<" ? lhs < rhs : op == "<=" ? lhs <= rhs : op == ">" ? lhs > rhs : lhs >= rhs;
      std::printf("[lesson %s] %s: %g %s %g\n", GetParam().c_str(), line.c_str(), lhs, op.c_str(), rhs);
      EXPECT_TRUE(ok) << line << ": " << lhs << " " << op << " " << rhs;
      ++claims;
    } else {
      ADD_FAILURE() << "not a run or expect line: " << line;
    }
  }
  EXPECT_GT(claims, 0) << "a lesson with nothing checked";
}

INSTANTIATE_TEST_SUITE_P(All, Lessons, ::testing::ValuesIn(lesson_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (auto& c : n)
                             if (not std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return n;
                         });
