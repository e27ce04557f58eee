/* What a large scenario needs of the machine: a guest of 4096 vCPUs (one SimGrid actor each) runs under an 8 GB
 * address-space limit (issue 16: with SimGrid's default 8 MiB stack per actor it asked for 32 GiB and aborted). */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

TEST(Limits, AGuestOfFourThousandVcpusRunsUnderAnEightGigabyteAddressSpaceLimit)
{
  TempDir dir;
  json doc      = {{"name", "big"},
                   {"duration", "20ms"},
                   {"components",
                    {{"host", {{"type", "cpu.host"}, {"cores", 64}}},
                     {"guest", {{"type", "guest.vm"}, {"vcpus", 4096}, {"pcpus", "host"}}},
                     {"fio", {{"type", "job.fio"}, {"vm", "guest"}, {"numjobs", 64}, {"iodepth", 4}, {"target", "blkmq"}}},
                     {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "nullb0"}}},
                     {"nullb0", {{"type", "device.null_blk"}, {"submit_queues", 64}}}}}};
  std::string f = dir.write("big.json", doc.dump());
  auto r =
      run_command("bash -c \"ulimit -v 8000000; " + pvsim_binary() + " run -q " + f + " -o " + dir.file("out") + "\"");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/results.json")));
}
