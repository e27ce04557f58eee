/* The Xen grant table lock that xen-blkback's map ops take (models/xen/blk/grant_table_lock.hpp): a spinlock per guest
 * up to Xen 4.5, the read lock's word in 4.6, nothing from 4.7; shared by every backend of the guest. */
#include "tests/support/cli_support.hpp"

#include "models/xen/blk/xen_blkback.hpp"

using namespace pvsim;

namespace {
struct LockSetup {
  int vcpus = 2, dom0_cores = 2, numjobs = 2, iodepth = 16, disks = 1;
  std::string bs  = "64KiB";
  bool persistent = false;
  double duration = 0.02;
  json back       = json::object();
};

json scenario(const LockSetup& s)
{
  json comps = {{"host", {{"type", "cpu.host"}, {"cores", s.vcpus}}},
                {"dom0", {{"type", "cpu.host"}, {"cores", s.dom0_cores}}},
                {"domU", {{"type", "guest.vm"}, {"vcpus", s.vcpus}, {"pcpus", "host"}}}};
  for (int d = 0; d < s.disks; ++d) {
    std::string n = std::to_string(d);
    json back     = {{"type", "xen.blkback"}, {"cpus", "dom0"}, {"target", "nullb" + n}};
    back.update(s.back);
    comps["fio" + n]   = {{"type", "job.fio"},    {"vm", "domU"}, {"numjobs", s.numjobs},
                          {"iodepth", s.iodepth}, {"bs", s.bs},   {"target", "blkmq" + n}};
    comps["blkmq" + n] = {{"type", "blk_mq"}, {"vm", "domU"}, {"target", "xvd" + n}};
    comps["xvd" + n]   = {{"type", "xen.blkfront"},
                          {"vm", "domU"},
                          {"backend", "vbd" + n},
                          {"irq_affinity", "spread"},
                          {"feature_persistent", s.persistent}};
    comps["vbd" + n]   = back;
    comps["nullb" + n] = {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 1024}};
  }
  return {{"name", "gnttab"}, {"seed", 5}, {"duration_s", s.duration}, {"warmup_s", 0.002}, {"components", comps}};
}

