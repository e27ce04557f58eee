/* Bundles written by the lab in a box on this kind of machine (tests/data/lab/): `pvsim validate --bundle` accepts
 * each with every structure check passing, the exact checks of issue 5 (negotiated queues, ring slots = nr_tags,
 * pvsim's own handshake, CPU -> queue map, one interrupt per queue bound where the guest bound it). */
#include "sim/scenario.hpp"
#include "tests/cli_support.hpp"

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

int checks_passed(const json& bundle, const std::string& what)
{
  int n = 0;
  for (const auto& c : bundle["checks"])
    if (c["check"].get<std::string>().find(what) != std::string::npos) {
      EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
      n++;
    }
  return n;
}

} // namespace

TEST(LabBundles, XenBlockLabPassesEveryStructureCheck)
{
  TempDir dir;
  json v        = validate_lab_bundle("xen-blk-q4", dir);
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  EXPECT_EQ(checks_passed(b, "multi-queue-num-queues"), 1);
  EXPECT_EQ(checks_passed(b, "ring slots"), 4);
  EXPECT_EQ(checks_passed(b, "pvsim's blkif handshake"), 3);
  EXPECT_EQ(checks_passed(b, "CPU map"), 4);
  EXPECT_EQ(checks_passed(b, "one blkif event channel per queue"), 1);
  EXPECT_EQ(checks_passed(b, "interrupt vCPU of queue"), 4);
  EXPECT_EQ(v["runs"].size(), 4u);
}

TEST(LabBundles, VirtioLabPassesEveryStructureCheck)
{
  TempDir dir;
  json v        = validate_lab_bundle("virtio-q2", dir);
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  EXPECT_EQ(checks_passed(b, "QEMU num-queues"), 1);
  EXPECT_EQ(checks_passed(b, "CPU map"), 2);
  EXPECT_EQ(checks_passed(b, "interrupt vCPU of queue"), 2);
  EXPECT_EQ(v["runs"].size(), 4u);
}

TEST(LabBundles, NetworkLabPassesEveryStructureCheck)
{
  TempDir dir;
  json v        = validate_lab_bundle("xen-net-q2", dir);
  const json& b = v["bundle"];
  EXPECT_EQ(b["mismatches"], 0) << b.dump(2);
  EXPECT_EQ(checks_passed(b, "multi-queue-num-queues"), 1);
  EXPECT_EQ(checks_passed(b, "pvsim's netif handshake"), 1);
  EXPECT_EQ(checks_passed(b, "tx and rx event channels"), 1);
  ASSERT_EQ(v["net_runs"].size(), 2u);
  std::printf("[lab] xen-net-q2: 2 streams measured %.3f Gbit/s, predicted %.3f\n",
              v["net_runs"][1]["measured"]["gbps"].get<double>(), v["net_runs"][1]["predicted"]["gbps"].get<double>());
}
