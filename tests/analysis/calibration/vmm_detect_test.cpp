/* VMM detection: the three real trace sets detected as Firecracker (PCI, patched block features), QEMU (PCI) and Xen
 * with their key evidence; synthetic guests (Firecracker over MMIO, QEMU with its DMI) and conflicting evidence;
 * bundles (the fixtures, and one carrying a device.txt); a missing description ("unknown", not an error); malformed
 * input (InputError naming file and line, exit 2); and `pvsim detect`. */
#include "analysis/calibration/bundle.hpp"
#include "analysis/calibration/vmm_detect.hpp"
#include "sim/input_error.hpp"
#include "tests/support/json_support.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;
using calibration::detect_vmm;
using calibration::detect_vmm_at;
using calibration::VmmGuess;
namespace fs = std::filesystem;

namespace {

std::string traces(const std::string& rel)
{
  return shared_dir() + "/traces/" + rel;
}

/** Whether some evidence's fact contains `part`. */
bool has_evidence(const VmmGuess& g, const std::string& part)
{
  for (const auto& e : g.evidence)
    if (e.fact.find(part) != std::string::npos)
      return true;
  return false;
}

bool has_conflict(const VmmGuess& g, const std::string& part)
{
  for (const auto& c : g.conflicts)
    if (c.find(part) != std::string::npos)
      return true;
  return false;
}

std::string dump(const VmmGuess& g)
{
  return calibration::to_text(g);
}

/** A Firecracker guest as capture.sh would describe it: MMIO devices on the command line, one legacy interrupt line,
 * one queue of 128 tags, EVENT_IDX and VERSION_1 only, no DMI, FIRECK ACPI tables. */
const std::string fc_mmio = "== uname\nLinux fc 5.10.225 #1 SMP x86_64 GNU/Linux\n== nproc\n2\n"
                            "== queue attrs vda\nmax_segments: 1\nwrite_cache: write through\n"
                            "== mq vda\n/sys/block/vda/mq/0 cpu_list=0, 1 nr_tags=128 nr_reserved_tags=0\n"
                            "== virtio features vda\n"
                            "000000000000000000000000000001001\n"
                            "== block devices\nvda driver=virtio_blk path=/sys/devices/platform/virtio_mmio.0/virtio0\n"
                            "== dmi\nnone\n"
                            "== cmdline\nconsole=ttyS0 reboot=k panic=1 pci=off virtio_mmio.device=4K@0xd0000000:5\n"
                            "== acpi tables\nDSDT: oem_id=FIRECK oem_table_id=FCVMDSDT\n"
                            "== interrupts\n           CPU0       CPU1\n  5:      81234          0   IO-APIC   5-edge "
                            "     virtio0\n";

/** A QEMU guest: SMBIOS "QEMU", BOCHS ACPI tables, 2 queues for 2 vCPUs with 256 tags, INDIRECT_DESC and
 * CONFIG_WCE, MSI-X. */
const std::string qemu_dmi = "== uname\nLinux q 6.8.0-45-generic #45 SMP x86_64 GNU/Linux\n== nproc\n2\n"
                             "== mq vda\n/sys/block/vda/mq/0 cpu_list=0 nr_tags=256\n"
                             "/sys/block/vda/mq/1 cpu_list=1 nr_tags=256\n"
                             "== virtio features vda\n011000100111111000000000000011001\n"
                             "== dmi\nsys_vendor: QEMU\nproduct_name: Standard PC (Q35 + ICH9, 2009)\n"
                             "== acpi tables\nFACP: oem_id=BOCHS oem_table_id=BXPC\n"
                             "== interrupts\n 24: 0 0 PCI-MSIX-0000:00:04.0 0-edge virtio0-config\n"
                             " 25: 10 0 PCI-MSIX-0000:00:04.0 1-edge virtio0-req.0\n"
                             " 26: 0 12 PCI-MSIX-0000:00:04.0 2-edge virtio0-req.1\n";

} // namespace

