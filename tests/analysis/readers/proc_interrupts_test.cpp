/* /proc/interrupts snapshots: the real lab guests' files, per-queue interrupts of the three drivers, broken input. */
#include "analysis/readers/proc_interrupts.hpp"
#include "sim/input_error.hpp"

#include <gtest/gtest.h>

using namespace pvsim::readers;

namespace {
std::string shared(const std::string& rel)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/" + rel;
}
} // namespace

TEST(ProcInterrupts, ReadsTheXenDomUFile)
{
  auto p = read_proc_interrupts(shared("xen-lab-tcg/blkfront-max-queues-4/interrupts/randread_qd16_nj2.txt"));
  EXPECT_EQ(p.cpus, 4);
  const IrqLine* l = p.find("26");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->action, "blkif");
  EXPECT_EQ(l->chip, "xen-dyn-lateeoi -event");
  EXPECT_EQ(l->count, (std::vector<std::uint64_t>{0, 0, 0, 1864}));
}

TEST(ProcInterrupts, VirtioQueuesAndTheirVcpus)
{
  auto p    = read_proc_interrupts(shared("qemu-lab-tcg/native_q2/interrupts/randread_qd16_nj2.txt"));
  auto irqs = queue_irqs("virtio-blk", p, nullptr);
  ASSERT_EQ(irqs.size(), 2u);
  EXPECT_EQ(irqs[0].action, "virtio0-req.0");
  EXPECT_EQ(irqs[0].bound_cpu, 0);
  EXPECT_EQ(irqs[1].bound_cpu, 1);
  EXPECT_EQ(irqs[1].interrupts, 66139u);
}

TEST(ProcInterrupts, DeltaBetweenSnapshotsPicksTheCpuThatTookThem)
{
  std::string before = "  CPU0 CPU1\n 30: 100 5 xen-dyn-lateeoi -event vif0-q0-tx\n 31: 0 0 xen-dyn-lateeoi -event "
                       "vif0-q0-rx\n 32: 7 0 xen-dyn -event vif0-q1\n";
  std::string after  = "  CPU0 CPU1\n 30: 100 905 xen-dyn-lateeoi -event vif0-q0-tx\n 31: 30 10 xen-dyn-lateeoi -event "
                       "vif0-q0-rx\n 32: 7 0 xen-dyn -event vif0-q1\n";
  auto b             = parse_proc_interrupts(before, "before");
  auto a             = parse_proc_interrupts(after, "after");
  auto irqs          = queue_irqs("xen-netfront", a, &b);
  ASSERT_EQ(irqs.size(), 3u);
  EXPECT_EQ(irqs[0].direction, "rx");
  EXPECT_EQ(irqs[0].bound_cpu, 0);
  EXPECT_DOUBLE_EQ(irqs[0].bound_share, 0.75);
  EXPECT_EQ(irqs[1].direction, "tx");
  EXPECT_EQ(irqs[1].bound_cpu, 1);
  EXPECT_EQ(irqs[1].interrupts, 900u);
  EXPECT_EQ(irqs[2].queue, 1);
  EXPECT_EQ(irqs[2].direction, "txrx");
  EXPECT_EQ(irqs[2].bound_cpu, -1); // nothing taken in between
}

TEST(ProcInterrupts, OfTwoVirtioDisksTheBusyOneIsTakenUnlessNamed)
{
  // The lab's guest: virtio0 is the disk under test, virtio1 the small disk that carries the results out.
  auto p         = parse_proc_interrupts("CPU0\n 1: 5 PCI-MSI x virtio0-req.0\n 2: 900 PCI-MSI x virtio1-req.0\n"
                                                 " 3: 7 PCI-MSI x virtio1-req.1\n",
                                         "f");
  bool ambiguous = false;
  auto irqs      = queue_irqs("virtio-blk", p, nullptr, "", &ambiguous);
  EXPECT_TRUE(ambiguous);
  ASSERT_EQ(irqs.size(), 2u);
  EXPECT_EQ(irqs[0].action, "virtio1-req.0");
  irqs = queue_irqs("virtio-blk", p, nullptr, "virtio0", &ambiguous);
  EXPECT_FALSE(ambiguous);
  ASSERT_EQ(irqs.size(), 1u);
  EXPECT_EQ(irqs[0].action, "virtio0-req.0");
}

TEST(ProcInterrupts, NetfrontChannelsAreNamedAfterTheVifHandle)
{
  auto p = read_proc_interrupts(std::string(PVSIM_SOURCE_DIR) + "/tests/data/bundle/xen-net-q4/interrupts/after.txt");
  auto irqs = queue_irqs("xen-netfront", p, nullptr, "vif0");
  ASSERT_EQ(irqs.size(), 8u);
  EXPECT_EQ(irqs[0].action, "vif0-q0-rx");
  EXPECT_EQ(irqs[7].action, "vif0-q3-tx");
}

TEST(ProcInterrupts, RejectsWhatIsNotProcInterrupts)
{
  EXPECT_THROW(parse_proc_interrupts("", "empty"), pvsim::InputError);
  EXPECT_THROW(parse_proc_interrupts("hello world\n", "f"), pvsim::InputError);
  try {
    parse_proc_interrupts("CPU0 CPU1\n 1: 2 3 chip name\nnot a line\n", "f.txt");
    FAIL();
  } catch (const pvsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(ProcInterrupts, ACountBeyond64BitsIsBadInput)
{
  // Found by the fuzz smoke run (tests/fuzz): std::stoull's out_of_range escaped the reader.
  EXPECT_THROW(parse_proc_interrupts("           CPU0       CPU1\n 24: 99999999999999999999999 0 xen-dyn -event xenbus\n",
                                     "interrupts.txt"),
               pvsim::InputError);
}
