/* The analysis scripts a user runs after pvsim: the ring pictures and the AIO sizing sweep. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

using namespace pvsim::test;

namespace {
/** Mean of "used=N" over the frames ring_picture.py printed. */
double mean_used(const std::string& output)
{
  static const std::regex used_re(R"(used=(\d+))");
  double sum = 0;
  int n      = 0;
  for (std::sregex_iterator it(output.begin(), output.end(), used_re), end; it != end; ++it, ++n)
    sum += std::stod((*it)[1]);
  return n > 0 ? sum / n : -1;
}
} // namespace

TEST(RingPicture, TheSingleRingIsFullAndEachOfFourIsMostlyFree)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/default.json --trace " + dir.file("t.json") + " -o " +
                      dir.file("out"))
                .exit_code,
            0);
  std::string script = "/usr/bin/python3 " + source_dir() + "/analysis/ring_picture.py " + dir.file("t.json");
  auto one           = run_command(script + " --ring one_xvda.ring0 --frames 5 --every 30 -o " + dir.file("one.png"));
  auto four          = run_command(script + " --ring four_xvda.ring0 --frames 5 --every 30 -o " + dir.file("four.png"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  ASSERT_EQ(four.exit_code, 0) << four.output;
  std::cout << "slots used, mean of 5 frames: one ring " << mean_used(one.output) << "/32, four rings "
            << mean_used(four.output) << "/32 (results.json: 29.6 and 8.8 on average)\n";
  EXPECT_GT(mean_used(one.output), 20);
  EXPECT_LT(mean_used(four.output), 16);
  EXPECT_EQ(read_file(dir.file("one.png")).substr(1, 3), "PNG");
}

TEST(RingPicture, ARingTheTraceDoesNotHaveIsExitCode2)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/default.json --trace " + dir.file("t.json") + " -o " +
                      dir.file("out"))
                .exit_code,
            0);
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/ring_picture.py " + dir.file("t.json") +
                       " --ring one_xvda.ring9 -o " + dir.file("x.png"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no track named 'one_xvda.ring9'"), std::string::npos) << r.output;
}

TEST(AioSizingScript, SweepsDisksAndPoliciesIntoACsvAndAPlot)
{
  TempDir dir;
  auto r = run_command("/usr/bin/python3 " + source_dir() +
                       "/analysis/aio_sizing.py --disks 1,8 --engines native --policies fixed,per-disk --seeds 1 "
                       "--pvsim " +
                       pvsim_binary() + " -j 2 -o " + dir.file("s"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string csv = read_file(dir.file("s/aio_sizing.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv; // header + 2 policies x 2 disk counts
  EXPECT_NE(csv.find("native,per-disk,8,"), std::string::npos) << csv;
  EXPECT_EQ(read_file(dir.file("s/aio_sizing.png")).substr(1, 3), "PNG");
}
