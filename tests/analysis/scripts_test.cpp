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
/** Runs scenarios/default.json with a trace into dir's t.json; false if pvsim failed. */
bool default_trace(TempDir& dir)
{
  return run_pvsim("run -q " + source_dir() + "/scenarios/default.json --trace " + dir.file("t.json") + " -o " +
                   dir.file("out"))
             .exit_code == 0;
}

/** analysis/ring_picture.py on dir's t.json with `args`. */
CommandResult ring_picture(TempDir& dir, const std::string& args)
{
  return run_command("/usr/bin/python3 " + source_dir() + "/analysis/ring_picture.py " + dir.file("t.json") + " " +
                     args);
}
} // namespace

TEST(RingPicture, TheSingleRingIsFullAndEachOfFourIsMostlyFree)
{
  TempDir dir;
  ASSERT_TRUE(default_trace(dir));
  auto one  = ring_picture(dir, "--ring one_xvda.ring0 --frames 5 --every 30 -o " + dir.file("one.png"));
  auto four = ring_picture(dir, "--ring four_xvda.ring0 --frames 5 --every 30 -o " + dir.file("four.png"));
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
  ASSERT_TRUE(default_trace(dir));
  auto r = ring_picture(dir, "--ring one_xvda.ring9 -o " + dir.file("x.png"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no track named 'one_xvda.ring9'"), std::string::npos) << r.output;
}

TEST(RingPicture, AnAnimatedGifHasOneFramePerInstant)
{
  TempDir dir;
  ASSERT_TRUE(default_trace(dir));
  auto r = ring_picture(dir, "--ring four_xvda.ring1 --frames 6 --every 15 -o " + dir.file("ring.gif"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(dir.file("ring.gif")).substr(0, 4), "GIF8");
  auto frames = run_command("/usr/bin/python3 -c \"from PIL import Image; print(Image.open('" + dir.file("ring.gif") +
                            "').n_frames)\"");
  std::cout << "GIF frames: " << frames.output << "(expected 6)\n";
  EXPECT_EQ(frames.output, "6\n");
  EXPECT_NE(r.output.find("frames=6"), std::string::npos) << r.output;
}

TEST(RingPicture, TheIndicesOfEveryFrameKeepTheRingsOrderAndItsSize)
{
  TempDir dir;
  ASSERT_TRUE(default_trace(dir));
  auto r = ring_picture(dir, "--ring one_xvda.ring0 --frames 12 --every 10 -o " + dir.file("one.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  static const std::regex frame_re(
      R"(used=(\d+) published=(\d+) backend=(\d+) responses=(\d+) req_prod=(\d+) req_event=(\d+) )"
      R"(rsp_prod=(\d+) rsp_event=(\d+) req_cons=(\d+) rsp_cons=(\d+))");
  int frames = 0;
  for (std::sregex_iterator it(r.output.begin(), r.output.end(), frame_re), end; it != end; ++it, ++frames) {
    auto v         = [&](int i) { return std::stoll((*it)[i]); };
    long long used = v(1), published = v(2), backend = v(3), responses = v(4);
    long long req_prod = v(5), rsp_prod = v(7), req_cons = v(9), rsp_cons = v(10);
    EXPECT_LE(rsp_cons, rsp_prod) << it->str();
    EXPECT_LE(rsp_prod, req_cons) << it->str();
    EXPECT_LE(req_cons, req_prod) << it->str();
    EXPECT_LE(req_prod - rsp_cons, 32) << it->str();
    EXPECT_EQ(used, req_prod - rsp_cons) << it->str();
    EXPECT_EQ(published + backend + responses, used) << it->str();
  }
  EXPECT_EQ(frames, 12) << r.output;
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
