/* results.json's "guests": per guest (the jobs naming it in "vm"), its jobs' IOPS, bandwidth and latency together,
 * and Jain's fairness index across the guests. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim::test;
using json = nlohmann::json;

TEST(GuestReport, EachGuestSumsItsJobsAndFairnessIsJainsIndex)
{
  TempDir dir;
  // Two guests; "four" gets a second job: its report adds both jobs' requests.
  std::string extra = dir.write("two_jobs.json", R"({"type": "job.fio", "vm": "four", "numjobs": 1, "iodepth": 4,
    "rw": "randread", "bs": "4KiB", "target": "four_blkmq"})");
  auto r = run_pvsim("run -q " + source_dir() + "/scenarios/default.json --set duration=20ms -o " + dir.file("out") +
                     " --set 'components.four_fio2=" + read_file(extra) + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res        = json::parse(read_file(dir.file("out/results.json")));
  const json& per = res["guests"]["per_guest"];
  ASSERT_TRUE(per.contains("one") and per.contains("four")) << res["guests"].dump();
  EXPECT_EQ(per["four"]["jobs"].size(), 2u);
  EXPECT_EQ(per["four"]["requests"].get<long long>(), res["jobs"]["four_fio"]["requests"].get<long long>() +
                                                          res["jobs"]["four_fio2"]["requests"].get<long long>());
  double a = per["one"]["iops"].get<double>(), b = per["four"]["iops"].get<double>();
  double jain = (a + b) * (a + b) / (2 * (a * a + b * b));
  std::cout << "guests " << a << " and " << b << " IOPS: Jain " << jain << " (expected equal to the report's, 1e-9)\n";
  EXPECT_NEAR(res["guests"]["fairness_jain_iops"].get<double>(), jain, 1e-9);
}

TEST(GuestReport, JobsWithoutAGuestGiveNoGuestReport)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/mm1.json --set duration=50ms --set warmup=5ms -o " +
                      dir.file("out"))
                .exit_code,
            0);
  EXPECT_FALSE(json::parse(read_file(dir.file("out/results.json"))).contains("guests"));
}
