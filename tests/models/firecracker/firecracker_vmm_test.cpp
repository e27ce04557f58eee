/* firecracker.vmm's event loop as the guest sees it (models/firecracker/firecracker_vmm.hpp): since v1.13 the used
 * ring advances and one interrupt is decided per queue pass, before v1.13 after every request; the guest kicks at
 * most once per pass; one thread serves every drive of the microVM, and a Sync miss blocks all of them; virtio-mmio
 * costs the guest two exits per interrupt. Each test runs `pvsim run` (fc_stack.hpp). */
#include "tests/models/firecracker/fc_stack.hpp"

using namespace pvsim;
using pvsim::fctest::FcStack;

TEST(FirecrackerVmm, EveryInterruptCarriesAWholePass)
{
  // Sync, 1.13: used.idx and prepare_kick once at the end of process_queue, so an irqfd write for each pass that
  // used something (the guest's used_event is always re-armed by then) and the guest takes the whole pass at once.
  FcStack s;
  s.iodepth          = 64;
  json r             = fctest::run(s);
  auto& dr           = fctest::drive(r);
  auto& vq           = fctest::virtqueue(r);
  double used_passes = fctest::nonempty_passes(dr["requests_per_pass"]);
  long long largest  = fctest::largest_pass(dr["requests_per_pass"]);
  std::printf("[theory] irqfd writes = passes that used something: %g vs %g; largest pass %lld, most per interrupt "
              "%g\n",
              vq["notifications"].get<double>(), used_passes, largest, vq["max_used_per_interrupt"].get<double>());
  EXPECT_EQ(vq["notifications"].get<double>(), used_passes);
  EXPECT_NEAR(vq["interrupts"].get<double>() + vq["interrupts_coalesced"].get<double>(),
              vq["notifications"].get<double>(), 1.0); // an interrupt in flight at the window's end
  EXPECT_GE(largest, 32) << "at iodepth 64 passes carry many requests";
  EXPECT_EQ(vq["max_used_per_interrupt"].get<long long>(), largest);
  EXPECT_EQ(vq["handler_passes"], dr["passes"]);
}

TEST(FirecrackerVmm, TheGuestKicksAtMostOncePerPass)
{
  // pop_or_enable_notification writes avail_event only when it finds the avail ring empty, at the end of a pass: the
  // driver's vring_need_event() is true once per pass at most.
  FcStack s;
  s.iodepth     = 64;
  json r        = fctest::run(s);
  auto& vq      = fctest::virtqueue(r);
  double passes = fctest::drive(r)["passes"].get<double>();
  std::printf("[theory] kicks %g <= passes + 1 = %g (suppressed %g)\n", vq["kicks"].get<double>(), passes + 1,
              vq["kicks_suppressed"].get<double>());
  EXPECT_LE(vq["kicks"].get<double>(), passes + 1);
  EXPECT_GT(vq["kicks_suppressed"].get<double>(), vq["kicks"].get<double>());
}

TEST(FirecrackerVmm, Version10InterruptsPerRequestAndOverlapsTheGuest)
{
  // Up to v1.12 add_used_descriptor() advanced used.idx and called prepare_kick after each request: more
  // interrupts per request than 1.13's one per pass, and the guest completes and resubmits while the VMM goes on.
  pvsim::test::TempDir dir;
  double per_request[2], iops[2];
  const char* versions[2] = {"1.0", "1.13"};
  for (int v = 0; v < 2; ++v) {
    FcStack s;
    s.iodepth      = 32;
    s.fc           = {{"version", versions[v]}};
    json r         = fctest::run(dir, fctest::scenario(s), std::string("v") + versions[v]);
    iops[v]        = r["jobs"]["fio"]["iops"].get<double>();
    per_request[v] = fctest::virtqueue(r)["interrupts"].get<double>() / r["jobs"]["fio"]["requests"].get<double>();
    std::printf("version %-4s: %.4f interrupts per request, %.0f IOPS\n", versions[v], per_request[v], iops[v]);
  }
  EXPECT_GT(per_request[0], 2 * per_request[1]);
  EXPECT_GE(iops[0], iops[1]);
}

