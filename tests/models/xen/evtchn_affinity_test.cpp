/* Linux's event-channel vCPU choice (select_target_cpu) against what the real xen-lab-tcg domU did. */
#include "analysis/readers/proc_interrupts.hpp"
#include "models/xen/evtchn_affinity.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

using pvsim::xen::EvtchnAffinity;

namespace {
std::string lab_file(const std::string& run, const std::string& file)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/xen-lab-tcg/" + run + "/" + file;
}
/** The /proc/interrupts part of a file that starts with other facts (guest-info.txt). */
pvsim::readers::ProcInterrupts interrupts_in(const std::string& path)
{
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  auto at          = text.find("CPU0");
  at               = text.rfind('\n', at);
  return pvsim::readers::parse_proc_interrupts(text.substr(at == std::string::npos ? 0 : at + 1), path);
}
std::vector<int> bind_n(int vcpus, int preceding, int n)
{
  EvtchnAffinity a(vcpus, preceding);
  std::vector<int> out;
  for (int i = 0; i < n; ++i)
    out.push_back(a.bind());
  return out;
}
} // namespace

TEST(EvtchnAffinity, XenbusAndConsoleLeaveVcpuZeroAndGoToOneAndTwo)
{
  // xenbus: vCPU 0 counts itself, vCPU 1 has none; console: vCPUs 0 (itself) and 1 have one, vCPU 2 none.
  EXPECT_EQ(bind_n(4, 0, 2), (std::vector<int>{1, 2}));
}

TEST(EvtchnAffinity, FourRingsAfterXenbusAndConsoleLandOnThreeZeroOneTwo)
{
  EXPECT_EQ(bind_n(4, 2, 4), (std::vector<int>{3, 0, 1, 2}));
}

TEST(EvtchnAffinity, OneVcpuTakesEverything)
{
  EXPECT_EQ(bind_n(1, 2, 3), (std::vector<int>{0, 0, 0}));
}

TEST(EvtchnAffinity, CountsEveryChannel)
{
  EvtchnAffinity a(3, 2);
  for (int i = 0; i < 7; ++i)
    a.bind();
  EXPECT_EQ(a.channels_on_cpu(), (std::vector<int>{3, 3, 3}));
}

TEST(EvtchnAffinity, MatchesTheLabDomUsInterrupts)
{
  // The rings' interrupts during a 2-job run: where the real kernel bound each queue's channel.
  for (auto [run, expect] : {std::pair{std::string("blkfront-max-queues-4"), std::vector<int>{3, 0, 1, 2}},
                             std::pair{std::string("blkfront-max-queues-1"), std::vector<int>{3}}}) {
    auto before = interrupts_in(lab_file(run, "guest-info.txt"));
    auto after  = pvsim::readers::read_proc_interrupts(lab_file(run, "interrupts/randread_qd16_nj2.txt"));
    auto irqs   = pvsim::readers::queue_irqs("xen-blkfront", after, &before);
    ASSERT_EQ(irqs.size(), expect.size()) << run;
    auto model = bind_n(4, 2, static_cast<int>(expect.size()));
    for (std::size_t q = 0; q < expect.size(); ++q) {
      EXPECT_EQ(irqs[q].bound_cpu, expect[q]) << run << " queue " << q;
      EXPECT_EQ(model[q], irqs[q].bound_cpu) << run << " queue " << q;
      EXPECT_DOUBLE_EQ(irqs[q].bound_share, 1.0);
    }
  }
}