TEST(VmmDetect, FirecrackerTraceIsFirecrackerOverPciWithPatchedBlockFeatures)
{
  VmmGuess g = detect_vmm_at(traces("virtio-vm-1q/fio/randread_libaio_qd16_nj1_f1.json"));
  EXPECT_EQ(g.vmm, "firecracker") << dump(g);
  EXPECT_EQ(g.transport, "pci") << dump(g);
  EXPECT_EQ(g.kernel, "6.18.44-fc-v669");
  EXPECT_EQ(g.variant, "patched block features");
  EXPECT_TRUE(has_evidence(g, "named -fc")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "EVENT_IDX without INDIRECT_DESC")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "nr_tags 128 without INDIRECT_DESC")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "PCI MSI/MSI-X")) << dump(g);
  // The block features upstream Firecracker never offered are reported as a conflict, and in the summary.
  EXPECT_TRUE(has_conflict(g, "SEG_MAX, BLK_SIZE, TOPOLOGY, DISCARD")) << dump(g);
  EXPECT_NE(g.summary.find("Firecracker-like guest over PCI, patched block features"), std::string::npos) << g.summary;
  ASSERT_EQ(g.sources.size(), 1u);
  EXPECT_NE(g.sources[0].find("device.txt"), std::string::npos);
}

class QemuLab : public ::testing::TestWithParam<std::string> {};

TEST_P(QemuLab, DetectedAsQemuOverPci)
{
  VmmGuess g = detect_vmm_at(traces("qemu-lab-tcg/" + GetParam() + "/fio/randread_qd1_nj1.json"));
  EXPECT_EQ(g.vmm, "qemu") << dump(g);
  EXPECT_EQ(g.transport, "pci") << dump(g);
  EXPECT_EQ(g.kernel, "6.1.0-56-amd64");
  EXPECT_TRUE(has_evidence(g, "nr_tags 256")) << dump(g);
}

INSTANTIATE_TEST_SUITE_P(VmmDetect, QemuLab,
                         ::testing::Values("native_q1", "native_q2", "iouring_q2", "threads_q2", "native_q2_iot"));

class XenLab : public ::testing::TestWithParam<std::string> {};

TEST_P(XenLab, DetectedAsXen)
{
  VmmGuess g = detect_vmm_at(traces("xen-lab-tcg/" + GetParam() + "/fio/randread_qd16_nj1.json"));
  EXPECT_EQ(g.vmm, "xen") << dump(g);
  EXPECT_EQ(g.transport, "xen");
  EXPECT_TRUE(has_evidence(g, "XenStore dump")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "blkif")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "xvda")) << dump(g);
  EXPECT_TRUE(g.conflicts.empty()) << dump(g);
}

INSTANTIATE_TEST_SUITE_P(VmmDetect, XenLab, ::testing::Values("blkfront-max-queues-1", "blkfront-max-queues-4"));

TEST(VmmDetect, SyntheticFirecrackerOverMmio)
{
  VmmGuess g = detect_vmm(readers::parse_guest_facts(fc_mmio, "fc.txt"));
  EXPECT_EQ(g.vmm, "firecracker") << dump(g);
  EXPECT_EQ(g.transport, "mmio") << dump(g);
  EXPECT_EQ(g.variant, "");
  EXPECT_TRUE(has_evidence(g, "virtio_mmio.device=")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "OEM ID FIRECK")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "virtio-mmio bus")) << dump(g);
  EXPECT_TRUE(g.conflicts.empty()) << dump(g);
}

TEST(VmmDetect, SyntheticQemuWithItsDmi)
{
  VmmGuess g = detect_vmm(readers::parse_guest_facts(qemu_dmi, "q.txt"));
  EXPECT_EQ(g.vmm, "qemu") << dump(g);
  EXPECT_EQ(g.transport, "pci");
  EXPECT_TRUE(has_evidence(g, "DMI sys_vendor \"QEMU\"")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "OEM ID BOCHS")) << dump(g);
  EXPECT_TRUE(has_evidence(g, "INDIRECT_DESC, which Firecracker never offers")) << dump(g);
  EXPECT_TRUE(g.conflicts.empty()) << dump(g);
}

