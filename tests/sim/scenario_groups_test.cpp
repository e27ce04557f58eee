/* Component groups (sim/scenario_groups.hpp): a group of components made `count` times, "{i}" the copy's index. */
#include "sim/scenario.hpp"
#include "sim/scenario_groups.hpp"
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {
json disks_group(long long count)
{
  return json::parse(R"({"duration": "10ms", "components": {"shared": {"type": "device.null_blk"},
    "sjob": {"type": "source.closed", "target": "shared"}},
    "groups": {"disk": {"count": )" +
                     std::to_string(count) + R"(, "components": {
      "job{i}": {"type": "source.closed", "iodepth": 2, "target": "dev{i}"},
      "dev{i}": {"type": "device.parallel", "channels": 1,
                 "read_service": {"dist": "deterministic", "value": "100us"}}}}}})");
}

std::string error_of(json doc)
{
  std::map<std::string, std::string> origins;
  try {
    expand_groups(doc, "s.json", origins);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST(ScenarioGroups, EachCopyGetsItsIndexInNamesAndStrings)
{
  json doc = disks_group(3);
  std::map<std::string, std::string> origins;
  expand_groups(doc, "s.json", origins);
  EXPECT_FALSE(doc.contains("groups"));
  ASSERT_EQ(doc["components"].size(), 8u); // shared and its job, 3 jobs, 3 devices
  for (int i = 0; i < 3; ++i) {
    std::string job = "job" + std::to_string(i);
    ASSERT_TRUE(doc["components"].contains(job));
    EXPECT_EQ(doc["components"][job]["target"], "dev" + std::to_string(i));
    EXPECT_EQ(origins[job], "/groups/disk/components/job{i}");
  }
  EXPECT_EQ(origins.count("shared"), 0u);
}

TEST(ScenarioGroups, BracesNReplacedByTheCount)
{
  EXPECT_EQ(substitute_group_index("q{i}of{n}", 2, 8), "q2of8");
  EXPECT_EQ(substitute_group_index("{x}{i", 2, 8), "{x}{i");
}

TEST(ScenarioGroups, ANameWithoutIndexInAGroupOfSeveralIsRefused)
{
  json doc                                     = disks_group(2);
  doc["groups"]["disk"]["components"]["fixed"] = {{"type", "device.null_blk"}};
  EXPECT_NE(error_of(doc).find("/groups/disk/components/fixed"), std::string::npos) << error_of(doc);
  EXPECT_NE(error_of(doc).find("has no {i}"), std::string::npos);
}

TEST(ScenarioGroups, ANameMadeTwiceNamesBothPlaces)
{
  json doc                  = disks_group(2);
  doc["components"]["dev1"] = {{"type", "device.null_blk"}};
  std::string e             = error_of(doc);
  EXPECT_NE(e.find("/groups/disk/components/dev{i}"), std::string::npos) << e;
  EXPECT_NE(e.find("/components/dev1"), std::string::npos) << e;
}

TEST(ScenarioGroups, AMisspeltKeyGetsASuggestion)
{
  json doc                       = disks_group(2);
  doc["groups"]["disk"]["cuont"] = 3;
  EXPECT_NE(error_of(doc).find("did you mean 'count'"), std::string::npos) << error_of(doc);
}

TEST(ScenarioGroups, CountOutOfRangeIsRefused)
{
  EXPECT_NE(error_of(disks_group(0)).find("/groups/disk/count"), std::string::npos);
  EXPECT_NE(error_of(disks_group(5000)).find("expected an integer from 1 to 4096"), std::string::npos);
}

TEST(ScenarioGroups, ErrorsInACopyNameTheTemplatesPath)
{
  TempDir dir;
  json doc                                                  = disks_group(2);
  doc["groups"]["disk"]["components"]["dev{i}"]["channels"] = "many";
  std::string file                                          = dir.write("s.json", doc.dump());
  auto r                                                    = run_pvsim("run " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/groups/disk/components/dev{i}/channels"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("in its copy 'dev0'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(ScenarioGroups, SetChangesTheCountAndThenACopy)
{
  TempDir dir;
  std::string file = dir.write("s.json", disks_group(2).dump());
  auto r =
      run_pvsim("run " + file + " --set components.dev3.channels=2 --set groups.disk.count=4 -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res = json::parse(std::ifstream(dir.file("out/results.json")));
  ASSERT_TRUE(res["jobs"].contains("job3")) << res["jobs"].dump();
  // dev3 has two channels: its job's 2 requests are served at once, twice the IOPS of job0's one channel.
  double iops0 = res["jobs"]["job0"]["iops"].get<double>(), iops3 = res["jobs"]["job3"]["iops"].get<double>();
  std::cout << "job0 " << iops0 << " IOPS, job3 " << iops3 << " IOPS (expected 2x, +-1%)\n";
  EXPECT_NEAR(iops3 / iops0, 2.0, 0.02);
}

TEST(ScenarioGroups, CheckExpandPrintsARunnableScenarioWithTheCopies)
{
  TempDir dir;
  std::string file = dir.write("s.json", disks_group(2).dump());
  auto r           = run_pvsim("check " + file + " --expand --set groups.disk.count=3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json expanded = json::parse(r.output);
  EXPECT_FALSE(expanded.contains("groups"));
  EXPECT_TRUE(expanded["components"].contains("dev2"));
  std::string again = dir.write("expanded.json", expanded.dump());
  EXPECT_EQ(run_pvsim("check " + again).exit_code, 0);
}

TEST(ScenarioGroups, VaryGivesCopyIItsValueModuloTheList)
{
  json doc                      = disks_group(5);
  doc["groups"]["disk"]["vary"] = {{"job{i}.iodepth", {1, 4}}, {"dev{i}.channels", {2, 3, 4, 5, 6}}};
  std::map<std::string, std::string> origins;
  std::map<std::string, std::map<std::string, std::string>> patched;
  expand_groups(doc, "s.json", origins, &patched);
  const json& c = doc["components"];
  EXPECT_EQ(c["job0"]["iodepth"], 1);
  EXPECT_EQ(c["job1"]["iodepth"], 4);
  EXPECT_EQ(c["job4"]["iodepth"], 1);
  EXPECT_EQ(c["dev3"]["channels"], 5);
  EXPECT_EQ(patched["job1"]["iodepth"], "/groups/disk/vary/job{i}.iodepth/1");
}

TEST(ScenarioGroups, CopiesPatchSomeCopiesRemoveAndAddComponents)
{
  json doc                        = disks_group(4);
  doc["groups"]["disk"]["copies"] = json::parse(R"({
    "0": {"job{i}": {"iodepth": 16, "think_time": null}},
    "2-3": {"dev{i}": {"read_service": {"value": "50us"}}},
    "1,3": {"extra{i}": {"type": "source.closed", "target": "dev{i}"}}})");
  std::map<std::string, std::string> origins;
  expand_groups(doc, "s.json", origins);
  const json& c = doc["components"];
  EXPECT_EQ(c["job0"]["iodepth"], 16);
  EXPECT_EQ(c["job1"]["iodepth"], 2);
  EXPECT_EQ(c["dev2"]["read_service"]["value"], "50us");
  EXPECT_EQ(c["dev2"]["read_service"]["dist"], "deterministic") << "a merge patch keeps what it does not name";
  EXPECT_EQ(c["dev1"]["read_service"]["value"], "100us");
  EXPECT_TRUE(c.contains("extra1"));
  EXPECT_TRUE(c.contains("extra3"));
  EXPECT_FALSE(c.contains("extra0"));
  EXPECT_EQ(c["extra3"]["target"], "dev3") << "{i} is replaced in what a patch adds";
  EXPECT_EQ(origins["extra3"], "/groups/disk/copies/1,3/extra{i}");
}

TEST(ScenarioGroups, ACopiesEntryCanRemoveAComponentFromSomeCopies)
{
  json doc                                        = disks_group(3);
  doc["groups"]["disk"]["components"]["spare{i}"] = {{"type", "device.null_blk"}};
  doc["groups"]["disk"]["copies"]                 = {{"1", {{"spare{i}", nullptr}}}};
  std::map<std::string, std::string> origins;
  expand_groups(doc, "s.json", origins);
  EXPECT_TRUE(doc["components"].contains("spare0"));
  EXPECT_FALSE(doc["components"].contains("spare1"));
  EXPECT_TRUE(doc["components"].contains("spare2"));
}

TEST(ScenarioGroups, ACopyThatDoesNotExistIsRefusedWithTheCount)
{
  json doc                        = disks_group(4);
  doc["groups"]["disk"]["copies"] = {{"2-4", {{"job{i}", {{"iodepth", 3}}}}}};
  std::string e                   = error_of(doc);
  EXPECT_NE(e.find("/groups/disk/copies/2-4"), std::string::npos) << e;
  EXPECT_NE(e.find("copy 4 does not exist: the group has 4 copies (0 to 3)"), std::string::npos) << e;
}

TEST(ScenarioGroups, AMisspeltComponentInCopiesOrVaryGetsASuggestion)
{
  json doc                        = disks_group(2);
  doc["groups"]["disk"]["copies"] = {{"0", {{"jbo{i}", {{"iodepth", 3}}}}}};
  std::string e                   = error_of(doc);
  EXPECT_NE(e.find("/groups/disk/copies/0/jbo{i}"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'job{i}'"), std::string::npos) << e;
  json doc2                      = disks_group(2);
  doc2["groups"]["disk"]["vary"] = {{"dve{i}.channels", {1, 2}}};
  e                              = error_of(doc2);
  EXPECT_NE(e.find("/groups/disk/vary/dve{i}.channels"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'dev{i}'"), std::string::npos) << e;
}

TEST(ScenarioGroups, AnErrorInAValueACopiesEntrySetNamesThatEntryAndTheCopy)
{
  TempDir dir;
  json doc                        = disks_group(3);
  doc["groups"]["disk"]["copies"] = {{"2", {{"dev{i}", {{"channels", "many"}}}}}};
  std::string file                = dir.write("s.json", doc.dump());
  auto r                          = run_pvsim("run " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/groups/disk/copies/2/dev{i}/channels"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("in its copy 'dev2'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(ScenarioGroups, AVariedParameterChangesEachCopysResult)
{
  TempDir dir;
  json doc                      = disks_group(3);
  doc["groups"]["disk"]["vary"] = {{"dev{i}.channels", {1, 2, 1}}};
  std::string file              = dir.write("s.json", doc.dump());
  auto r                        = run_pvsim("run " + file + " -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res     = json::parse(std::ifstream(dir.file("out/results.json")));
  double iops0 = res["jobs"]["job0"]["iops"].get<double>(), iops1 = res["jobs"]["job1"]["iops"].get<double>(),
         iops2 = res["jobs"]["job2"]["iops"].get<double>();
  std::cout << "job0 " << iops0 << ", job1 " << iops1 << ", job2 " << iops2 << " IOPS (expected 1x, 2x, 1x, +-1%)\n";
  EXPECT_NEAR(iops1 / iops0, 2.0, 0.02);
  EXPECT_NEAR(iops2 / iops0, 1.0, 0.01);
}
