/* `pvsim interference` (analysis/interference.py): the interference matrix from counterfactual runs, checked against
 * the closed form of guests sharing one FIFO server. Three guests, each a closed loop with no CPU cost, on a device
 * serving one request at a time in S: N requests always in the system, so every response takes N x S. Guest 0 (the
 * noisy neighbour) keeps k in flight, the others 1: with everyone N = k + 2, without guest 0 N = 2, so guest 0 moves
 * guest 1's p99 by (k + 2) / 2 - 1 = k / 2, and guest 2 moves it by (k + 2) / (k + 1) - 1. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace pvsim::test;
using json = nlohmann::json;

namespace {
std::string three_guests(TempDir& dir, int k)
{
  return dir.write("three.json", R"({"name": "three", "duration": "50ms", "warmup": "5ms", "components": {
    "host": {"type": "cpu.host", "cores": 4},
    "disk": {"type": "device.parallel", "channels": 1, "read_service": "100us"}},
   "groups": {"guest": {"count": 3, "components": {
     "g{i}": {"type": "guest.vm", "vcpus": 1, "pcpus": "host"},
     "fio{i}": {"type": "job.fio", "vm": "g{i}", "iodepth": 1, "submit_cpu": "0us", "complete_cpu": "0us",
                "target": "disk"}},
     "copies": {"0": {"fio{i}": {"iodepth": )" +
                                     std::to_string(k) + "}}}}}}");
}

json matrix_for_burst(int k)
{
  TempDir dir;
  auto r = run_pvsim("interference " + three_guests(dir, k) + " -j 2 --repeats 1 --no-plot -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(read_file(dir.file("out/interference.json")));
}
} // namespace

TEST(InterferenceCommand, TheNoisyNeighboursColumnIsTheClosedFormOfASharedFifo)
{
  for (int k : {4, 8}) {
    json m = matrix_for_burst(k);
    ASSERT_EQ(m["guests"], json({"g0", "g1", "g2"}));
    double by_noisy = m["matrix_pct"][1][0].get<double>(), by_quiet = m["matrix_pct"][1][2].get<double>();
    std::cout << "k = " << k << ": guest 0 moves guest 1's p99 by " << by_noisy << " % (expected " << 100.0 * k / 2
              << " +- 1), guest 2 by " << by_quiet << " % (expected " << 100.0 / (k + 1) << " +- 1)\n";
    EXPECT_NEAR(by_noisy, 100.0 * k / 2, 1.0);
    EXPECT_NEAR(by_quiet, 100.0 / (k + 1), 1.0);
    EXPECT_TRUE(m["matrix_pct"][1][1].is_null()) << "the diagonal is empty";
    EXPECT_EQ(m["worst_neighbour"]["g2"]["guest"], "g0");
  }
}

TEST(InterferenceCommand, WritesTheCsvAndBothPlots)
{
  TempDir dir;
  auto r = run_pvsim("interference " + three_guests(dir, 4) + " -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("g1: worst neighbour g0 (+200.0 % p99)"), std::string::npos) << r.output;
  for (const char* f : {"interference.csv", "interference.png", "guests.png", "baseline/seed1/results.json",
                        "without-g0/seed3/results.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("out/") + f))) << f;
  std::string csv = read_file(dir.file("out/interference.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 * 2) << "a header and one row per ordered pair of guests";
  json m = json::parse(read_file(dir.file("out/interference.json")));
  EXPECT_EQ(m["seeds"], json({1, 2, 3})) << "three seeds by default";
  EXPECT_NEAR(m["matrix_sd_pct"][1][0].get<double>(), 0.0, 1e-9) << "a deterministic device: no spread over seeds";
}

TEST(InterferenceCommand, AScenarioWithOneGuestIsRefusedWithNothingWritten)
{
  TempDir dir;
  auto r = run_pvsim("interference " + source_dir() + "/scenarios/xen-blk-mq.json -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("needs at least two guests"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(InterferenceCommand, ABadScenarioGivesPvsimsErrorAndExit2)
{
  TempDir dir;
  std::string file = dir.write("bad.json", R"({"duration": "1ms", "components": {"d": {"type": "device.nul_blk"}}})");
  auto r           = run_pvsim("interference " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("device.null_blk"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}
