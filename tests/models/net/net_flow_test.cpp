/* net.flow: the streams' threads move between vCPUs (migrate_interval), pvsim's abstraction of load balancing. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

namespace {
/** The shipped vif-vs-virtio-net scenario's virtio-net guest, its flow made a 3-stream sender with `set` added. */
json run_flow(const std::string& set)
{
  TempDir dir;
  auto r = run_pvsim("run -q " + source_dir() + "/scenarios/vif-vs-virtio-net.json -o " + dir.file("o") +
                     " --set components.kvm_iperf.streams=3 --set components.kvm_iperf.direction=tx" + set);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? json::parse(read_file(dir.file("o/results.json"))) : json::object();
}
} // namespace

TEST(NetFlow, EveryIntervalEachStreamsThreadMovesToTheNextVcpu)
{
  // 30 ms, warm-up 10 ms, a move every 4 ms: 7 moves (4, 8, ..., 28 ms), 5 of them after the warm-up.
  json r = run_flow(" --set components.kvm_iperf.migrate_interval=4ms");
  ASSERT_TRUE(r.contains("components"));
  json streams = r["components"]["kvm_iperf"]["streams"];
  ASSERT_EQ(streams.size(), 3u);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    EXPECT_EQ(streams[i]["vcpu"], static_cast<int>((i + 7) % 4)) << "stream " << i << ": from vCPU i, 7 moves";
    EXPECT_EQ(streams[i]["migrations"], 5) << "stream " << i;
  }
}

TEST(NetFlow, ThreadsStayPutByDefault)
{
  json r = run_flow("");
  ASSERT_TRUE(r.contains("components"));
  json streams = r["components"]["kvm_iperf"]["streams"];
  for (std::size_t i = 0; i < streams.size(); ++i) {
    EXPECT_EQ(streams[i]["vcpu"], static_cast<int>(i)) << "stream i on vCPU i mod vCPUs";
    EXPECT_FALSE(streams[i].contains("migrations"));
  }
}

TEST(NetFlow, StreamsSendFromStartdelayForRuntimeOnly)
{
  // Window 10-30 ms. A rate-paced flow (3 streams x 100 MB/s) sends from 15 ms for 10 ms: half the window's bytes
  // of the same flow sending all along.
  const std::string paced = " --set components.kvm_iperf.rate=100MB/s";
  json all                = run_flow(paced);
  json part               = run_flow(paced + " --set components.kvm_iperf.startdelay=15ms"
                                                           " --set components.kvm_iperf.runtime=10ms");
  ASSERT_TRUE(all.contains("components") and part.contains("components"));
  double b_all  = all["components"]["kvm_iperf"]["throughput_bps"].get<double>();
  double b_part = part["components"]["kvm_iperf"]["throughput_bps"].get<double>();
  std::cout << "all along " << b_all / 1e9 << " Gbit/s, 15-25 ms only " << b_part / 1e9
            << " Gbit/s (expected half, +-5%)\n";
  EXPECT_NEAR(b_part / b_all, 0.5, 0.025);
  json never = run_flow(" --set components.kvm_iperf.startdelay=1s");
  EXPECT_EQ(never["components"]["kvm_iperf"]["throughput_bps"].get<double>(), 0.0) << "silenced: no packet at all";
}
