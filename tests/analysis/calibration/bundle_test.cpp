/* Capture bundles: analysis/capture/capture.sh on this machine's disk with a tiny matrix, `pvsim validate --bundle`
 * on it and on the hand-made fixtures of tests/data/bundle (a QEMU guest, a Xen domU with its XenStore dump), and
 * broken manifests (exit 2 naming the JSON pointer). */
#include "analysis/calibration/bundle.hpp"
#include "analysis/calibration/bundle_scenario.hpp"
#include "sim/scenario.hpp"
#include "tests/support/json_support.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>

#include <thread>

using namespace pvsim;
using namespace pvsim::test;
namespace fs = std::filesystem;

namespace {
std::string fixture(const std::string& name)
{
  return source_dir() + "/tests/data/bundle/" + name;
}
const std::string fast = " --duration 0.05 --warmup 0.01 ";

/** A copy of a fixture bundle whose manifest is edited by `edit`. */
std::string broken_copy(const TempDir& dir, const std::string& name, const std::function<void(json&)>& edit)
{
  fs::path to = dir.path() / name;
  fs::copy(fixture(name), to, fs::copy_options::recursive);
  json m = read_json_file((to / "manifest.json").string());
  edit(m);
  std::ofstream((to / "manifest.json").string(), std::ios::trunc) << m.dump(2);
  return to.string();
}
} // namespace

TEST(Bundle, ReaderOnFixture)
{
  bundle::Bundle b = bundle::read_bundle(fixture("qemu-q2"));
  EXPECT_EQ(b.vcpus, 2);
  EXPECT_EQ(b.role, "kvm-guest");
  ASSERT_EQ(b.devices.size(), 1u);
  EXPECT_EQ(b.devices[0].hw_queues, 2);
  EXPECT_EQ(b.devices[0].queues[1].nr_tags, 256);
  ASSERT_EQ(b.runs.size(), 3u);
  EXPECT_EQ(b.runs[1].iodepth, 16);
  EXPECT_TRUE(fs::exists(b.runs[2].file));
  std::vector<std::string> notes;
  json g = bundle::guest_for_run(b, b.runs[0], {{"vcpus", 9}, {"hw_queues", 9}, {"tags", 9}}, notes);
  EXPECT_EQ(g["vcpus"], 2);
  EXPECT_EQ(g["hw_queues"], 2);
  EXPECT_EQ(g["tags"], 256);
  EXPECT_TRUE(notes.empty());
}

TEST(Bundle, ValidateFixtureQemu)
{
  TempDir dir;
  auto res = run_pvsim("validate -q --bundle " + fixture("qemu-q2") + fast + "--json " + dir.file("v.json") + " -o " +
                       dir.file("rep") + " --report-script /dev/null");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json v = read_json_file(dir.file("v.json"));
  ASSERT_EQ(v["runs"].size(), 3u);
  EXPECT_EQ(v["runs"][1]["trace"], "randread_qd16_nj1.json");
  EXPECT_GT(v["runs"][1]["predicted"]["iops"].get<double>(), 0);
  ASSERT_TRUE(v.contains("bundle"));
  EXPECT_EQ(v["bundle"]["vcpus"], 2);
  EXPECT_EQ(v["bundle"]["mismatches"], 0);
  json full = read_json_file(dir.file("rep/validation.json"));
  for (const auto& r : full["runs"]) {
    EXPECT_EQ(r["guest"]["hw_queues"], 2) << r.dump();
    EXPECT_EQ(r["guest"]["tags"], 256);
    EXPECT_EQ(r["guest"]["vcpus"], 2);
  }
  EXPECT_NE(read_file(dir.file("rep/report.md")).find("## Bundle"), std::string::npos);
}

