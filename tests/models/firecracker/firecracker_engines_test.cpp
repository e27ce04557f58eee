/* firecracker.vmm's I/O engines: Sync does each request's I/O on the VMM thread, blocking, one at a time; Async
 * (io_uring) keeps many on the device but never more ops than its completion queue holds (2 x io_uring_entries) nor
 * more unsubmitted than its submission queue (io_uring_entries); a Sync write that sleeps in its syscall
 * (sync_write_wait) holds the thread. Conservation and determinism of both. Each test runs
 * `pvsim run` (fc_stack.hpp). */
#include "tests/models/firecracker/fc_stack.hpp"

using namespace pvsim;
using pvsim::fctest::FcStack;

namespace {
// firecracker.vmm defaults: request_cpu 1.5 us, sync_io_cpu 3 us.
constexpr double service_s     = 100e-6;
constexpr double per_request_s = 1.5e-6 + 3e-6;

/** Every request misses the page cache and goes to a device of 64 channels serving each in 100 us. */
FcStack misses(const std::string& engine, int iodepth)
{
  FcStack s;
  s.iodepth  = iodepth;
  s.duration = 0.5;
  s.fc       = {{"io_engine", engine}, {"page_cache_hit", 0}};
  s.disk     = fctest::parallel_device(64, "100us");
  return s;
}
} // namespace

TEST(FirecrackerEngines, SyncServesOneRequestAtATimeWhateverTheDepth)
{
  // SyncFileEngine::read blocks the thread for the device's 100 us, then the copy: IOPS <= 1 / (100 us + 4.5 us) at
  // any depth (+1 % for a pass across the window's edges), the device's 64 channels unused. At depth 64 the per-pass
  // costs and the guest's turn are spread over 64 requests: close to the bound.
  pvsim::test::TempDir dir;
  double bound = 1 / (service_s + per_request_s);
  for (int depth : {4, 64}) {
    json r      = fctest::run(dir, fctest::scenario(misses("Sync", depth)), "qd" + std::to_string(depth));
    double iops = r["jobs"]["fio"]["iops"].get<double>();
    std::printf("[theory] Sync, iodepth %2d: %.0f IOPS <= %.0f\n", depth, iops, bound);
    EXPECT_LE(iops, bound * 1.01) << "iodepth " << depth;
    if (depth == 64)
      pvsim::test::expect_close("Sync at iodepth 64: one request at a time", iops, bound, 0.05);
  }
}

TEST(FirecrackerEngines, AsyncKeepsTheDevicesChannelsBusy)
{
  // The same device through io_uring: the misses of a pass are submitted together and overlap on the device.
  json r      = fctest::run(misses("Async", 64));
  double iops = r["jobs"]["fio"]["iops"].get<double>();
  double sync = 1 / (service_s + per_request_s);
  std::printf("Async at iodepth 64: %.0f IOPS, %.1f x Sync's ceiling %.0f\n", iops, iops / sync, sync);
  EXPECT_GT(iops, 5 * sync);
  EXPECT_GT(fctest::drive(r)["max_io_uring_ops"].get<double>(), 16);
}

TEST(FirecrackerEngines, AsyncHoldsAtMostTwiceItsEntriesInFlight)
{
  // io_uring_entries 8: IoUring::push fails (FullCQueue) at 16 ops not reaped and (FullSq) at 8 unsubmitted, the pass
  // ends Throttled and the completion handler resumes it. With a 1 ms device and 64 requests waiting, 16 ops stay in
  // flight: Little's law gives 16 / 1 ms.
  FcStack s;
  s.iodepth   = 64;
  s.fc        = {{"io_engine", "Async"}, {"page_cache_hit", 0}, {"io_uring_entries", 8}};
  s.disk      = fctest::parallel_device(64, "1ms");
  json r      = fctest::run(s);
  auto& dr    = fctest::drive(r);
  double most = dr["max_io_uring_ops"].get<double>();
  std::printf("[theory] most io_uring ops in flight: expected 16, got %g; throttled passes %g\n", most,
              dr["io_uring_throttled"].get<double>());
  EXPECT_LE(most, 16);
  EXPECT_EQ(most, 16);
  EXPECT_GT(dr["io_uring_throttled"].get<double>(), 0);
  EXPECT_LE(fctest::largest_pass(dr["requests_per_pass"]), 8) << "a pass pushes at most the SQ's 8 entries";
  pvsim::test::expect_close("IOPS with 16 ops in flight on a 1 ms device", r["jobs"]["fio"]["iops"].get<double>(),
                            16 / 1e-3, 0.05);
}

namespace {
/** A run that goes through every path of the engine: page-cache hits and misses, the rate limiter, and for Async a
 * small ring that throttles. */
json busy_run(const std::string& engine)
{
  FcStack s;
  s.iodepth = 48;
  s.fc      = {{"io_engine", engine},        {"page_cache_hit", 0.5},
               {"io_uring_entries", 16},     {"ops_size", 2000},
               {"ops_refill_time", "100ms"}, {"wakeup_latency", {{"dist", "exponential"}, {"mean", "5us"}}}};
  s.disk    = {
         {"type", "device.parallel"}, {"channels", 8}, {"read_service", {{"dist", "exponential"}, {"mean", "50us"}}}};
  return fctest::scenario(s);
}

void expect_conserved(const json& r)
{
  ASSERT_TRUE(r.contains("conservation"));
  EXPECT_TRUE(r["conservation"]["ok"].get<bool>()) << r["conservation"].dump(1);
  for (const auto& [name, c] : r["conservation"]["components"].items()) {
    EXPECT_TRUE(c["ok"].get<bool>()) << name;
    EXPECT_EQ(c["issued"].get<long long>(), c["completed"].get<long long>() + c["in_flight"].get<long long>()) << name;
  }
  EXPECT_GT(r["conservation"]["components"]["vda.vq0"]["completed"].get<double>(), 1000);
  EXPECT_FALSE(r["liveness"]["stalled"].get<bool>());
}
} // namespace