TEST(VmmDetect, ConflictingEvidenceIsReported)
{
  // A kernel named -fc running under QEMU: QEMU wins on its DMI and features, and the kernel's name is a conflict.
  std::string text = qemu_dmi;
  text.replace(text.find("6.8.0-45-generic"), 16, "6.1.55-fc");
  VmmGuess g = detect_vmm(readers::parse_guest_facts(text, "c.txt"));
  EXPECT_EQ(g.vmm, "qemu") << dump(g);
  EXPECT_TRUE(has_conflict(g, "named -fc")) << dump(g);
  EXPECT_NE(g.summary.find("1 conflicting fact"), std::string::npos) << g.summary;
}

TEST(VmmDetect, EvenEvidenceIsUnknown)
{
  // 128 tags and one queue without the features: Firecracker's halved ring or Cloud Hypervisor's default.
  VmmGuess g = detect_vmm(
      readers::parse_guest_facts("== nproc\n2\n== mq\n/sys/block/vda/mq/0 cpu_list=0, 1 nr_tags=128\n", "even.txt"));
  EXPECT_EQ(g.vmm, "unknown") << dump(g);
  EXPECT_NE(g.summary.find("even between Firecracker and Cloud Hypervisor"), std::string::npos) << g.summary;
}

TEST(VmmDetect, MissingDescriptionIsUnknownWithTheReason)
{
  TempDir dir;
  fs::create_directories(dir.path() / "fio");
  std::string t = dir.write("fio/x.json", "{}");
  VmmGuess g    = detect_vmm_at(t);
  EXPECT_EQ(g.vmm, "unknown");
  EXPECT_EQ(g.transport, "");
  EXPECT_NE(g.summary.find("no guest description"), std::string::npos) << g.summary;
  auto res = run_pvsim("detect " + t);
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("vmm: unknown"), std::string::npos) << res.output;
}

TEST(VmmDetect, MalformedDescriptionNamesFileAndLine)
{
  TempDir dir;
  std::string f = dir.write("device.txt", "== uname\n6.1\n== mq\n/sys/block/vda/mq/0 cpu_list=0 nr_tags=lots\n");
  try {
    detect_vmm_at(dir.path().string());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), f);
    EXPECT_EQ(e.where(), "line 4");
  }
  auto res = run_pvsim("detect " + dir.path().string());
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("device.txt"), std::string::npos) << res.output;
  EXPECT_NE(res.output.find("line 4"), std::string::npos) << res.output;
  EXPECT_EQ(run_pvsim("detect " + dir.file("nothing-here")).exit_code, 2);
}

TEST(VmmDetect, FixtureBundles)
{
  VmmGuess xen = detect_vmm(bundle::read_bundle(source_dir() + "/tests/data/bundle/xen-q4"));
  EXPECT_EQ(xen.vmm, "xen") << dump(xen);
  EXPECT_TRUE(has_evidence(xen, "bundle role xen-domU")) << dump(xen);
  // The QEMU fixture says only kvm-guest: its 2 queues of 256 tags for 2 vCPUs tell QEMU.
  VmmGuess q = detect_vmm(bundle::read_bundle(source_dir() + "/tests/data/bundle/qemu-q2"));
  EXPECT_EQ(q.vmm, "qemu") << dump(q);
  EXPECT_TRUE(has_evidence(q, "one hardware queue per vCPU")) << dump(q);
}

