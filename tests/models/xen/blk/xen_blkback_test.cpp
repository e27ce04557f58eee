/* xen-blkback in a running simulation: the persistent-grant cap per ring (max_pgrants, blkback.c xen_blkbk_map())
 * and the late EOI of its event channel (xen_blkif_schedule(): xen_irq_lateeoi() after a pass that leaves no work). */
#include "tests/support/cli_support.hpp"

#include "models/xen/blk/xen_blkback.hpp"
#include "models/xen/blk/xen_blkfront.hpp"

using namespace pvsim;

namespace {
struct BackSetup {
  int vcpus = 2, dom0_cores = 1, numjobs = 1, iodepth = 1;
  std::string bs = "4KiB";
  json front = json::object(), back = json::object();
};

json scenario(const BackSetup& s)
{
  json front = {{"type", "xen.blkfront"}, {"vm", "domU"}, {"backend", "vbd"}, {"irq_affinity", "spread"}};
  front.update(s.front);
  json back = {{"type", "xen.blkback"}, {"cpus", "dom0"}, {"target", "nullb0"}};
  back.update(s.back);
  json comps = {{"host", {{"type", "cpu.host"}, {"cores", s.vcpus}}},
                {"dom0", {{"type", "cpu.host"}, {"cores", s.dom0_cores}}},
                {"domU", {{"type", "guest.vm"}, {"vcpus", s.vcpus}, {"pcpus", "host"}}},
                {"fio",
                 {{"type", "job.fio"},
                  {"vm", "domU"},
                  {"numjobs", s.numjobs},
                  {"iodepth", s.iodepth},
                  {"bs", s.bs},
                  {"target", "blkmq"}}},
                {"blkmq", {{"type", "blk_mq"}, {"vm", "domU"}, {"target", "xvda"}}},
                {"xvda", front},
                {"vbd", back},
                {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 1024}}}};
  return {{"name", "blkback"}, {"seed", 5}, {"duration_s", 0.02}, {"warmup_s", 0.002}, {"components", comps}};
}

/** Runs the scenario; `check` sees the frontend (its rings' channels) after the run. */
json run(const BackSetup& s, const std::function<void(xen::XenBlkfront&)>& check = {})
{
  Simulation sim(scenario_from_json(scenario(s), "blkback"));
  json r = sim.run();
  require_conservation(r);
  if (check)
    for (const auto& c : sim.components())
      if (auto* f = dynamic_cast<xen::XenBlkfront*>(c.get()))
        check(*f);
  return r;
}

/** 1 MiB requests as BLKIF_OP_INDIRECT of 256 segments and one indirect page: 257 grants each. */
BackSetup big_requests(int vcpus, int numjobs, int iodepth)
{
  BackSetup s;
  s.vcpus   = vcpus;
  s.numjobs = numjobs;
  s.iodepth = iodepth;
  s.bs      = "1MiB";
  s.front   = {{"max_indirect_segments", 256}};
  return s;
}
} // namespace

// ---- Persistent grants ----

TEST(XenBlkbackGrants, BelowTheCapTheRingMapsEachGrantOnceAndKeepsIt)
{
  json r  = run(big_requests(1, 1, 4)); // 4 x 257 = 1028 grants in flight, below 1056
  auto k0 = r["components"]["vbd"]["kthreads"][0];
  EXPECT_EQ(k0["persistent_grants"], 1028);
  EXPECT_EQ(k0["grant_maps"], 0); // all mapped during the warm-up
  EXPECT_EQ(k0["grant_unmaps"], 0);
  EXPECT_GT(k0["persistent_grant_hits"].get<double>(), 50 * 257);
  EXPECT_FALSE(k0["persistent_grants_full"].get<bool>());
}

TEST(XenBlkbackGrants, After1056PersistentGrantsBlkbackMapsAndUnmapsPerRequest)
{
  json r  = run(big_requests(1, 1, 6)); // 6 x 257 = 1542 grants in flight
  auto k0 = r["components"]["vbd"]["kthreads"][0];
  EXPECT_EQ(k0["persistent_grants"], 1056);
  EXPECT_TRUE(k0["persistent_grants_full"].get<bool>());
  double requests = r["queues"]["nullb0"]["requests"].get<double>();
  double unmaps   = k0["grant_unmaps"].get<double>();
  EXPECT_EQ(k0["grant_maps"], k0["grant_unmaps"]); // the tree is full: every grant mapped is unmapped after its request
  EXPECT_GT(unmaps / requests, 50);                // some 486 of the 1542 grants in flight are not persistent
  EXPECT_LT(unmaps / requests, 257);
}

