/* Every scenario in scenarios/ is an example and a test (ns-3's example-as-test, SimGrid's .tesh): it must pass
 * `pvsim check`, validate against scenarios/schema.json, run, and reproduce its reference summary in
 * tests/reference/<name>.json. Regenerate references on purpose with:
 *   PVSIM_REGENERATE=1 ctest --test-dir build -R Scenarios */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>

using namespace pvsim::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/** What a reference keeps: per job and per queue throughput and latency, and the conservation verdict. */
json summary(const json& results)
{
  json s;
  for (auto& [n, j] : results["jobs"].items())
    s["jobs"][n] = {{"requests", j["requests"]}, {"iops", j["iops"]}, {"latency_us", j["latency_us"]}};
  for (auto& [n, q] : results["queues"].items())
    s["queues"][n] = {{"requests", q["requests"]},
                      {"iops", q["iops"]},
                      {"response_us", q["response_us"]},
                      {"utilization", q["utilization"]}};
  s["conservation_ok"] = results["conservation"]["ok"];
  return s;
}

/** Equal up to floating-point noise (1e-9 relative): the same build gives bytes, another compiler may not. */
void expect_same(const json& got, const json& want, const std::string& path)
{
  if (want.is_number() and got.is_number()) {
    double a = got.get<double>(), b = want.get<double>();
    EXPECT_LE(std::fabs(a - b), 1e-9 * std::max(std::fabs(b), 1e-12)) << path << ": got " << a << ", reference " << b;
    return;
  }
  if (want.is_object() and got.is_object()) {
    for (auto& [k, v] : want.items()) {
      if (not got.contains(k)) {
        ADD_FAILURE() << path << "/" << k << " missing";
        continue;
      }
      expect_same(got[k], v, path + "/" + k);
    }
    EXPECT_EQ(got.size(), want.size()) << path << ": keys differ";
    return;
  }
  EXPECT_EQ(got, want) << path;
}
} // namespace

class Scenarios : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenarios, ChecksRunsAndMatchesItsReference)
{
  std::string file = source_dir() + "/scenarios/" + GetParam() + ".json";
  ASSERT_EQ(run_pvsim("check " + file).exit_code, 0);
  TempDir dir;
  auto r = run_pvsim("run -q " + file + " -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json got        = summary(json::parse(read_file(dir.file("out/results.json"))));
  std::string ref = source_dir() + "/tests/reference/" + GetParam() + ".json";
  if (std::getenv("PVSIM_REGENERATE")) {
    fs::create_directories(fs::path(ref).parent_path());
    std::ofstream(ref) << got.dump(2) << "\n";
    GTEST_SKIP() << "reference regenerated: " << ref;
  }
  ASSERT_TRUE(fs::exists(ref)) << "no reference: regenerate with PVSIM_REGENERATE=1";
  EXPECT_TRUE(got["conservation_ok"].get<bool>());
  expect_same(got, json::parse(read_file(ref)), GetParam());
}

TEST_P(Scenarios, ValidatesAgainstTheSchema)
{
  std::string file = source_dir() + "/scenarios/" + GetParam() + ".json";
  auto r =
      run_command("/usr/bin/python3 -c \"import json,jsonschema,sys; jsonschema.validate(json.load(open(sys.argv[1])), "
                  "json.load(open(sys.argv[2])))\" " +
                  file + " " + source_dir() + "/scenarios/schema.json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

INSTANTIATE_TEST_SUITE_P(All, Scenarios, ::testing::ValuesIn(shipped_scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (auto& c : n)
                             if (not std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return n;
                         });

TEST(Schema, RejectsAMisspeltKeyLikeTheLoader)
{
  TempDir dir;
  std::string bad = dir.write("bad.json", R"({"duration": "1s", "components": {"j": {"type": "source.closed",
      "iodpeth": 4, "target": "d"}, "d": {"type": "device.null_blk"}}})");
  auto r =
      run_command("/usr/bin/python3 -c \"import json,jsonschema,sys; jsonschema.validate(json.load(open(sys.argv[1])), "
                  "json.load(open(sys.argv[2])))\" " +
                  bad + " " + source_dir() + "/scenarios/schema.json");
  EXPECT_NE(r.exit_code, 0) << "the schema must reject unknown keys too";
}

TEST(Plot, TurnsResultsIntoPngs)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/default.json -o " + dir.file("out")).exit_code, 0);
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/plot_run.py " + dir.file("out/results.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* png : {"out/latency_cdf.png", "out/iops.png"}) {
    std::string bytes = read_file(dir.file(png));
    ASSERT_GT(bytes.size(), 1000u) << png;
    EXPECT_EQ(bytes.substr(1, 3), "PNG") << png;
  }
}

