/* The QEMU IOThread's adaptive polling (util/aio-posix.c aio_poll, QEMU 9.2): work inside the poll window costs no
 * wake-up, work after it does; poll_ns self-tunes from the time the thread waited (grow from 4 us, double, cap at
 * poll_max; reset or shrink after a block longer than poll_max); the polling counts as the thread's CPU; poll_max 0
 * never polls. The idle gaps are exact: a test-only model posts work to the IOThread a given time after the previous
 * work finished (the thread runs alone on its core, so its work takes exactly its cost). */
#include "models/qemu/qemu_iothread.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"
#include "tests/support/cli_support.hpp"

using namespace pvsim;

namespace {
struct PollProbeParams {
  std::string iothread;
  std::vector<long long> gaps_ns;
  double cost_s;
};

/** Test-only model "test.iothread_probe": work item i reaches the IOThread gaps_ns[i] after item i-1 finished (the
 * first, gaps_ns[0] after the start); records each item's time on the thread and the poll time after it. */
class PollProbe : public Component {
public:
  static constexpr const char* type_name = "test.iothread_probe";
  static constexpr const char* summary   = "test: posts work to a qemu.iothread after given idle gaps";
  using Params                           = PollProbeParams;
  static const ParamTable<Params>& param_table()
  {
    static const ParamTable<Params> t = [] {
      ParamTable<Params> tb(type_name);
      tb.resource("iothread", &Params::iothread, true, "the qemu.iothread")
          .integers("gaps_ns", &Params::gaps_ns, 0, 1000000000, "idle gap before each work item")
          .quantity("cost", Dimension::duration, &Params::cost_s, 1e-6, 0, 1, "CPU of each work item", "test");
      return tb;
    }();
    return t;
  }
  PollProbe(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}
  bool accepts_requests() const override { return false; }
  bool is_source() const override { return true; } // the scenario's only source (of work, not of requests)
  bool can_complete() const override { return true; }
  void connect() override { iothread_ = &QemuIothread::from_port(*this, "iothread"); }
  void start(Simulation& sim) override
  {
    sim_ = &sim;
    next(0);
  }
  void on_event(int kind, Request*) override
  {
    double now = sim_->events().now();
    if (kind == arrive) {
      arrived_s_ = now;
      iothread_->run(p_.cost_s, this, done);
      return;
    }
    on_thread_s.push_back(now - arrived_s_);
    poll_ns_after.push_back(std::llround(iothread_->poll_s() * 1e9));
    next(on_thread_s.size());
  }
  std::vector<double> on_thread_s;      // arrival to end of the item: its cost, plus wakeup_cpu if it woke the thread
  std::vector<long long> poll_ns_after; // ctx->poll_ns once the item's aio_poll adjusted it

private:
  enum { arrive = 0, done = 1 };
  void next(std::size_t i)
  {
    if (i < p_.gaps_ns.size())
      sim_->events().schedule_in(static_cast<double>(p_.gaps_ns[i]) * 1e-9, this, arrive);
  }
  Params p_;
  QemuIothread* iothread_ = nullptr;
  Simulation* sim_        = nullptr;
  double arrived_s_       = 0;
};
PVSIM_REGISTER_MODEL(PollProbe);

constexpr double cost_s   = 1e-6;
constexpr double wakeup_s = 2e-6; // qemu.iothread's default wakeup_cpu

struct Probed {
  std::vector<double> on_thread_s;
  std::vector<long long> poll_ns;
  json iothread; // the qemu.iothread's results
};

Probed probe(const std::vector<long long>& gaps_ns, const json& iothread = json::object(), double duration = 0.01)
{
  json iot = {{"type", "qemu.iothread"}, {"cpus", "iohost"}, {"aio", "native"}, {"wakeup_cpu", "2us"}};
  iot.update(iothread);
  json doc = {
      {"name", "poll"},
      {"seed", 1},
      {"duration_s", duration},
      {"warmup_s", 0},
      {"components",
       {{"iohost", {{"type", "cpu.host"}, {"cores", 1}}},
        {"iot0", iot},
        {"probe", {{"type", "test.iothread_probe"}, {"iothread", "iot0"}, {"gaps_ns", gaps_ns}, {"cost", "1us"}}}}}};
  Simulation sim(scenario_from_json(doc, "poll"));
  json r = sim.run();
  for (const auto& c : sim.components())
    if (auto* p = dynamic_cast<PollProbe*>(c.get()))
      return {p->on_thread_s, p->poll_ns_after, r["components"]["iot0"]};
  ADD_FAILURE() << "no probe";
  return {};
}

bool paid_wakeup(double on_thread_s)
{
  return std::abs(on_thread_s - (cost_s + wakeup_s)) < 1e-12;
}
bool no_wakeup(double on_thread_s)
{
  return std::abs(on_thread_s - cost_s) < 1e-12;
}
} // namespace

