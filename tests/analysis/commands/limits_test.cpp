/* What a large scenario needs of the machine (issue 16): a guest of 4096 vCPUs (one SimGrid actor each) runs under an
 * 8 GB address-space limit; what cannot fit (requests in flight, stacks) is refused from the estimate before it runs.
 */
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

namespace {
json fio_on_null_blk(long long numjobs, long long iodepth, int vcpus = 16)
{
  return {{"name", "big"},
          {"duration", "20ms"},
          {"components",
           {{"host", {{"type", "cpu.host"}, {"cores", 16}}},
            {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}},
            {"fio",
             {{"type", "job.fio"}, {"vm", "guest"}, {"numjobs", numjobs}, {"iodepth", iodepth}, {"target", "blkmq"}}},
            {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "nullb0"}}},
            {"nullb0", {{"type", "device.null_blk"}, {"submit_queues", 16}}}}}};
}
} // namespace

TEST(Limits, FourBillionRequestsInFlightAreRefusedBeforeTheyAreAllocated)
{
  // numjobs 4096 x iodepth 1 M: each field valid, together about 2 TiB of requests. Refused from the estimate, under a
  // 2 GB address-space limit (a run that tried would die there), naming the job and what to lower; nothing written.
  TempDir dir;
  std::string f = dir.write("big.json", fio_on_null_blk(4096, 1000000).dump());
  auto r = run_command("bash -c \"ulimit -v 2000000; " + pvsim_binary() + " run -q " + f + " -o " + dir.file("out") +
                       "\" 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/fio"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("iodepth or numjobs of 'fio'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TiB"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(Limits, CheckRefusesWhatRunWouldRefuse)
{
  TempDir dir;
  std::string f = dir.write("big.json", fio_on_null_blk(4096, 1000000).dump());
  auto r        = run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("requests in flight"), std::string::npos) << r.output;
}

TEST(Limits, CheckPrintsTheEstimate)
{
  TempDir dir;
  std::string f = dir.write("small.json", fio_on_null_blk(4, 32).dump());
  auto r        = run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // 4 x 32 requests; 16 vCPUs' stacks; the process itself.
  EXPECT_NE(r.output.find("128 requests in flight"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("16 vCPUs of 'guest'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("requests per simulated second"), std::string::npos) << r.output;
}

TEST(Limits, MaxMemoryLowersTheLimit)
{
  TempDir dir;
  std::string f = dir.write("mid.json", fio_on_null_blk(64, 100000).dump()); // 6.4 M requests, about 3 GiB
  auto refused  = run_pvsim("check " + f + " --max-memory 1GiB");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--max-memory"), std::string::npos) << refused.output;
  auto fits = run_pvsim("check " + f + " --max-memory 100GiB");
  EXPECT_EQ(fits.exit_code, 0) << fits.output;
}

TEST(Limits, AMalformedMaxMemoryIsBadInput)
{
  TempDir dir;
  std::string f = dir.write("small.json", fio_on_null_blk(1, 1).dump());
  auto r        = run_pvsim("check " + f + " --max-memory lots");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--max-memory"), std::string::npos) << r.output;
}

TEST(Limits, StacksBeyondTheAddressSpaceLimitAreRefusedNotAborted)
{
  // 4096 vCPUs reserve 1 GiB of stacks: under a 600 MB limit SimGrid would fail to allocate them and abort (134).
  TempDir dir;
  std::string f = dir.write("wide.json", fio_on_null_blk(4, 4, 4096).dump());
  auto r = run_command("bash -c \"ulimit -v 600000; " + pvsim_binary() + " run -q " + f + " -o " + dir.file("out") +
                       "\" 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("address space"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/components/guest"), std::string::npos) << r.output;
}