TEST(XenBlkbackGrants, TheCapIsPerRing)
{
  BackSetup s  = big_requests(2, 2, 3); // one job per vCPU, hence per ring: 3 x 257 = 771 grants in flight on each
  s.dom0_cores = 2;
  json r       = run(s);
  auto k       = r["components"]["vbd"]["kthreads"];
  ASSERT_EQ(k.size(), 2u);
  for (int q = 0; q < 2; ++q) { // 1542 persistent grants in all, above 1056, but each ring is below it
    EXPECT_EQ(k[q]["persistent_grants"], 771) << q;
    EXPECT_EQ(k[q]["grant_unmaps"], 0) << q;
  }
}

TEST(XenBlkbackGrants, AtDepthOneTheSameGrantsComeBack)
{
  json r  = run(big_requests(1, 1, 1));
  auto k0 = r["components"]["vbd"]["kthreads"][0];
  EXPECT_EQ(k0["persistent_grants"], 257); // of the 32 x 257 grants of the frontend's list
  EXPECT_EQ(k0["grant_maps"], 0);
}

TEST(XenBlkbackGrants, ALowerCapMakesTheMappingCostDom0Cpu)
{
  BackSetup s     = big_requests(1, 1, 2); // 2 x 257 grants in flight, room for 257 persistent ones
  s.back          = {{"max_pgrants", 257}, {"map_segment_cpu", "1us"}, {"persistent_segment_cpu", "0us"}};
  json r          = run(s);
  auto k0         = r["components"]["vbd"]["kthreads"][0];
  double requests = r["queues"]["nullb0"]["requests"].get<double>();
  EXPECT_EQ(k0["persistent_grants"], 257);
  double maps_per_request = k0["grant_maps"].get<double>() / requests;
  EXPECT_GT(maps_per_request, 30); // the grants beyond the 257, for the request and unmapped after it
  EXPECT_EQ(k0["grant_maps"], k0["grant_unmaps"]);
  double cpu_per_request = r["components"]["dom0"]["cpu_s"].get<double>() / requests;
  EXPECT_GT(cpu_per_request, maps_per_request * 1e-6); // 1 us a map; with every grant persistent, a few us in all
}

// ---- Late EOI ----

namespace {
/** Watches ring 0 of a one-request-at-a-time run whose backend passes are long (request_cpu 50 us): as soon as an
 * upcall has woken the kthread, it has the frontend notify once more, then checks what that did when the notification
 * arrives, when the kthread has finished (late EOI: its EOI sent), and at the next ordinary notification. */
struct EoiProbe : EventTarget {
  enum Phase { wait_for_pass, arrived, wait_for_eoi, wait_for_next, done };
  Simulation& sim;
  xen::XenBlkfront* front = nullptr;
  xen::XenBlkback* back   = nullptr;
  bool late_eoi;
  Phase phase                = wait_for_pass;
  std::uint64_t last_wakeups = ~0ull;
  std::uint64_t upcalls = 0, deferred = 0, on_eoi = 0, wakeups = 0;

  EoiProbe(Simulation& s, bool late) : sim(s), late_eoi(late)
  {
    for (const auto& c : sim.components()) {
      if (auto* f = dynamic_cast<xen::XenBlkfront*>(c.get()))
        front = f;
      if (auto* b = dynamic_cast<xen::XenBlkback*>(c.get()))
        back = b;
    }
  }
  xen::XenChannel& channel() { return front->queue(0).channel; }
  bool eoi_due() { return channel().lateeoi_pending(xen::XenChannel::End::backend); }
  std::uint64_t wakeups_now() { return front->queue(0).backend_wakeups.get(); }
  void poll(double after_s) { sim.events().schedule_in(after_s, this, 0); }

