/* Bundles written by the lab in a box on this kind of machine (tests/data/lab/): `pvsim validate --bundle` accepts
 * each with every structure check passing, the exact checks of issue 5 (negotiated queues, ring slots = nr_tags,
 * pvsim's own handshake, CPU -> queue map, one interrupt per queue bound where the guest bound it). */
#include "sim/scenario.hpp"
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {

json validate_lab_bundle(const std::string& name, TempDir& dir)
{
  auto res =
      run_pvsim("validate -q --bundle " + source_dir() + "/tests/data/lab/" + name + " --json " + dir.file("v.json"));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  return read_json_file(dir.file("v.json"));
}

/** Every structure check of the bundle passed. */
void expect_every_check_passed(const json& bundle)
{
  for (const auto& c : bundle["checks"])
    EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
}

} // namespace

TEST(LabBundles, XenBlockLabPassesEveryStructureCheck)
{
  TempDir dir;
  json v        = validate_lab_bundle("xen-blk-q4", dir);
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  expect_every_check_passed(b);
  EXPECT_EQ(checks_about(b, "multi-queue-num-queues").size(), 1u);
  EXPECT_EQ(checks_about(b, "ring slots").size(), 4u);
  EXPECT_EQ(checks_about(b, "pvsim's blkif handshake").size(), 3u);
  EXPECT_EQ(checks_about(b, "CPU map").size(), 4u);
  EXPECT_EQ(checks_about(b, "one blkif event channel per queue").size(), 1u);
  EXPECT_EQ(checks_about(b, "interrupt vCPU of queue").size(), 4u);
  EXPECT_EQ(v["runs"].size(), 4u);
}

TEST(LabBundles, VirtioLabPassesEveryStructureCheck)
{
  TempDir dir;
  json v        = validate_lab_bundle("virtio-q2", dir);
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  expect_every_check_passed(b);
  EXPECT_EQ(checks_about(b, "QEMU num-queues").size(), 1u);
  EXPECT_EQ(checks_about(b, "CPU map").size(), 2u);
  EXPECT_EQ(checks_about(b, "interrupt vCPU of queue").size(), 2u);
  EXPECT_EQ(v["runs"].size(), 4u);
}

TEST(LabBundles, NetworkLabPassesEveryStructureCheck)
{
  TempDir dir;
  json v        = validate_lab_bundle("xen-net-q2", dir);
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  expect_every_check_passed(b);
  EXPECT_EQ(checks_about(b, "multi-queue-num-queues").size(), 1u);
  EXPECT_EQ(checks_about(b, "pvsim's netif handshake").size(), 1u);
  EXPECT_EQ(checks_about(b, "tx and rx event channels").size(), 1u);
  ASSERT_EQ(v["net_runs"].size(), 2u);
  std::printf("[lab] xen-net-q2: 2 streams measured %.3f Gbit/s, predicted %.3f\n",
              v["net_runs"][1]["measured"]["gbps"].get<double>(), v["net_runs"][1]["predicted"]["gbps"].get<double>());
}
