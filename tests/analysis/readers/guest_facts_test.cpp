/* Guest descriptions: the real device.txt of the Firecracker trace and the labs' guest-info.txt parsed into numbers
 * checked against the files, the sections capture.sh adds (DMI, cmdline, ACPI, block and virtio devices), lenient
 * reading (unknown or missing sections) and malformed input (InputError naming the file and the line). */
#include "analysis/readers/guest_facts.hpp"
#include "tests/analysis/readers/reader_test_support.hpp"
#include "tests/support/cli_support.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::readers;
using pvsim::readers::test::contains;
using pvsim::readers::test::input_error_of;
using pvsim::readers::test::trace;
namespace fs = std::filesystem;

TEST(GuestFacts, FirecrackerTraceDeviceTxt)
{
  GuestFacts f = read_guest_facts(trace("virtio-vm-1q/device.txt"));
  EXPECT_EQ(f.kernel, "6.18.44-fc-v669");
  EXPECT_EQ(f.kernel_vmm_hint(), "firecracker");
  ASSERT_TRUE(f.vcpus);
  EXPECT_EQ(*f.vcpus, 2);
  EXPECT_EQ(f.hypervisor_vendor, "KVM");
  ASSERT_EQ(f.devices.size(), 1u); // "queue attrs" names no device: merged into vda of the mq lines
  const GuestBlockDevice* d = f.main_device();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, "vda");
  EXPECT_EQ(d->hw_queues, 1);
  ASSERT_EQ(d->queues.size(), 1u);
  EXPECT_EQ(d->queues[0].cpu_list, "0, 1");
  EXPECT_EQ(d->queues[0].cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(d->queues[0].nr_tags, 128);
  EXPECT_EQ(d->queues[0].nr_reserved_tags, 0);
  EXPECT_EQ(d->scheduler, "mq-deadline");
  EXPECT_EQ(d->schedulers, "none [mq-deadline] kyber bfq");
  EXPECT_EQ(d->nr_requests, 256);
  EXPECT_EQ(d->max_segments, 254);
  EXPECT_EQ(d->write_cache, "write back");
  EXPECT_EQ(d->queue.at("max_hw_sectors_kb"), "2147483647");
  ASSERT_TRUE(d->features);
  EXPECT_EQ(d->features->set, (std::vector<int>{2, 6, 9, 10, 13, 29, 32}));
  EXPECT_EQ(d->features->names(), (std::vector<std::string>{"SEG_MAX", "BLK_SIZE", "FLUSH", "TOPOLOGY", "DISCARD",
                                                            "EVENT_IDX", "VERSION_1"}));
  EXPECT_FALSE(d->features->has(virtio_bit::indirect_desc));
  EXPECT_TRUE(d->virtio());
  ASSERT_TRUE(f.interrupts);
  const IrqLine* req = f.interrupts->find("36");
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->action, "virtio1-req.0");
  EXPECT_EQ(req->count, (std::vector<std::uint64_t>{0, 110926}));
  EXPECT_NE(req->chip.find("PCI-MSIX-0000:00:02.0"), std::string::npos);
  EXPECT_FALSE(f.dmi_captured); // not captured in that session: nothing said about DMI
  EXPECT_FALSE(f.cmdline);
  EXPECT_FALSE(f.acpi_captured);
  for (const char* s : {"date", "uptime", "fio", "lsblk", "mem", "swaps"})
    EXPECT_NE(std::find(f.ignored_sections.begin(), f.ignored_sections.end(), s), f.ignored_sections.end()) << s;
}

TEST(GuestFacts, QemuLabGuestInfoTwoQueues)
{
  GuestFacts f = read_guest_facts(trace("qemu-lab-tcg/native_q2/guest-info.txt"));
  EXPECT_EQ(f.kernel, "6.1.0-56-amd64");
  EXPECT_EQ(f.kernel_vmm_hint(), "");
  EXPECT_EQ(f.vcpus, 2);
  ASSERT_EQ(f.devices.size(), 1u);
  const GuestBlockDevice& d = f.devices[0];
  EXPECT_EQ(d.name, "vda");
  EXPECT_EQ(d.hw_queues, 2);
  ASSERT_EQ(d.queues.size(), 2u);
  EXPECT_EQ(d.queues[1].index, 1);
  EXPECT_EQ(d.queues[1].cpus, (std::vector<int>{1}));
  EXPECT_EQ(d.queues[1].nr_tags, 256);
  EXPECT_FALSE(d.queues[1].nr_reserved_tags);
  EXPECT_EQ(d.scheduler, "none");
  EXPECT_EQ(d.nr_requests, 256);
  EXPECT_EQ(d.size_sectors, 2097152);
  EXPECT_FALSE(d.features);
  ASSERT_TRUE(f.interrupts);
  EXPECT_EQ(f.interrupts->cpus, 2);
  const IrqLine* q1 = f.interrupts->find("26");
  ASSERT_NE(q1, nullptr);
  EXPECT_EQ(q1->action, "virtio0-req.1");
  EXPECT_EQ(q1->chip, "PCI-MSI 65538-edge");
}

