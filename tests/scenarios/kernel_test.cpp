/* guest.vm's kernel picks the era's blk-mq default map, end to end (issue 18's Done-when check). */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

namespace {
std::vector<std::string> cpu_lists(const std::string& kernel)
{
  TempDir dir;
  std::string file = dir.write("g.json", R"({"duration": "2ms", "components": {
    "host": {"type": "cpu.host", "cores": 4},
    "guest": {"type": "guest.vm", "vcpus": 4, "pcpus": "host"},
    "fio": {"type": "job.fio", "vm": "guest", "numjobs": 4, "iodepth": 4, "rw": "randread", "bs": "4KiB",
            "target": "blkmq"},
    "blkmq": {"type": "blk_mq", "vm": "guest", "target": "nullb"},
    "nullb": {"type": "device.null_blk", "submit_queues": 2}}})");
  auto r           = run_pvsim("run -q " + file + " --set components.guest.kernel=" + kernel + " -o " + dir.file("o"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> out;
  json res = json::parse(read_file(dir.file("o/results.json")));
  for (const auto& h : res["components"]["blkmq"]["hw_queues"])
    out.push_back(h["cpu_list"].get<std::string>());
  return out;
}
} // namespace

TEST(GuestKernel, A61GuestSpreadsQueuesInTurnA66GuestInBlocks)
{
  EXPECT_EQ(cpu_lists("6.1"), (std::vector<std::string>{"0,2", "1,3"}));
  EXPECT_EQ(cpu_lists("6.6"), (std::vector<std::string>{"0-1", "2-3"}));
}

TEST(GuestKernel, AnUnsupportedVersionIsBadInputListingTheSupportedOnes)
{
  auto r = run_pvsim("check " + source_dir() + "/scenarios/xen-blk-mq.json --set components.domU.kernel=7.1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("supported: 3.13"), std::string::npos) << r.output;
}