TEST(VmmDetect, BundleWithItsGuestDescription)
{
  TempDir dir;
  fs::path b = dir.path() / "b";
  fs::copy(source_dir() + "/tests/data/bundle/qemu-q2", b, fs::copy_options::recursive);
  std::ofstream((b / "device.txt").string()) << fc_mmio;
  VmmGuess g = detect_vmm(bundle::read_bundle(b.string()));
  EXPECT_EQ(g.vmm, "firecracker") << dump(g);
  EXPECT_EQ(g.transport, "mmio");
  EXPECT_NE(std::find(g.sources.begin(), g.sources.end(), (b / "device.txt").string()), g.sources.end()) << dump(g);
  // The same through a trace of the bundle: the manifest above it makes it a bundle.
  VmmGuess t = detect_vmm_at((b / "fio" / "randread_qd1_nj1.json").string());
  EXPECT_EQ(t.vmm, "firecracker") << dump(t);
  // A manifest naming a description that is not there is an error naming the JSON pointer.
  json m           = read_json_file((b / "manifest.json").string());
  m["guest_facts"] = {{"file", "missing.txt"}};
  std::ofstream((b / "manifest.json").string(), std::ios::trunc) << m.dump(2);
  try {
    detect_vmm(bundle::read_bundle(b.string()));
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/guest_facts/file");
  }
}

TEST(VmmDetect, JsonCarriesTheGuessAndEvidence)
{
  json j = calibration::to_json(detect_vmm(readers::parse_guest_facts(fc_mmio, "fc.txt")));
  EXPECT_EQ(j["vmm"], "firecracker");
  EXPECT_EQ(j["transport"], "mmio");
  ASSERT_TRUE(j["evidence"].is_array());
  ASSERT_FALSE(j["evidence"].empty());
  for (const auto& e : j["evidence"]) {
    EXPECT_TRUE(e["fact"].is_string());
    EXPECT_TRUE(e["points_to"].is_array());
    EXPECT_EQ(e["source"].get<std::string>().rfind("fc.txt", 0), 0u) << e.dump();
  }
  EXPECT_GT(j["scores"]["firecracker"].get<int>(), j["scores"]["qemu"].get<int>());
  EXPECT_TRUE(j["conflicts"].empty());
}

TEST(VmmDetect, CommandLineTextAndJson)
{
  auto text = run_pvsim("detect " + traces("virtio-vm-1q"));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("vmm: firecracker (transport pci), kernel 6.18.44-fc-v669"), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("conflicts:"), std::string::npos) << text.output;
  TempDir dir;
  auto js = run_pvsim("detect --json " + traces("xen-lab-tcg/blkfront-max-queues-4") + " > " + dir.file("d.json"));
  ASSERT_EQ(js.exit_code, 0) << js.output;
  json j = read_json_file(dir.file("d.json"));
  EXPECT_EQ(j["vmm"], "xen");
}

TEST(VmmDetect, CaptureWritesTheGuestDescription)
{
  TempDir dir;
  fs::create_directories(dir.path() / "data");
  auto cap = run_command("bash " + source_dir() + "/analysis/capture/capture.sh -t " + dir.file("data/pvsim.dat") +
                         " -o " + dir.file("bundle") + " -d 1 -e psync -r 1 --size 16M");
  ASSERT_EQ(cap.exit_code, 0) << cap.output;
  json m = read_json_file(dir.file("bundle/manifest.json"));
  EXPECT_EQ(m["version"], 1);
  EXPECT_EQ(m["guest_facts"]["file"], "device.txt");
  std::string text = read_file(dir.file("bundle/device.txt"));
  for (const char* s :
       {"== uname", "== nproc", "== block devices", "== dmi", "== cmdline", "== acpi tables", "== interrupts"})
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  readers::GuestFacts f = readers::read_guest_facts(dir.file("bundle/device.txt"));
  EXPECT_TRUE(f.dmi_captured);
  EXPECT_TRUE(f.cmdline);
  EXPECT_TRUE(f.interrupts);
  EXPECT_EQ(f.vcpus, m["vcpus"].get<int>());
  // Whatever this machine is, detection reads the bundle and says what it found.
  auto res = run_pvsim("detect " + dir.file("bundle"));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("vmm: "), std::string::npos) << res.output;
  EXPECT_NE(res.output.find("device.txt"), std::string::npos) << res.output;
}
