/* The first lab runs (../shared/traces/xen-lab-tcg/, qemu-lab-tcg/) imported as bundles by
 * analysis/capture/import_lab_traces.py and validated: every structure check of the real guests passes exactly
 * (negotiated queues, ring slots = nr_tags, pvsim's handshake, CPU -> queue map, one interrupt per queue bound where
 * the guest bound it); the timing errors are printed, not judged (emulated CPUs: see the README). */
#include "sim/scenario.hpp"
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {

struct LabSet {
  std::string folder;
  int queues;
  bool xen;
};

json import_and_validate(const LabSet& s, TempDir& dir)
{
  std::string src    = shared_dir() + "/traces/" + s.folder;
  std::string bundle = dir.file("bundle");
  auto imp =
      run_command("/usr/bin/python3 " + source_dir() + "/analysis/capture/import_lab_traces.py " + src + " " + bundle);
  EXPECT_EQ(imp.exit_code, 0) << imp.output;
  auto res = run_pvsim("validate -q --bundle " + bundle + " --json " + dir.file("v.json"));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  json v        = read_json_file(dir.file("v.json"));
  const json& m = v["summary"]["median_abs_error_pct"];
  std::printf("[lab] %s: median |error| IOPS %.1f %%, clat mean %.1f %%, p99 %.1f %% (fitted and validated on the "
              "same %zu runs)\n",
              s.folder.c_str(), m["iops"].get<double>(), m["clat_mean_us"].get<double>(),
              m["clat_p99_us"].get<double>(), v["runs"].size());
  return v;
}

class LabTraces : public ::testing::TestWithParam<LabSet> {};

} // namespace

TEST_P(LabTraces, ImportedBundlePassesEveryStructureCheck)
{
  const LabSet& s = GetParam();
  TempDir dir;
  json v = import_and_validate(s, dir);
  ASSERT_TRUE(v.contains("bundle"));
  const json& b = v["bundle"];
  for (const auto& c : b["checks"])
    EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
  EXPECT_EQ(b["mismatches"], 0);
  EXPECT_EQ(v["runs"].size(), 6u);
  EXPECT_EQ(checks_about(b, "CPU map").size(), static_cast<std::size_t>(s.queues));
  EXPECT_EQ(checks_about(b, "interrupt vCPU of queue").size(), static_cast<std::size_t>(s.queues));
  if (s.xen) {
    EXPECT_EQ(checks_about(b, "ring slots").size(), static_cast<std::size_t>(s.queues));
    EXPECT_EQ(checks_about(b, "pvsim's blkif handshake").size(), 3u);
    EXPECT_EQ(checks_about(b, "multi-queue-num-queues").size(), 1u);
  } else {
    EXPECT_EQ(checks_about(b, "QEMU num-queues").size(), 1u);
  }
  for (const auto& r : v["runs"])
    EXPECT_GT(r["predicted"]["iops"].get<double>(), 0) << r.dump();
}

INSTANTIATE_TEST_SUITE_P(
    All, LabTraces,
    ::testing::Values(LabSet{"xen-lab-tcg/blkfront-max-queues-1", 1, true},
                      LabSet{"xen-lab-tcg/blkfront-max-queues-4", 4, true}, LabSet{"qemu-lab-tcg/native_q1", 1, false},
                      LabSet{"qemu-lab-tcg/native_q2", 2, false}, LabSet{"qemu-lab-tcg/iouring_q2", 2, false},
                      LabSet{"qemu-lab-tcg/threads_q2", 2, false}, LabSet{"qemu-lab-tcg/native_q2_iot", 2, false}),
    [](const ::testing::TestParamInfo<LabSet>& param_info) {
      std::string n = param_info.param.folder.substr(param_info.param.folder.find('/') + 1);
      for (auto& c : n)
        if (c == '-')
          c = '_';
      return n;
    });

TEST(LabTraces, ImportRejectsAFolderThatIsNotALabRun)
{
  TempDir dir;
  auto res = run_command("/usr/bin/python3 " + source_dir() + "/analysis/capture/import_lab_traces.py " + shared_dir() +
                         "/traces/virtio-vm-1q " + dir.file("b"));
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("guest-info.txt"), std::string::npos) << res.output;
}
