/* The metrics a regression run compares, from a results.json (analysis/regress/metrics.hpp). */
#include "analysis/regress/metrics.hpp"

#include <gtest/gtest.h>

using namespace pvsim::regress;
using nlohmann::json;

TEST(RegressMetrics, JainsIndexIsOneWhenEqualAndOneOverNWhenOneGetsEverything)
{
  EXPECT_DOUBLE_EQ(jain_index({5, 5, 5, 5}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({8, 0, 0, 0}), 0.25);
  EXPECT_DOUBLE_EQ(jain_index({1, 3}), 16.0 / 20.0); // (1 + 3)^2 / (2 (1 + 9))
}

TEST(RegressMetrics, CpuPerRequestCountsOnlyTheRequestsOfTheJobsAHostServes)
{
  // Two guests that share nothing: host_a runs job a (1000 requests), host_b job b (3000).
  auto job = [](double n) { return json{{"requests", n}, {"iops", n}, {"MBps", 1.0}, {"latency_us", {{"count", 0}}}}; };
  json results = {{"jobs", {{"a", job(1000)}, {"b", job(3000)}}},
                  {"scenario",
                   {{"components",
                     {{"host_a", {{"type", "cpu.host"}}},
                      {"vm_a", {{"type", "guest.vm"}, {"pcpus", "host_a"}}},
                      {"a", {{"type", "job.fio"}, {"vm", "vm_a"}, {"target", "dev_a"}}},
                      {"dev_a", {{"type", "device.null_blk"}}},
                      {"host_b", {{"type", "cpu.host"}}},
                      {"vm_b", {{"type", "guest.vm"}, {"pcpus", "host_b"}}},
                      {"b", {{"type", "job.fio"}, {"vm", "vm_b"}, {"target", "dev_b"}}},
                      {"dev_b", {{"type", "device.null_blk"}}}}}}},
                  {"components", {{"host_a", {{"cpu_s", 0.002}}}, {"host_b", {{"cpu_s", 0.003}}}}}};
  std::map<std::string, double> m;
  for (const auto& x : metrics_of(results))
    m[x.name] = x.value;
  EXPECT_DOUBLE_EQ(m.at("cpu_us_per_request.host_a"), 2.0); // 2 ms / 1000
  EXPECT_DOUBLE_EQ(m.at("cpu_us_per_request.host_b"), 1.0); // 3 ms / 3000
  EXPECT_DOUBLE_EQ(m.at("jobs.fairness"), 16e6 / (2 * 10e6));
}
