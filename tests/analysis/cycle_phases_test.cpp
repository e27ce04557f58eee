/* analysis/cycle_phases.py: one lockstep cycle's phases from dispatch and completion times, of a real block trace or
 * of a pvsim trace (README "fio's loop"). */
#include "tests/models/firecracker/fc_stack.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace pvsim;
using namespace pvsim::test;

namespace {
CommandResult cycle_phases(const std::string& args)
{
  return run_command("/usr/bin/python3 " + source_dir() + "/analysis/cycle_phases.py " + args);
}

double p50(const json& r, const char* phase)
{
  return r["phases_us"][phase]["p50"].get<double>();
}
} // namespace

TEST(CyclePhases, TheSharedTracesIodepth16CycleIsAsTheReadmeTellsIt)
{
  // The shared traces' blktrace at iodepth 16: 75 % of the completions in passes of 16; the phases' medians are those
  // of README "fio's loop" (the trace's microsecond timestamps make them whole numbers).
  TempDir dir;
  std::string csv =
      std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/per-request/libaio_qd16_5s_block_events.csv.gz";
  auto res = cycle_phases(csv + " --json " + dir.file("p.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json r = json::parse(read_file(dir.file("p.json")))[csv];
  EXPECT_EQ(r["pass_size"], 16);
  EXPECT_NEAR(r["share_in_full_passes"].get<double>(), 0.75, 0.01);
  EXPECT_NEAR(p50(r, "completion_to_first_dispatch"), 6.0, 0.01);
  EXPECT_NEAR(p50(r, "first_to_second_dispatch"), 22.0, 0.01);
  EXPECT_NEAR(p50(r, "second_to_last_dispatch"), 30.0, 0.01);
  EXPECT_NEAR(p50(r, "last_dispatch_to_completion"), 99.0, 0.01);
  EXPECT_NEAR(p50(r, "completion_spread"), 9.0, 0.01);
  EXPECT_NEAR(p50(r, "cycle"), 168.0, 0.01);
}

TEST(CyclePhases, ReadsAPvsimTraceAndTellsFiosLoopFromTheBatchedOne)
{
  // A VMM thread slower than the guest (20 us a request) keeps iodepth 8 in lockstep. fio's loop dispatches a
  // pass's eight one call after the other, a reap (1 us), a submission (2 us) and the driver's queue_rq (1 us) apart;
  // the batched loop reaps the eight, submits the eight within one vCPU quantum (20 us), and they reach the driver
  // together.
  TempDir dir;
  double spread[2];
  const char* loops[2] = {"fio", "batched"};
  for (int l = 0; l < 2; ++l) {
    fctest::FcStack s;
    s.iodepth        = 8;
    s.fc             = {{"sync_io_cpu", "20us"}};
    s.vda            = {{"queue_rq_cpu", "1us"}};
    s.fio            = {{"loop", loops[l]}, {"submit_cpu", "2us"}, {"complete_cpu", "1us"}};
    std::string name = loops[l];
    auto file        = dir.write(name + ".json", fctest::scenario(s).dump());
    auto run         = run_pvsim("run -q " + file + " -o " + dir.file(name) + " --trace " + dir.file(name + "_t.json") +
                                 " --trace-window 60ms..80ms");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    auto res = cycle_phases(dir.file(name + "_t.json") + " --json " + dir.file(name + "_p.json"));
    ASSERT_EQ(res.exit_code, 0) << res.output;
    json r = json::parse(read_file(dir.file(name + "_p.json")))[dir.file(name + "_t.json")];
    EXPECT_EQ(r["pass_size"], 8) << r.dump();
    EXPECT_GT(r["cycles"].get<int>(), 10) << r.dump();
    spread[l] = p50(r, "second_to_last_dispatch");
    std::printf("loop %-7s: 2nd -> last dispatch %.1f us (p50)\n", loops[l], spread[l]);
  }
  EXPECT_NEAR(spread[0], 6 * 4.0, 1.0) << "six more calls of reap, submit and queue_rq";
  EXPECT_LT(spread[1], 0.5);
}

TEST(CyclePhases, AFileItCannotReadIsExitCode2NamingIt)
{
  TempDir dir;
  auto missing = cycle_phases(dir.file("nope.csv"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("nope.csv"), std::string::npos) << missing.output;
  std::string bad = dir.write("bad.csv", "a,b\n1,2\n");
  auto wrong      = cycle_phases(bad + " --json " + dir.file("out.json"));
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.output.find("d_s and c_s"), std::string::npos) << wrong.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.json")));
}
