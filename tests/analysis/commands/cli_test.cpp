/* The command line as users meet it: run, check, graph, schema, models. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

namespace {
/** The command line's tests run the small generic scenario (two jobs on an SSD-like device). */
std::string default_scenario()
{
  return source_dir() + "/scenarios/ssd-two-jobs.json";
}
} // namespace

TEST(Cli, RunPrintsEveryLockOfTheRunWithItsContention)
{
  TempDir dir;
  auto r = run_pvsim("run " + source_dir() + "/scenarios/xen-blk-legacy.json --set components.fio.numjobs=8 -o " +
                     dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("spin us/acq"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("xvda/rings/0/ring_lock"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cache-line transfers: xvda"), std::string::npos) << r.output;
  json res = json::parse(read_file(dir.file("out/results.json")));
  json lock;
  for (const json& l : res["contention"]["locks"])
    if (l["lock"] == "xvda/rings/0/ring_lock")
      lock = l;
  ASSERT_TRUE(lock.is_object()) << res["contention"].dump();
  EXPECT_EQ(lock["kind"], "ticket"); // the domU runs Linux 4.0
  EXPECT_GT(lock["contended"].get<double>(), 0);
  EXPECT_GT(lock["wait_per_acquisition_us"].get<double>(), 0);
}

TEST(Cli, ARunWithoutLocksPrintsNoLockTable)
{
  TempDir dir;
  auto r = run_pvsim("run " + default_scenario() + " -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("spin us/acq"), std::string::npos) << r.output;
  EXPECT_FALSE(json::parse(read_file(dir.file("out/results.json"))).contains("contention"));
}

TEST(Cli, RunPrintsASummaryAndWritesResultsAndCsv)
{
  TempDir dir;
  auto r = run_pvsim("run " + default_scenario() + " -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("IOPS"), std::string::npos);
  EXPECT_NE(r.output.find("p99.9 us"), std::string::npos);
  EXPECT_NE(r.output.find("conservation (issued = completed + in flight): ok"), std::string::npos);
  json res = json::parse(read_file(dir.file("out/results.json")));
  EXPECT_EQ(res["format"], "pvsim-results");
  EXPECT_EQ(res["format_version"], 1);
  EXPECT_TRUE(res.contains("pvsim_version"));
  EXPECT_EQ(res["seed"], 1);
  EXPECT_TRUE(res["conservation"]["ok"].get<bool>());
  // The resolved scenario holds every parameter, defaults included, in canonical units.
  EXPECT_EQ(res["scenario"]["components"]["reader"]["bs_bytes"], 4096.0);
  EXPECT_EQ(res["scenario"]["components"]["reader"]["number_ios"], 0);
  EXPECT_NE(read_file(dir.file("out/jobs.csv")).find("job,requests,iops"), std::string::npos);
  EXPECT_NE(read_file(dir.file("out/queues.csv")).find("queue,servers"), std::string::npos);
}

TEST(Cli, SameScenarioAndSeedGiveByteIdenticalResults)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + default_scenario() + " -o " + dir.file("a")).exit_code, 0);
  ASSERT_EQ(run_pvsim("run -q " + default_scenario() + " -o " + dir.file("b")).exit_code, 0);
  EXPECT_EQ(read_file(dir.file("a/results.json")), read_file(dir.file("b/results.json")));
  EXPECT_EQ(read_file(dir.file("a/jobs.csv")), read_file(dir.file("b/jobs.csv")));
}

TEST(Cli, AnotherSeedGivesOtherResults)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + default_scenario() + " -o " + dir.file("a")).exit_code, 0);
  ASSERT_EQ(run_pvsim("run -q " + default_scenario() + " --seed 2 -o " + dir.file("b")).exit_code, 0);
  json a = json::parse(read_file(dir.file("a/results.json")));
  json b = json::parse(read_file(dir.file("b/results.json")));
  EXPECT_EQ(b["seed"], 2);
  EXPECT_NE(a["jobs"], b["jobs"]);
}

TEST(Cli, SetOverridesAValueAndTheResolvedScenarioRecordsIt)
{
  TempDir dir;
  auto r = run_pvsim("run -q " + default_scenario() + " -o " + dir.file("o") + " --set components.ssd.channels=2" +
                     " --set components.reader.bs=8KiB");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res = json::parse(read_file(dir.file("o/results.json")));
  EXPECT_EQ(res["scenario"]["components"]["ssd"]["channels"], 2);
  EXPECT_EQ(res["scenario"]["components"]["reader"]["bs_bytes"], 8192.0);
  EXPECT_EQ(res["queues"]["ssd"]["servers"], 2);
}

TEST(Cli, CheckValidatesWithoutRunning)
{
  auto r = run_pvsim("check " + default_scenario());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok"), std::string::npos);
}

TEST(Cli, GraphWritesGraphvizDotOfTheWiring)
{
  TempDir dir;
  auto r = run_pvsim("graph " + default_scenario() + " -o " + dir.file("wiring.dot"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string dot = read_file(dir.file("wiring.dot"));
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("reader\\nsource.closed"), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"target\""), std::string::npos) << dot;
}

TEST(Cli, EverySubcommandHasHelp)
{
  for (const char* sub : {"run", "check", "graph", "schema", "models"}) {
    auto r = run_pvsim(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub << ": " << r.output;
  }
}

TEST(Cli, TheCommittedSchemaIsTheGeneratedOne)
{
  // Regenerate on purpose with: ./build/pvsim schema -o scenarios/schema.json
  auto r = run_pvsim("schema");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, read_file(source_dir() + "/scenarios/schema.json"))
      << "scenarios/schema.json is stale: run ./build/pvsim schema -o scenarios/schema.json";
}

TEST(Cli, ModelsListsEveryModelWithTheSourceOfItsDefaults)
{
  auto r = run_pvsim("models");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("device.null_blk"), std::string::npos);
  EXPECT_NE(r.output.find("completion_nsec"), std::string::npos);
}