json run(const LockSetup& s)
{
  Simulation sim(scenario_from_json(scenario(s), "gnttab"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

/** The same through `pvsim run`, for a test that compares two runs (one simulation per process). */
json run_cli(const LockSetup& s)
{
  test::TempDir dir;
  std::string file = dir.write("scenario.json", scenario(s).dump());
  auto r           = test::run_pvsim("run " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(test::read_file(dir.file("out/results.json")));
}

double requests(const json& r, const std::string& dev = "nullb0")
{
  return r["queues"][dev]["requests"].get<double>();
}

/** Grants the backend mapped in the window, over its rings. */
double grant_maps(const json& r, const std::string& back)
{
  double n = 0;
  for (const auto& k : r["components"][back]["kthreads"])
    n += k["grant_maps"].get<double>();
  return n;
}
} // namespace

TEST(XenGrantTableLock, Xen45TwoRingsOnTwoDom0CoresContendAndLoseIops)
{
  LockSetup s;
  s.back    = {{"xen", "4.5"}};
  json on   = run_cli(s);
  s.back    = {{"xen", "4.5"}, {"grant_lock", "off"}};
  json off  = run_cli(s);
  auto lock = on["components"]["vbd0"]["grant_table_lock"];
  ASSERT_TRUE(lock.is_object());
  EXPECT_EQ(lock["mechanism"], "spinlock");
  EXPECT_EQ(lock["kind"], "ticket");
  EXPECT_GT(lock["contended"].get<double>(), 0);
  EXPECT_GT(lock["wait_s"].get<double>(), 0);
  // One acquisition per grant mapped (maps count at dispatch, acquisitions as they run: the warm-up's edge differs).
  EXPECT_NEAR(lock["acquisitions"].get<double>() / grant_maps(on, "vbd0"), 1, 0.01);
  // The kthreads are the bottleneck (16 grants of 1.5 us a request): the spinning and the lock word's transfers
  // (about 4 % of their time here) come off the IOPS.
  EXPECT_LT(requests(on), 0.99 * requests(off));
  EXPECT_FALSE(off["components"]["vbd0"].contains("grant_table_lock"));
}

TEST(XenGrantTableLock, Xen47HasNoSharedLockAndRunsExactlyAsWithTheLockOff)
{
  LockSetup s;
  s.back   = {{"xen", "4.7"}};
  json on  = run_cli(s);
  s.back   = {{"xen", "4.5"}, {"grant_lock", "off"}};
  json off = run_cli(s);
  EXPECT_FALSE(on["components"]["vbd0"].contains("grant_table_lock"));
  EXPECT_EQ(on["queues"], off["queues"]);
  EXPECT_EQ(on["components"]["dom0"], off["components"]["dom0"]);
  EXPECT_EQ(on["components"]["vbd0"]["kthreads"], off["components"]["vbd0"]["kthreads"]);
  EXPECT_EQ(on["components"]["xvd0"], off["components"]["xvd0"]);
}

TEST(XenGrantTableLock, WithPersistentGrantsNoMapTakesTheLockAfterTheWarmUp)
{
  LockSetup s;
  s.persistent = true; // 2 rings x 16 x 16 grants in flight: each ring's 256 fit in its tree
  s.back       = {{"xen", "4.5"}};
  json r       = run(s);
  auto lock    = r["components"]["vbd0"]["grant_table_lock"];
  ASSERT_TRUE(lock.is_object()); // the mechanism is there: the warm-up's maps took it
  EXPECT_EQ(grant_maps(r, "vbd0"), 0);
  EXPECT_EQ(lock["acquisitions"], 0);
  EXPECT_EQ(lock["wait_s"], 0);
  EXPECT_GT(requests(r), 1000);
}

TEST(XenGrantTableLock, TwoDisksOfOneGuestShareOneLock)
{
  LockSetup s;
  s.disks   = 2;
  s.numjobs = 1;
  s.back    = {{"xen", "4.5"}};
  json r    = run(s);
  auto lock = r["components"]["vbd0"]["grant_table_lock"]; // vbd0 comes first in component order: it owns it
  ASSERT_TRUE(lock.is_object());
  EXPECT_FALSE(r["components"]["vbd1"].contains("grant_table_lock"));
  EXPECT_EQ(lock["backends"], json::array({"vbd0", "vbd1"}));
  EXPECT_NEAR(lock["acquisitions"].get<double>() / (grant_maps(r, "vbd0") + grant_maps(r, "vbd1")), 1, 0.01);
  EXPECT_GT(grant_maps(r, "vbd1"), 0);
  EXPECT_GT(lock["contended"].get<double>(), 0);
}

TEST(XenGrantTableLock, BackendsOfOneGuestMustAgreeOnTheHypervisor)
{
  LockSetup s;
  s.disks                         = 2;
  s.back                          = {{"xen", "4.5"}};
  json sc                         = scenario(s);
  sc["components"]["vbd1"]["xen"] = "4.6";
  Simulation sim(scenario_from_json(sc, "gnttab"));
  EXPECT_ANY_THROW(sim.run());
}

TEST(XenGrantTableLock, TheHoldIsAPartOfTheMapCost)
{
  LockSetup s;
  s.back = {{"xen", "4.5"}, {"map_segment_cpu", "1.5us"}, {"gnttab_lock_hold", "2us"}};
  EXPECT_ANY_THROW({
    Simulation sim(scenario_from_json(scenario(s), "gnttab"));
    sim.run();
  });
}

TEST(XenGrantTableLock, Xen46ReadLocksMoveTheWordWithoutExclusion)
{
  LockSetup s;
  s.back    = {{"xen", "4.6"}};
  json r    = run(s);
  auto lock = r["components"]["vbd0"]["grant_table_lock"];
  ASSERT_TRUE(lock.is_object());
  EXPECT_EQ(lock["mechanism"], "read_lock_word");
  // Nothing held but the line on its way to a core: readers do not exclude each other.
  EXPECT_LE(lock["hold_s"].get<double>(), lock["line_transfers"].get<double>() * 45e-9 * (1 + 1e-9));
  // One access per map op and per unmap op (persistent grants off: every grant is both).
  EXPECT_NEAR(lock["acquisitions"].get<double>() / (2 * grant_maps(r, "vbd0")), 1, 0.01);
  EXPECT_GT(lock["line_transfers"].get<double>(), 0); // the word moves between the two kthreads' cores
  EXPECT_LE(lock["line_transfers"].get<double>(), lock["acquisitions"].get<double>());
}

// Closed form: N kthreads that do nothing but map grants (no CPU outside the lock) keep the ticket lock always
// wanted, N - 1 spinning at each release: acquisitions saturate at 1 / (hold + N / 2 x transfer)
// (sim/spin_lock.hpp; Boyd-Wickizer et al.'s linear handoff).
TEST(XenGrantTableLock, MappingKthreadsSaturateTheLockAtOneOverHoldPlusHandover)
{
  const int n       = 4;
  const double hold = 1e-6, transfer = 45e-9; // cpu.host's default line_transfer
  LockSetup s;
  s.vcpus = s.dom0_cores = s.numjobs = n;
  s.iodepth                          = 32;
  s.duration                         = 0.012;
  s.back    = {{"xen", "4.5"},          {"map_segment_cpu", "1us"}, {"gnttab_lock_hold", "1us"}, {"request_cpu", "0us"},
               {"response_cpu", "0us"}, {"notify_cpu", "0us"},      {"wakeup_cpu", "0us"}};
  json r    = run(s);
  auto lock = r["components"]["vbd0"]["grant_table_lock"];
  double per_s = lock["acquisitions"].get<double>() / (s.duration - 0.002);
  double bound = 1 / (hold + n / 2.0 * transfer);
  EXPECT_NEAR(per_s / bound, 1.0, 0.02);
  EXPECT_EQ(lock["max_waiters"], n - 1);
}
