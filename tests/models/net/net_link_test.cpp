/* net.link: SimGrid's CM02 links and the event-driven FIFO carry the same traffic. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

namespace {
json run_vif(const std::string& model, int queues)
{
  TempDir dir;
  auto r =
      run_pvsim("run -q " + source_dir() + "/scenarios/xen-vif-mq.json -o " + dir.file("o") +
                " --set components.eth0.model=" + model + " --set components.vif.max_queues=" + std::to_string(queues) +
                " --set components.iperf.streams=4");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(read_file(dir.file("o/results.json")));
}
} // namespace

TEST(NetLink, SimgridAndFifoLinksCarryTheSameCpuBoundTraffic)
{
  double simgrid = run_vif("simgrid", 1)["components"]["eth0"]["ingress"]["goodput_bps"].get<double>();
  double fifo    = run_vif("fifo", 1)["components"]["eth0"]["ingress"]["goodput_bps"].get<double>();
  std::printf("[link] one queue: simgrid %.2f Gbit/s, fifo %.2f Gbit/s\n", simgrid / 1e9, fifo / 1e9);
  EXPECT_NEAR(simgrid, fifo, fifo * 0.03);
}

TEST(NetLink, ASaturatedSimgridLinkRunsNearLineRate)
{
  // Four queues saturate the link: goodput within 5 % of the 9.41 Gbit/s TCP goodput of 10 GbE (FIFO: 9.41).
  json r = run_vif("simgrid", 4);
  EXPECT_NEAR(r["components"]["eth0"]["ingress"]["goodput_bps"].get<double>(), 9.41e9, 9.41e9 * 0.05);
  EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}
