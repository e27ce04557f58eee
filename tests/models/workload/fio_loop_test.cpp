/* job.fio's `loop` (models/workload/fio_job.hpp): "fio" is fio's own loop with its defaults, one call at a time (reap
 * one completion, submit the I/O that replaces it with the driver's doorbell, reap the next); "batched" reaps every
 * completion as it arrives and submits the replacements together. Each test runs `pvsim run` on the Firecracker
 * stack of tests/models/firecracker/fc_stack.hpp. */
#include "tests/models/firecracker/fc_stack.hpp"

using namespace pvsim;
using pvsim::fctest::FcStack;

namespace {
double mean_pass(const json& histogram)
{
  double n = 0, requests = 0;
  for (const auto& [k, v] : histogram.items()) {
    n += v.get<double>();
    requests += std::stod(k) * v.get<double>();
  }
  return requests / n;
}

// A VMM thread faster than the guest's job: 1.5 us per request (request_cpu + sync_io_cpu) against fio's 5 us per
// I/O (submit_cpu 3 us + complete_cpu 2 us), a kick of 2 us.
FcStack fast_vmm(const std::string& loop)
{
  FcStack s;
  s.iodepth = 64;
  s.fc      = {{"request_cpu", "0.5us"}, {"sync_io_cpu", "1us"}};
  s.vda     = {{"kick_cpu", "2us"}};
  s.fio     = {{"loop", loop}, {"submit_cpu", "3us"}, {"complete_cpu", "2us"}, {"cpus_allowed", "0"}};
  return s;
}
} // namespace

TEST(FioLoop, FiosOwnLoopHandsTheRingOneRequestAtATime)
{
  // fio's loop puts one request on the ring per call (7 us a call here: reap, submit, kick); a VMM thread faster than
  // that takes each one as it comes, so its passes carry one or two requests (the second arriving while the thread
  // wakes up). Batched, the replacements of a whole interrupt's completions reach the ring together, and the passes
  // carry several.
  pvsim::test::TempDir dir;
  double per_pass[2];
  const char* loops[2] = {"fio", "batched"};
  for (int l = 0; l < 2; ++l) {
    json r      = fctest::run(dir, fctest::scenario(fast_vmm(loops[l])), loops[l]);
    per_pass[l] = mean_pass(fctest::drive(r)["requests_per_pass"]);
    std::printf("loop %-7s: %.2f requests per VMM pass, %.0f IOPS\n", loops[l], per_pass[l],
                r["jobs"]["fio"]["iops"].get<double>());
  }
  EXPECT_LE(per_pass[0], 2.5);
  EXPECT_GE(per_pass[1], 2 * per_pass[0]);
}

TEST(FioLoop, LatencyRunsFromEachSubmissionAndLittlesLawGivesTheDepth)
{
  // fio takes an I/O's start time when it submits it and submits the replacement right after each reap, so IOPS x
  // mean latency = iodepth, as fio's own output shows (the shared traces: 15.98 at iodepth 16). A replacement whose
  // clock started only when its turn came would give less.
  FcStack s;
  s.iodepth   = 16;
  s.fc        = {{"sync_io_cpu", "8us"}};
  s.vda       = {{"kick_cpu", "20us"}};
  s.fio       = {{"loop", "fio"}};
  json r      = fctest::run(s);
  double iops = r["jobs"]["fio"]["iops"].get<double>();
  double lat  = r["jobs"]["fio"]["latency_us"]["mean"].get<double>() * 1e-6;
  std::printf("[theory] IOPS x mean latency = %.3f, expected 16 (+-1 %%)\n", iops * lat);
  EXPECT_NEAR(iops * lat, 16.0, 0.16);
}

TEST(FioLoop, AnOpenLoopKeepsItsRateAndEveryRequestAccountedFor)
{
  // rate_iops with fio's loop: arrivals wait for the call that is running, never for a free slot they have; the run
  // ends with submitted = completed + in flight (pvsim run checks it) at the rate asked.
  FcStack s;
  s.iodepth   = 8;
  s.fio       = {{"loop", "fio"}, {"rate_iops", 20000}, {"rate_process", "poisson"}};
  json r      = fctest::run(s);
  double iops = r["jobs"]["fio"]["iops"].get<double>();
  pvsim::test::expect_close("IOPS of a 20000 IOPS Poisson arrival stream", iops, 20000.0, 0.03);
}

TEST(FioLoop, ThinkTimeDelaysTheReplacementNotTheNextReap)
{
  // fio's thinktime after each completion: with 100 us of thinking per I/O and a fast stack, iodepth 1 runs at about
  // one I/O per (100 us + the I/O's own time); the loop keeps reaping meanwhile (nothing is left unreaped at the end).
  FcStack s;
  s.iodepth   = 1;
  s.fio       = {{"loop", "fio"}, {"think_time", "100us"}};
  json r      = fctest::run(s);
  double iops = r["jobs"]["fio"]["iops"].get<double>();
  double lat  = r["jobs"]["fio"]["latency_us"]["mean"].get<double>() * 1e-6;
  std::printf("[theory] IOPS %.0f = 1 / (100 us + mean latency %.1f us) = %.0f (+-2 %%)\n", iops, lat * 1e6,
              1 / (100e-6 + lat));
  pvsim::test::expect_close("IOPS with 100 us of think time", iops, 1 / (100e-6 + lat), 0.02);
}