TEST(FirecrackerVmm, Version10SignalsARequestAsSoonAsItsIoIsDone)
{
  // v1.12 process_queue: request.process() (the Sync I/O), then add_used_descriptor() -> prepare_kick() ->
  // trigger_irq() before the next pop. With 50 us of I/O per request the VMM thread is the bottleneck: it never finds
  // the ring empty (one endless pass), every request gets its own interrupt as soon as its I/O is done, and each
  // waits for the 7 others in flight: latency = 8 x (50 us + the irqfd write, 1 us) exactly.
  FcStack s;
  s.iodepth    = 8;
  s.fc         = {{"version", "1.0"}, {"sync_io_cpu", "50us"}, {"request_cpu", "0us"}};
  json r       = fctest::run(s);
  double lat   = r["jobs"]["fio"]["latency_us"]["mean"].get<double>();
  const json q = fctest::virtqueue(r);
  std::printf("[theory] latency %.1f us = 8 x 51 us = 408 us (+-0.5); %.0f interrupts for %.0f requests\n", lat,
              q["interrupts"].get<double>(), r["jobs"]["fio"]["requests"].get<double>());
  EXPECT_NEAR(lat, 408.0, 0.5);
  EXPECT_EQ(q["max_used_per_interrupt"].get<double>(), 1.0);
  EXPECT_GE(q["interrupts"].get<double>(), r["jobs"]["fio"]["requests"].get<double>());
}

TEST(FirecrackerVmm, OneThreadForSeveralDrivesSaturatesFirst)
{
  // Two drives at depth 32, Sync from the page cache (request_cpu 1.5 us + sync_io_cpu 20 us per request): one VMM
  // thread for both serves at most 1 / 21.5 us in total; a VMM each doubles the ceiling.
  pvsim::test::TempDir dir;
  json fc = {{"sync_io_cpu", "20us"}};
  double sum[2];
  for (int shared = 0; shared < 2; ++shared) {
    json r      = fctest::run(dir, fctest::two_drives(shared == 1, 32, fc), shared ? "shared" : "own");
    sum[shared] = r["jobs"]["fio_a"]["iops"].get<double>() + r["jobs"]["fio_b"]["iops"].get<double>();
  }
  double ceiling = 1 / (1.5e-6 + 20e-6);
  std::printf("[theory] one thread: %.0f IOPS <= %.0f (+1%% for the window's edges); a thread each: %.0f\n", sum[1],
              ceiling, sum[0]);
  EXPECT_LE(sum[1], ceiling * 1.01);
  pvsim::test::expect_close("one thread for two drives: IOPS at its ceiling", sum[1], ceiling, 0.03);
  EXPECT_GT(sum[0], 1.5 * sum[1]);
}

TEST(FirecrackerVmm, ASyncMissBlocksEveryDriveOfTheThread)
{
  // Nothing in the page cache; drive a's device takes 1 ms, drive b's 10 us. Sharing the thread, b waits behind every
  // blocking read of a: at most about one request per millisecond each. On its own thread b runs at its own pace.
  pvsim::test::TempDir dir;
  json fc   = {{"page_cache_hit", 0}};
  json slow = fctest::parallel_device(64, "1ms");
  double b[2];
  for (int shared = 0; shared < 2; ++shared) {
    json r    = fctest::run(dir, fctest::two_drives(shared == 1, 8, fc, slow), shared ? "shared" : "own");
    b[shared] = r["jobs"]["fio_b"]["iops"].get<double>();
  }
  std::printf("drive b: %.0f IOPS sharing the thread with the 1 ms drive, %.0f on its own thread\n", b[1], b[0]);
  EXPECT_LE(b[1], 1.1 / 1e-3);
  EXPECT_GT(b[0], 20 * b[1]);
}

TEST(FirecrackerVmm, MmioChargesTheInterruptAckOnTheVcpu)
{
  // virtio-mmio: vm_interrupt() reads INTERRUPT_STATUS and writes INTERRUPT_ACK, irq_ack_cpu (8 us) per interrupt on
  // the interrupt's vCPU (1); MSI-X needs neither. Open loop (4000 IOPS) so both runs take the same interrupts.
  pvsim::test::TempDir dir;
  double busy[2], interrupts[2], window = 0;
  const char* transports[2] = {"pci", "mmio"};
  for (int t = 0; t < 2; ++t) {
    FcStack s;
    s.iodepth     = 8;
    s.vda         = {{"transport", transports[t]}};
    s.fio         = {{"rate_iops", 4000}, {"cpus_allowed", "0"}};
    json r        = fctest::run(dir, fctest::scenario(s), transports[t]);
    auto& vq      = fctest::virtqueue(r);
    window        = r["window_s"].get<double>();
    interrupts[t] = vq["interrupts"].get<double>();
    EXPECT_EQ(vq["irq_vcpu"], 1);
    busy[t] = r["components"]["guest"]["vcpus"][1]["utilization"].get<double>() * window;
  }
  ASSERT_EQ(interrupts[0], interrupts[1]);
  pvsim::test::expect_close("vCPU 1 utilization added by virtio-mmio", (busy[1] - busy[0]) / window,
                            interrupts[1] * 8e-6 / window, 0.01);
}
