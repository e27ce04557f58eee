/* A catalogue of bad inputs of every kind the command line reads (issue 16, point 6), written after the readers and
 * not used to shape them: scenarios, fio results, XenStore dumps and capture bundles that are empty, truncated,
 * binary or of another format. Each must give exit 2, an error naming the file, and no output. The files are in
 * tests/data/bad_inputs/<kind>/. (from-xenstore prints to stdout: nothing may be printed there.) */
#include "tests/support/cli_support.hpp"

#include <filesystem>

using namespace pvsim::test;

namespace {
struct BadInput {
  std::string name;    // the case, as the test's parameter
  std::string command; // pvsim's arguments, {in} the bad input, {out} where output would go
  std::string input;   // below tests/data/bad_inputs
  std::string expect;  // a fragment of the error message
};

std::string data(const std::string& rel)
{
  return source_dir() + "/tests/data/bad_inputs/" + rel;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to)
{
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

void PrintTo(const BadInput& b, std::ostream* os)
{
  *os << b.name;
}

class Catalogue : public ::testing::TestWithParam<BadInput> {};
} // namespace

TEST_P(Catalogue, IsBadInputNamingTheFileWithNothingWritten)
{
  const BadInput& c = GetParam();
  TempDir dir;
  std::string out = dir.file("out");
  auto r          = run_pvsim(replace_all(replace_all(c.command, "{in}", data(c.input)), "{out}", out) + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("pvsim: error: "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tests/data/bad_inputs/" + c.input), std::string::npos) << "names the file: " << r.output;
  EXPECT_NE(r.output.find(c.expect), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << "nothing written";
  EXPECT_EQ(r.output.find("\"components\""), std::string::npos) << "no scenario fragment printed: " << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    All, Catalogue,
    ::testing::Values(
        BadInput{"scenario_empty", "check {in}", "scenario/empty.json", "malformed JSON"},
        BadInput{"scenario_truncated", "run {in} -o {out}", "scenario/truncated.json", "line 4"},
        BadInput{"scenario_binary", "run {in} -o {out}", "scenario/binary.json", "looks binary"},
        BadInput{"scenario_is_a_fio_result", "run {in} -o {out}", "scenario/fio_result.json", "unknown key"},
        BadInput{"fio_empty", "calibrate --trace {in} -o {out}", "fio_json/empty.json", "no JSON object"},
        BadInput{"fio_truncated", "calibrate --trace {in} -o {out}", "fio_json/truncated.json", "invalid JSON"},
        BadInput{"fio_binary", "calibrate --trace {in} -o {out}", "fio_json/binary.json", "looks binary"},
        BadInput{"fio_is_a_scenario", "calibrate --trace {in} -o {out}", "fio_json/a_scenario.json", "fio version"},
        BadInput{"fio_array", "calibrate --trace {in} -o {out}", "fio_json/array.json", "no JSON object"},
        BadInput{"fio_no_jobs", "calibrate --trace {in} -o {out}", "fio_json/no_jobs.json", "no job"},
        BadInput{"fio_in_validate", "validate --device {in} --trace {in} -o {out}", "fio_json/truncated.json", "JSON"},
        BadInput{"xenstore_empty", "from-xenstore {in}", "xenstore/empty.txt", "the file is empty"},
        BadInput{"xenstore_binary", "from-xenstore {in}", "xenstore/binary.txt", "looks binary"},
        BadInput{"xenstore_is_a_fio_result", "from-xenstore {in}", "xenstore/fio_json.txt",
                 "not a `xenstore-ls -f` dump"},
        BadInput{"xenstore_cut_in_a_value", "from-xenstore {in}", "xenstore/cut_in_a_value.txt", "event-channel"},
        BadInput{"bundle_without_manifest", "validate --bundle {in} -o {out}", "bundle/no_manifest",
                 "holds a manifest.json"},
        BadInput{"bundle_binary_manifest", "validate --bundle {in} -o {out}", "bundle/binary_manifest",
                 "bundle manifest looks binary"},
        BadInput{"bundle_missing_run", "validate --bundle {in} -o {out}", "bundle/missing_run", "does not exist"},
        // found by libFuzzer (session 33): a run's file name of 2476 bytes, which the file system refuses
        // (ENAMETOOLONG); std::filesystem threw past the reader and pvsim aborted
        BadInput{"bundle_file_name_too_long", "validate --bundle {in} -o {out}", "bundle/file_name_too_long",
                 "does not exist"},
        BadInput{"bundle_truncated_run", "validate --bundle {in} -o {out}", "bundle/truncated_run", "invalid JSON"}),
    [](const ::testing::TestParamInfo<BadInput>& p) { return p.param.name; });