TEST(GuestFacts, QemuLabGuestInfoOneQueueSharedByBothCpus)
{
  GuestFacts f              = read_guest_facts(trace("qemu-lab-tcg/native_q1/guest-info.txt"));
  const GuestBlockDevice* d = f.main_device();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->hw_queues, 1);
  EXPECT_EQ(d->queues.at(0).cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(d->scheduler, "mq-deadline");
  EXPECT_EQ(f.interrupts->find("25")->count, (std::vector<std::uint64_t>{0, 3}));
}

TEST(GuestFacts, XenLabGuestInfo)
{
  GuestFacts f = read_guest_facts(trace("xen-lab-tcg/blkfront-max-queues-4/guest-info.txt"));
  EXPECT_EQ(f.vcpus, 4);
  const GuestBlockDevice* d = f.main_device();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, "xvda");
  EXPECT_FALSE(d->virtio());
  EXPECT_EQ(d->hw_queues, 4);
  for (const auto& q : d->queues) {
    EXPECT_EQ(q.nr_tags, 32);
    EXPECT_EQ(q.cpus, (std::vector<int>{q.index}));
  }
  EXPECT_EQ(d->nr_requests, 32);
  ASSERT_TRUE(f.interrupts);
  EXPECT_EQ(f.interrupts->cpus, 4);
  int blkif = 0;
  for (const auto& l : f.interrupts->lines)
    blkif += l.action == "blkif" ? 1 : 0;
  EXPECT_EQ(blkif, 4);
  EXPECT_EQ(f.interrupts->find("26")->chip, "xen-dyn-lateeoi -event");

  GuestFacts one = read_guest_facts(trace("xen-lab-tcg/blkfront-max-queues-1/guest-info.txt"));
  EXPECT_EQ(one.main_device()->queues.at(0).cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(one.main_device()->nr_requests, 64);
  EXPECT_EQ(one.main_device()->scheduler, "mq-deadline");
}

TEST(GuestFacts, CaptureSectionsDmiCmdlineAcpiDevices)
{
  GuestFacts f = parse_guest_facts("== uname\n6.1.0-fc\n== nproc\n4\n"
                                   "== dmi\nsys_vendor: QEMU\nproduct_name: Standard PC (Q35 + ICH9, 2009)\n"
                                   "== cmdline\nroot=/dev/vda console=ttyS0\n"
                                   "== acpi tables\nDSDT: oem_id=BOCHS oem_table_id=BXPC\nFACS (not readable)\n"
                                   "== block devices\nvdb driver=virtio_blk path=/sys/devices/pci0000:00/0000:00:04.0/"
                                   "virtio3\n"
                                   "== virtio devices\nvirtio3 device=0x0002 driver=virtio_blk path=/sys/devices/"
                                   "pci0000:00/0000:00:04.0/virtio3 features=0000000000001000000000000000110\n"
                                   "== mq vdb\n/sys/block/vdb/mq/0 cpu_list=0-3 nr_tags=256\n",
                                   "cap.txt");
  EXPECT_EQ(f.kernel, "6.1.0-fc");
  EXPECT_EQ(f.kernel_vmm_hint(), "firecracker");
  EXPECT_EQ(f.vcpus, 4);
  EXPECT_TRUE(f.dmi_captured);
  EXPECT_EQ(f.dmi_sys_vendor, "QEMU");
  EXPECT_EQ(f.dmi_product_name, "Standard PC (Q35 + ICH9, 2009)");
  EXPECT_EQ(f.cmdline, "root=/dev/vda console=ttyS0");
  ASSERT_EQ(f.acpi_tables.size(), 1u);
  EXPECT_EQ(f.acpi_tables[0].name, "DSDT");
  EXPECT_EQ(f.acpi_tables[0].oem_id, "BOCHS");
  EXPECT_EQ(f.acpi_tables[0].oem_table_id, "BXPC");
  ASSERT_EQ(f.virtio_devices.size(), 1u);
  EXPECT_EQ(f.virtio_devices[0].device, "0x0002");
  const GuestBlockDevice* d = f.device("vdb");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->driver, "virtio_blk");
  EXPECT_EQ(d->queues.at(0).cpus, (std::vector<int>{0, 1, 2, 3}));
  // The block device takes the features of its virtio device (found by its sysfs path).
  ASSERT_TRUE(d->features);
  EXPECT_EQ(d->features->set, (std::vector<int>{12, 28, 29}));
  EXPECT_EQ(d->features->names(), (std::vector<std::string>{"MQ", "INDIRECT_DESC", "EVENT_IDX"}));
}