TEST(DefaultScenario, FourRingsBeatOneRingForTheSameGuest)
{
  // The README's first command runs scenarios/default.json: its point is the difference between the two guests.
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/default.json -o " + dir.file("out")).exit_code, 0);
  json res    = json::parse(read_file(dir.file("out/results.json")));
  double one  = res["jobs"]["one_fio"]["iops"].get<double>();
  double four = res["jobs"]["four_fio"]["iops"].get<double>();
  std::cout << "one ring " << one << " IOPS, four rings " << four << " IOPS (expected four > 1.5 x one)\n";
  EXPECT_GT(four, 1.5 * one);
  EXPECT_LT(res["jobs"]["four_fio"]["latency_us"]["p99"].get<double>(),
            res["jobs"]["one_fio"]["latency_us"]["p99"].get<double>());
}

TEST(PlotRun, DrawsNoEmptyPanelAndBatchSizesAsAHistogram)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/xen-blk-mq.json --set duration=15ms -o " + dir.file("out"))
                .exit_code,
            0);
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/plot_run.py " + dir.file("out/results.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res        = json::parse(read_file(dir.file("out/results.json")));
  long long waits = 0;
  for (auto& [name, c] : res["components"].items())
    if (c.is_object() and c.contains("hw_queues"))
      for (auto& h : c["hw_queues"])
        waits += h.value("tag_waits", 0LL);
  EXPECT_NE(r.output.find("Backend batch sizes"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Tag exhaustion") != std::string::npos, waits > 0)
      << waits << " tag waits; the tag panel is drawn only when some request waited: " << r.output;
}

TEST(Sweep, RunsOneProcessPerPointAndWritesCsvAndPlot)
{
  TempDir dir;
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/sweep.py " + source_dir() +
                       "/scenarios/null-blk-tags.json --axis components.fio.iodepth=32,64,128 --pvsim " +
                       pvsim_binary() + " -j 2 -o " + dir.file("sweep"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string csv = read_file(dir.file("sweep/sweep.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv; // header + 3 points
  EXPECT_NE(csv.find("components.fio.iodepth,fio.iops"), std::string::npos) << csv;
  EXPECT_EQ(read_file(dir.file("sweep/sweep.png")).substr(1, 3), "PNG");
}

TEST(Sweep, FixedSettingsApplyToEveryPointAndContentionIsReported)
{
  TempDir dir;
  auto r =
      run_command("/usr/bin/python3 " + source_dir() + "/analysis/sweep.py " + source_dir() +
                  "/scenarios/xen-blk-mq.json --axis components.fio.numjobs=4,8 --set components.xvda.max_queues=1" +
                  " --reference " + source_dir() + "/analysis/published/xen_blkfront_mq_2015.csv --pvsim " +
                  pvsim_binary() + " -j 2 -o " + dir.file("sweep"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // One ring for every point: its lock is contended, so the runs spin.
  json point = json::parse(read_file(dir.file("sweep/points/numjobs-8/results.json")));
  EXPECT_EQ(point["components"]["xvda"]["rings"].size(), 1u);
  std::string csv = read_file(dir.file("sweep/sweep.csv"));
  EXPECT_NE(csv.find("lock_spin_us_per_request,busiest_lock_held"), std::string::npos) << csv;
  EXPECT_EQ(read_file(dir.file("sweep/sweep.png")).substr(1, 3), "PNG");
}

TEST(Sweep, AFailingPointStopsTheSweepWithItsMessage)
{
  TempDir dir;
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/sweep.py " + source_dir() +
                       "/scenarios/null-blk-tags.json --axis components.fio.iodepth=8,-1 --pvsim " + pvsim_binary() +
                       " -j 1 -o " + dir.file("sweep"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("/components/fio/iodepth"), std::string::npos) << r.output;
}