TEST(Bundle, XenStructureChecksPassOnTheRealDomU)
{
  TempDir dir;
  auto res = run_pvsim("validate -q --bundle " + fixture("xen-q4") + fast + "--json " + dir.file("v.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json b = read_json_file(dir.file("v.json"))["bundle"];
  for (const auto& c : b["checks"])
    EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
  EXPECT_EQ(b["mismatches"], 0);
  EXPECT_EQ(checks_about(b, "multi-queue-num-queues").size(), 1u);
  EXPECT_EQ(checks_about(b, "ring slots").size(), 4u);
  EXPECT_EQ(checks_about(b, "pvsim's blkif handshake").size(), 3u);
  EXPECT_EQ(checks_about(b, "CPU map").size(), 4u);
  EXPECT_EQ(checks_about(b, "one blkif event channel per queue").size(), 1u);
  auto binding = checks_about(b, "interrupt vCPU of queue");
  ASSERT_EQ(binding.size(), 4u);
  EXPECT_EQ(binding[0]["observed"], 3); // queue 0's channel on vCPU 3, after xenbus (1) and the console (2)
  EXPECT_EQ(binding[1]["observed"], 0);
}

TEST(Bundle, XenStructureMismatchesAreReportedNotFatal)
{
  // A guest with 2 queues of 64 and 32 tags: the queue count and queue 0's ring slots mismatch, reported, not fatal.
  TempDir dir;
  std::string bad = broken_copy(dir, "xen-q4", [](json& m) {
    m["devices"][0]["hw_queues"] = 2;
    m["devices"][0]["queues"]    = json::array({{{"index", 0}, {"nr_tags", 64}}, {{"index", 1}, {"nr_tags", 32}}});
  });
  auto res        = run_pvsim("validate --bundle " + bad + fast + "--json " + dir.file("v2.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("MISMATCH"), std::string::npos) << res.output;
  json b = read_json_file(dir.file("v2.json"))["bundle"];
  EXPECT_FALSE(checks_about(b, "multi-queue-num-queues")[0]["ok"].get<bool>());
  auto slots = checks_about(b, "ring slots");
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_FALSE(slots[0]["ok"].get<bool>());
  EXPECT_TRUE(slots[1]["ok"].get<bool>());
  // The guest shows 4 blkif interrupts for 2 queues.
  EXPECT_FALSE(checks_about(b, "one blkif event channel per queue")[0]["ok"].get<bool>());
  EXPECT_GE(b["mismatches"].get<int>(), 3) << b.dump(2);
}

TEST(Bundle, AChannelBoundElsewhereIsAMismatch)
{
  TempDir dir;
  std::string bad = broken_copy(dir, "xen-q4", [](json&) {});
  // Queue 0's interrupts taken by vCPU 0 instead of 3.
  std::ofstream(bad + "/interrupts/randread_qd16_nj1.after.txt", std::ios::trunc)
      << " 26:   1864    0    0    3  xen-dyn-lateeoi    -event     blkif\n"
         " 27:    800    0    0    0  xen-dyn-lateeoi    -event     blkif\n"
         " 28:      0  780    0    0  xen-dyn-lateeoi    -event     blkif\n"
         " 29:      0    0  813    0  xen-dyn-lateeoi    -event     blkif\n";
  auto res = run_pvsim("validate -q --bundle " + bad + fast + "--json " + dir.file("v.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json b       = read_json_file(dir.file("v.json"))["bundle"];
  auto binding = checks_about(b, "interrupt vCPU of queue");
  ASSERT_EQ(binding.size(), 4u);
  EXPECT_FALSE(binding[0]["ok"].get<bool>());
  EXPECT_EQ(binding[0]["expected"], 3);
  EXPECT_EQ(binding[0]["observed"], 0);
  EXPECT_EQ(b["mismatches"], 1);
}

TEST(Bundle, BrokenManifests)
{
  TempDir dir;
  struct Case {
    std::string name;
    std::function<void(json&)> edit;
    std::string expect;
  };
  std::vector<Case> cases{
      {"missing", [](json& m) { m.erase("vcpus"); }, "/vcpus"},
      {"type", [](json& m) { m["vcpus"] = "two"; }, "/vcpus"},
      {"tags", [](json& m) { m["devices"][0]["queues"][1]["nr_tags"] = "256"; }, "/devices/0/queues/1/nr_tags"},
      {"version", [](json& m) { m["version"] = 2; }, "/version"},
      {"format", [](json& m) { m["format"] = "pvsim-bundel"; }, "/format"},
      {"file", [](json& m) { m["fio_runs"][1]["file"] = "fio/nothere.json"; }, "/fio_runs/1/file"},
      {"runfield", [](json& m) { m["fio_runs"][2].erase("ioengine"); }, "/fio_runs/2/ioengine"},
      {"device", [](json& m) { m["fio_runs"][0]["device"] = "sdz"; }, "/fio_runs/0/device"},
  };
  for (const auto& c : cases) {
    TempDir d;
    fs::path to = d.path() / "b";
    fs::copy(fixture("qemu-q2"), to, fs::copy_options::recursive);
    json m = read_json_file((to / "manifest.json").string());
    c.edit(m);
    std::ofstream((to / "manifest.json").string(), std::ios::trunc) << m.dump(2);
    auto res = run_pvsim("validate -q --bundle " + to.string() + fast);
    EXPECT_EQ(res.exit_code, 2) << c.name << ": " << res.output;
    EXPECT_NE(res.output.find("manifest.json"), std::string::npos) << c.name << ": " << res.output;
    EXPECT_NE(res.output.find(c.expect), std::string::npos) << c.name << ": " << res.output;
  }
  auto none = run_pvsim("validate -q --bundle " + dir.path().string());
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("manifest.json"), std::string::npos) << none.output;
  auto both = run_pvsim("validate -q --bundle " + fixture("qemu-q2") + " --trace " + fixture("qemu-q2") +
                        "/fio/randread_qd1_nj1.json");
  EXPECT_EQ(both.exit_code, 2) << both.output;
  auto neither = run_pvsim("validate -q --trace " + fixture("qemu-q2") + "/fio/randread_qd1_nj1.json");
  EXPECT_EQ(neither.exit_code, 2) << neither.output;
  EXPECT_NE(neither.output.find("--device"), std::string::npos) << neither.output;
}

TEST(Bundle, CaptureOnThisDiskThenValidate)
{
  if (run_command("command -v fio").exit_code != 0)
    GTEST_SKIP() << "fio is not installed (Debian package fio, see .ci/setup): the capture script cannot run";
  TempDir dir;
  fs::create_directories(dir.path() / "data");
  std::string script = source_dir() + "/analysis/capture/capture.sh";
  auto cap = run_command("bash " + script + " -t " + dir.file("data/pvsim.dat") + " -o " + dir.file("bundle") +
                         " -d 1,4 -e libaio,psync -r 1 --size 16M --vcpu-wake-rounds 50");
  ASSERT_EQ(cap.exit_code, 0) << cap.output;
  EXPECT_NE(cap.output.find("[1/"), std::string::npos) << cap.output; // progress
  json m = read_json_file(dir.file("bundle/manifest.json"));
  EXPECT_EQ(m["format"], "pvsim-bundle");
  EXPECT_EQ(m["version"], 1);
  ASSERT_GE(m["fio_runs"].size(), 2u) << m.dump(2);
  auto res = run_pvsim("validate -q --bundle " + dir.file("bundle") + fast + "--json " + dir.file("v.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output << "\nmanifest: " << m.dump(2);
  json v = read_json_file(dir.file("v.json"));
  EXPECT_EQ(v["runs"].size(), m["fio_runs"].size());
  EXPECT_EQ(v["bundle"]["vcpus"], m["vcpus"]);
  // summary.csv records the CPUs other tasks used during each run, and validate splits its errors by it.
  std::string summary = read_file(dir.file("bundle/summary.csv"));
  EXPECT_EQ(summary.rfind("run,foreign_cpus\n", 0), 0u) << summary;
  EXPECT_EQ(static_cast<std::size_t>(std::count(summary.begin(), summary.end(), '\n')), m["fio_runs"].size() + 1)
      << summary;
  for (const auto& r : v["runs"]) {
    ASSERT_TRUE(r.contains("foreign_cpus")) << r.dump() << "\n" << summary;
    EXPECT_GE(r["foreign_cpus"].get<double>(), 0.0);
  }
  EXPECT_EQ(v["summary"]["by_guest_load"]["unknown"], 0) << v["summary"].dump(2);
  // The vCPUs' wake-up latencies (vcpu_wake.cpp, built by the script) go to the calibrated guest.vm.
  if (run_command("command -v c++").exit_code == 0 and std::thread::hardware_concurrency() >= 2) {
    json w   = read_json_file(dir.file("bundle/vcpu_wake.json"));
    auto cal = run_pvsim("calibrate -q" + trace_args(dir.file("bundle/fio")) + " -o " + dir.file("d.json"));
    ASSERT_EQ(cal.exit_code, 0) << cal.output;
    json d = read_json_file(dir.file("d.json"));
    EXPECT_EQ(w["rounds"], 50);
    EXPECT_DOUBLE_EQ(d["vcpu_wake"]["busy_kick_latency_us"].get<double>(), w["busy_kick_latency_us"].get<double>())
        << d.dump(2);
  }

  // A failing step names itself and its log, and the script exits non-zero; bad options exit 2.
  auto fail = run_command("bash " + script + " -t " + dir.file("data/p2.dat") + " -o " + dir.file("b2") +
                          " -d 1 -e libaio -r 1 --size 16M -w bogus");
  EXPECT_NE(fail.exit_code, 0) << fail.output;
  EXPECT_NE(fail.output.find("log"), std::string::npos) << fail.output;
  auto usage = run_command("bash " + script + " --nonsense");
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  auto rounds = run_command("bash " + script + " -t " + dir.file("data/p3.dat") + " -o " + dir.file("b3") +
                            " --vcpu-wake-rounds 5");
  EXPECT_EQ(rounds.exit_code, 2) << rounds.output;
  EXPECT_NE(rounds.output.find("--vcpu-wake-rounds"), std::string::npos) << rounds.output;
  EXPECT_EQ(run_command("bash " + script + " --help").exit_code, 0);
}

TEST(Bundle, NetworkLabBundleChecksTheVifAndPredictsTheOtherStreamCounts)
{
  TempDir dir;
  auto res = run_pvsim("validate -q --bundle " + fixture("xen-net-q4") + " --json " + dir.file("v.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json v = read_json_file(dir.file("v.json"));
  ASSERT_EQ(v["net_runs"].size(), 2u);
  EXPECT_TRUE(v["net_runs"][0]["fitted_on"].get<bool>());
  EXPECT_LT(std::abs(v["net_runs"][0]["error_pct"]["gbps"].get<double>()), 2.0); // the speed is fitted on it
  EXPECT_GT(v["net_runs"][1]["predicted"]["gbps"].get<double>(), v["net_runs"][0]["predicted"]["gbps"].get<double>());
  EXPECT_GT(v["fit"]["speed_factor"].get<double>(), 0);
  EXPECT_LT(v["fit"]["speed_factor"].get<double>(), 1); // an emulated host is slower than the native costs
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  EXPECT_EQ(checks_about(b, "multi-queue-num-queues").size(), 1u);
  EXPECT_EQ(checks_about(b, "pvsim's netif handshake").size(), 1u);
  EXPECT_EQ(checks_about(b, "tx and rx event channels").size(), 1u);
}

TEST(Bundle, NetworkRunThatIsNotIperf3IsBadInput)
{
  TempDir dir;
  std::string bad = broken_copy(dir, "xen-net-q4", [](json&) {});
  std::ofstream(bad + "/net/iperf3_p4.json", std::ios::trunc) << "{\"jobs\": []}\n";
  auto res = run_pvsim("validate -q --bundle " + bad);
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("iperf3_p4.json"), std::string::npos) << res.output;
}

TEST(Bundle, TheRecordedGuestsKernelBecomesGuestVmsKernel)
{
  bundle::Bundle b = bundle::read_bundle(fixture("xen-q4"));
  EXPECT_EQ(b.kernel, "6.1.0-56-amd64");
  EXPECT_EQ(bundle::guest_kernel_of(b), std::optional<std::string>("6.1"));
  b.kernel = "9.3.0";
  EXPECT_EQ(bundle::guest_kernel_of(b), std::nullopt); // a version pvsim does not know: its defaults stay 6.18's
  b.kernel = "";
  EXPECT_EQ(bundle::guest_kernel_of(b), std::nullopt);
}