TEST(GuestFacts, NoneMeansCapturedAndAbsent)
{
  GuestFacts f = parse_guest_facts("== dmi\nnone\n== acpi tables\nnone\n", "x.txt");
  EXPECT_TRUE(f.dmi_captured);
  EXPECT_EQ(f.dmi_sys_vendor, "");
  EXPECT_TRUE(f.acpi_captured);
  EXPECT_TRUE(f.acpi_tables.empty());
}

TEST(GuestFacts, LenientAboutMissingAndUnknownSections)
{
  GuestFacts empty = parse_guest_facts("", "e.txt");
  EXPECT_TRUE(empty.devices.empty());
  EXPECT_FALSE(empty.vcpus);
  EXPECT_FALSE(empty.interrupts);
  EXPECT_EQ(empty.main_device(), nullptr);
  GuestFacts f = parse_guest_facts("== something new\nwhatever: 12x\n== uname\nLinux h 5.10.0 #1 SMP\n", "u.txt");
  EXPECT_EQ(f.kernel, "5.10.0");
  EXPECT_EQ(f.ignored_sections, (std::vector<std::string>{"something new"}));
}

TEST(GuestFacts, MalformedNumberNamesFileAndLine)
{
  auto e = input_error_of(
      [] { parse_guest_facts("tag=x kernel=6.1 nproc=2\n/sys/block/vda/mq/0 cpu_list=0 nr_tags=12x\n", "g.txt"); });
  EXPECT_EQ(e.file(), "g.txt");
  EXPECT_EQ(e.where(), "line 2");
  EXPECT_TRUE(contains(e.detail(), "nr_tags")) << e.detail();
  e = input_error_of([] { parse_guest_facts("== lscpu\nCPU(s): two\n", "l.txt"); });
  EXPECT_EQ(e.where(), "line 2");
  e = input_error_of([] { parse_guest_facts("== queue attrs\nnr_requests: -3\n", "q.txt"); });
  EXPECT_EQ(e.where(), "line 2");
  e = input_error_of([] { parse_guest_facts("== mq\n/sys/block/vda/mq/0 cpu_list=3-1 nr_tags=4\n", "c.txt"); });
  EXPECT_TRUE(contains(e.detail(), "cpu_list")) << e.detail();
}

TEST(GuestFacts, MalformedFeaturesNameTheLine)
{
  auto e = input_error_of([] { parse_guest_facts("== virtio features\n0010201\n", "f.txt"); });
  EXPECT_EQ(e.where(), "line 2");
  e = input_error_of([] { parse_guest_facts("== virtio features\n0010001\nset bits: [2, 5]\n", "f.txt"); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "does not match")) << e.detail();
}

TEST(GuestFacts, MalformedInterruptsCountFromTheFileNotTheSection)
{
  auto e =
      input_error_of([] { parse_guest_facts("== uname\n6.1\n== interrupts\n 24: 1 2 PCI-MSI x\nbogus\n", "i.txt"); });
  EXPECT_EQ(e.file(), "i.txt");
  EXPECT_EQ(e.where(), "line 5");
}

TEST(GuestFacts, ADeviceLineOfBlanksNamesNoDevice)
{
  // Found by libFuzzer with UBSan (tests/fuzz, guest_facts, session 32): a line of a vertical tab or a form feed is
  // not empty after trim() (spaces and tabs) but has no word, and the first word was read from an empty list.
  GuestFacts f = parse_guest_facts("== block devices\n\v\n== virtio devices\n\f \n== uname\n6.1\n", "b.txt");
  EXPECT_TRUE(f.virtio_devices.empty());
  EXPECT_EQ(f.kernel, "6.1");
}

TEST(GuestFacts, MissingFileIsAnInputError)
{
  auto e = input_error_of([] { read_guest_facts("/nonexistent/device.txt"); });
  EXPECT_EQ(e.file(), "/nonexistent/device.txt");
}

TEST(GuestFacts, FileBesideATrace)
{
  EXPECT_EQ(guest_facts_file_for(trace("virtio-vm-1q/fio/randread_libaio_qd16_nj1_f1.json")),
            fs::path(trace("virtio-vm-1q/device.txt")).lexically_normal().string());
  auto q = guest_facts_file_for(trace("qemu-lab-tcg/native_q2/fio/randread_qd1_nj1.json"));
  ASSERT_TRUE(q);
  EXPECT_TRUE(contains(*q, "native_q2/guest-info.txt")) << *q;
  auto dir = guest_facts_file_for(trace("xen-lab-tcg/blkfront-max-queues-4"));
  ASSERT_TRUE(dir);
  EXPECT_TRUE(contains(*dir, "blkfront-max-queues-4/guest-info.txt")) << *dir;
  pvsim::test::TempDir tmp;
  fs::create_directories(tmp.path() / "fio");
  std::string t = tmp.write("fio/x.json", "{}");
  EXPECT_FALSE(guest_facts_file_for(t));
  tmp.write("fio/device.txt", "== nproc\n1\n"); // the trace's own directory
  EXPECT_EQ(guest_facts_file_for(t), tmp.file("fio/device.txt"));
}