  void on_event(int, Request*) override
  {
    const auto& port = channel().backend();
    switch (phase) {
    case wait_for_pass:
      if (last_wakeups != ~0ull and wakeups_now() != last_wakeups) { // an upcall has just woken the kthread
        upcalls  = port.upcalls();
        deferred = port.notifications_deferred();
        on_eoi   = port.upcalls_raised_on_unmask();
        wakeups  = wakeups_now();
        back->notify_from_frontend(0); // arrives after evtchn_latency (2 us), well inside the 50 us pass
        phase = arrived;
        poll(3e-6);
        return;
      }
      last_wakeups = wakeups_now();
      poll(0.5e-6);
      return;
    case arrived:
      if (late_eoi) {
        EXPECT_TRUE(eoi_due());
        EXPECT_EQ(port.upcalls(), upcalls);                     // no upcall ...
        EXPECT_EQ(port.notifications_deferred(), deferred + 1); // ... the port is left pending
      } else {
        EXPECT_EQ(port.upcalls(), upcalls + 1); // the EOI was sent as the handler returned: raised at once
        EXPECT_EQ(port.notifications_deferred(), deferred);
      }
      EXPECT_EQ(wakeups_now(), wakeups); // the kthread is awake: no wake-up either way
      phase = late_eoi ? wait_for_eoi : wait_for_next;
      poll(1e-6);
      return;
    case wait_for_eoi:
      if (eoi_due()) {
        poll(1e-6);
        return;
      }
      // The kthread finished its passes and sent its EOI.
      EXPECT_EQ(port.upcalls(), upcalls + 1);
      EXPECT_EQ(port.upcalls_raised_on_unmask(), on_eoi + (late_eoi ? 1 : 0)); // late: raised by the EOI
      EXPECT_EQ(wakeups_now(), wakeups); // and it went round again without being woken
      phase = wait_for_next;
      poll(1e-6);
      return;
    case wait_for_next:
      if (port.upcalls() == upcalls + 1) {
        poll(1e-6);
        return;
      }
      // The next notification, after the EOI: raised at once, it wakes the sleeping kthread; nothing was pending.
      EXPECT_EQ(port.upcalls(), upcalls + 2);
      EXPECT_EQ(port.upcalls_raised_on_unmask(), on_eoi + (late_eoi ? 1 : 0));
      EXPECT_EQ(wakeups_now(), wakeups + 1);
      phase = done;
      return;
    case done:
      return;
    }
  }
};

/** `late_eoi`: what the backend is expected to do; `back`: its parameters beyond the long passes. */
void run_eoi_probe(bool late_eoi, json back)
{
  BackSetup s; // one request at a time, long passes
  s.back = {{"request_cpu", "50us"}};
  s.back.update(back);
  Simulation sim(scenario_from_json(scenario(s), "blkback"));
  EoiProbe probe(sim, late_eoi);
  ASSERT_NE(probe.front, nullptr);
  sim.on_engine_ready([&] { sim.events().schedule_at(0.005, &probe, 0); }); // after the warm-up
  json r = sim.run();
  require_conservation(r);
  EXPECT_EQ(probe.phase, EoiProbe::done);
}
} // namespace

TEST(XenBlkbackLateEoi, ANotificationWhileTheKthreadWorksRaisesNoUpcallUntilTheEoiAndNoWakeUp)
{
  run_eoi_probe(true, {{"late_eoi", "on"}});
}

TEST(XenBlkbackLateEoi, WithAnEarlyEoiANotificationWhileTheKthreadWorksRaisesItsUpcallAtOnce)
{
  run_eoi_probe(false, {{"late_eoi", "off"}});
}

TEST(XenBlkbackLateEoi, ADom0Before510EoisAsTheHandlerReturnsByDefault)
{
  run_eoi_probe(false, {{"kernel", "4.19"}});
}

TEST(XenBlkbackLateEoi, ADom0From510DefersTheEoiByDefault)
{
  run_eoi_probe(true, {{"kernel", "5.10"}});
}

TEST(XenBlkbackLateEoi, OneRequestAtATimeTheEoiFindsNothingPending)
{
  BackSetup s; // depth 1: the kthread is asleep, its EOI sent, whenever the frontend notifies
  json r    = run(s, [](xen::XenBlkfront& f) {
    const auto& port = f.queue(0).channel.backend();
    EXPECT_EQ(port.notifications_deferred(), 0u);
    EXPECT_EQ(port.upcalls_raised_on_unmask(), 0u);
  });
  auto ring = r["components"]["xvda"]["rings"][0];
  EXPECT_GT(ring["requests_notified"].get<int>(), 100);
  EXPECT_EQ(ring["backend_upcalls"], ring["requests_notified"]);
  EXPECT_EQ(ring["backend_wakeups"], ring["backend_upcalls"]);
}