TEST(FirecrackerEngines, SyncConservesRequests)
{
  pvsim::test::TempDir dir;
  json r = fctest::run(dir, busy_run("Sync"));
  EXPECT_GT(fctest::drive(r)["page_cache_misses"].get<double>(), 0);
  EXPECT_GT(fctest::drive(r)["rate_limited"].get<double>(), 0);
  expect_conserved(r);
}

TEST(FirecrackerEngines, AsyncConservesRequests)
{
  pvsim::test::TempDir dir;
  json r = fctest::run(dir, busy_run("Async"));
  EXPECT_GT(fctest::drive(r)["io_uring_throttled"].get<double>(), 0);
  EXPECT_GT(fctest::drive(r)["rate_limited"].get<double>(), 0);
  expect_conserved(r);
}

TEST(FirecrackerEngines, TheSameSeedGivesByteIdenticalResults)
{
  // Both engines in one scenario (a Sync VMM for vda, an Async one for vdb), random hits, service and wake-ups.
  pvsim::test::TempDir dir;
  json fc = {{"page_cache_hit", 0.5}, {"wakeup_latency", {{"dist", "exponential"}, {"mean", "5us"}}}};
  json sc = fctest::two_drives(false, 16, fc, fctest::parallel_device(4, "50us"), fctest::parallel_device(4, "50us"));
  sc["components"]["fc_b"]["io_engine"]      = "Async";
  sc["components"]["disk_a"]["read_service"] = {{"dist", "exponential"}, {"mean", "50us"}};
  sc["components"]["disk_b"]["read_service"] = {{"dist", "exponential"}, {"mean", "50us"}};
  auto file                                  = dir.write("s.json", sc.dump());
  for (const char* out : {"a", "b"}) {
    auto res = pvsim::test::run_pvsim("run -q " + file + " -o " + dir.file(out));
    ASSERT_EQ(res.exit_code, 0) << res.output;
  }
  std::string a = pvsim::test::read_file(dir.file("a/results.json"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, pvsim::test::read_file(dir.file("b/results.json")));
}

TEST(FirecrackerEngines, ASyncWriteThatSleepsHoldsTheThreadForItsWaitAndWakeUp)
{
  // Every write's syscall sleeps 50 us after its copy into the page cache (sync_write_wait), then the thread pays
  // its wake-up (wakeup_cpu 3 us): one write at a time, IOPS <= 1 / (request_cpu + sync_io_cpu + 50 us + 3 us) at
  // any depth, and close to it at iodepth 64. Every write counts one wait of 50 us; they stay page-cache hits.
  pvsim::test::TempDir dir;
  FcStack s;
  s.iodepth   = 64;
  s.duration  = 0.5;
  s.fio       = {{"rw", "randwrite"}};
  s.fc        = {{"sync_write_wait", "50us"}};
  json r      = fctest::run(dir, fctest::scenario(s), "writes");
  double iops = r["jobs"]["fio"]["iops"].get<double>();
  double wait = 50e-6, bound = 1 / (per_request_s + wait + 3e-6);
  auto& dr = fctest::drive(r);
  std::printf("[theory] Sync writes sleeping 50 us, iodepth 64: %.0f IOPS <= %.0f; %g waits for %g hits\n", iops, bound,
              dr["write_waits"].get<double>(), dr["page_cache_hits"].get<double>());
  EXPECT_LE(iops, bound * 1.01);
  pvsim::test::expect_close("Sync writes at iodepth 64: one at a time, each holding the thread", iops, bound, 0.05);
  EXPECT_EQ(dr["page_cache_misses"].get<double>(), 0.0);
  EXPECT_NEAR(dr["write_waits"].get<double>(), dr["page_cache_hits"].get<double>(), 1.0);
  EXPECT_NEAR(dr["write_wait_s"].get<double>(), wait * dr["write_waits"].get<double>(), 1e-9);
}

TEST(FirecrackerEngines, ReadsDoNotTakeTheWritesWait)
{
  // The same thread and wait, reads: SyncFileEngine::read copies from the page cache and returns; no wait is
  // counted, and IOPS are far above the writes' bound.
  pvsim::test::TempDir dir;
  FcStack s;
  s.iodepth   = 64;
  s.fc        = {{"sync_write_wait", "50us"}};
  json r      = fctest::run(dir, fctest::scenario(s), "reads");
  double iops = r["jobs"]["fio"]["iops"].get<double>();
  std::printf("[check] reads with sync_write_wait 50 us: %.0f IOPS (the writes' bound %.0f), %g waits\n", iops,
              1 / (per_request_s + 53e-6), fctest::drive(r)["write_waits"].get<double>());
  EXPECT_EQ(fctest::drive(r)["write_waits"].get<double>(), 0.0);
  EXPECT_GT(iops, 3 / (per_request_s + 53e-6));
}