TEST(QemuIothreadPolling, WorkArrivingInsideThePollWindowPaysNoWakeup)
{
  // 100 us asleep since the start: poll_ns stays 0; a 10 us block then grows it to 4 us; work 3 us later is polled.
  Probed p = probe({100000, 10000, 3000});
  ASSERT_EQ(p.on_thread_s.size(), 3u);
  EXPECT_EQ(p.poll_ns[1], 4000);
  EXPECT_TRUE(no_wakeup(p.on_thread_s[2])) << p.on_thread_s[2];
  EXPECT_EQ(p.iothread["poll"]["caught"], 1);
  EXPECT_EQ(p.iothread["wakeups"], 2);
}

TEST(QemuIothreadPolling, WorkArrivingAfterThePollWindowPaysTheWakeup)
{
  Probed p = probe({100000, 10000, 6000}); // the 4 us window ran out 2 us before the work came
  ASSERT_EQ(p.on_thread_s.size(), 3u);
  EXPECT_TRUE(paid_wakeup(p.on_thread_s[2])) << p.on_thread_s[2];
  EXPECT_EQ(p.iothread["poll"]["expired"], 2); // this window, and the 8 us one after the last item
  EXPECT_EQ(p.iothread["poll"]["caught"], 0);
  EXPECT_EQ(p.iothread["wakeups"], 3);
}

TEST(QemuIothreadPolling, WithoutAPollTimeTheFirstShortBlockStillPaysTheWakeup)
{
  Probed p = probe({100000, 1000});
  ASSERT_EQ(p.on_thread_s.size(), 2u);
  EXPECT_EQ(p.poll_ns[0], 0); // aio_context_new: poll_ns 0; 100 us > poll_max keeps it there
  EXPECT_TRUE(paid_wakeup(p.on_thread_s[0]));
  EXPECT_TRUE(paid_wakeup(p.on_thread_s[1]));
  EXPECT_EQ(p.poll_ns[1], 4000);
}

TEST(QemuIothreadPolling, PollTimeStartsAtFourMicrosecondsAndDoublesUpToPollMax)
{
  // Blocks of 32.5 us: under poll_max (32768 ns), each longer than the poll time, until the cap.
  Probed p                        = probe({100000, 32500, 32500, 32500, 32500, 32500, 32500, 32500});
  std::vector<long long> expected = {0, 4000, 8000, 16000, 32000, 32768, 32768, 32768};
  EXPECT_EQ(p.poll_ns, expected);
}

TEST(QemuIothreadPolling, PollGrowSetsTheGrowthFactor)
{
  Probed p                        = probe({100000, 20000, 20000, 20000}, {{"poll_grow", 4}});
  std::vector<long long> expected = {0, 4000, 16000, 32768};
  EXPECT_EQ(p.poll_ns, expected);
}

TEST(QemuIothreadPolling, ABlockLongerThanPollMaxResetsThePollTime)
{
  Probed p                        = probe({100000, 10000, 10000, 10000, 40000});
  std::vector<long long> expected = {0, 4000, 8000, 16000, 0};
  EXPECT_EQ(p.poll_ns, expected);
}

TEST(QemuIothreadPolling, WithPollShrinkTwoALongBlockHalvesThePollTime)
{
  Probed p                        = probe({100000, 10000, 10000, 10000, 40000, 40000}, {{"poll_shrink", 2}});
  std::vector<long long> expected = {0, 4000, 8000, 16000, 8000, 4000};
  EXPECT_EQ(p.poll_ns, expected);
}

TEST(QemuIothreadPolling, ABlockWithinThePollTimeLeavesItUnchanged)
{
  Probed p                        = probe({100000, 10000, 10000, 3000, 3000});
  std::vector<long long> expected = {0, 4000, 8000, 8000, 8000};
  EXPECT_EQ(p.poll_ns, expected);
}

TEST(QemuIothreadPolling, PollMaxZeroNeverPollsAndEveryIdleArrivalWakesTheThread)
{
  Probed p = probe({100000, 1000, 1000, 1000}, {{"poll_max", "0s"}});
  ASSERT_EQ(p.on_thread_s.size(), 4u);
  for (double t : p.on_thread_s)
    EXPECT_TRUE(paid_wakeup(t)) << t;
  EXPECT_EQ(p.iothread["wakeups"], 4);
  EXPECT_FALSE(p.iothread.contains("poll"));
  EXPECT_EQ(p.poll_ns, std::vector<long long>(4, 0));
}

TEST(QemuIothreadPolling, TheThreadsCpuTimeIncludesThePolling)
{
  // Work: 4 x 1 us, three of them waking the thread (3 x 2 us). Polling: a 4 us window caught work after 3 us, the
  // next ran out (4 us) before the last item: 7 us.
  double duration = 0.001;
  Probed p        = probe({100000, 10000, 3000, 100000}, json::object(), duration);
  ASSERT_EQ(p.on_thread_s.size(), 4u);
  EXPECT_NEAR(p.iothread["poll"]["cpu_s"].get<double>(), 7e-6, 1e-12);
  EXPECT_NEAR(p.iothread["utilization"].get<double>() * duration, 4e-6 + 3 * 2e-6 + 7e-6, 1e-12);
}
