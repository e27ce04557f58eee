/* Liveness without false verdicts (issue 16, point 2): a run is "stalled" only when requests are in flight and
 * nothing is left to happen (no event due, no thread awake); a run shorter than its start-up is not stalled. */
#include "sim/params.hpp"
#include "sim/registry.hpp"
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim;
using nlohmann::json;

namespace {
/** A test-only device that takes requests and never completes them: a model that lost a wake-up, at its simplest. */
struct BlackHoleParams {};

class BlackHole : public Component {
public:
  static constexpr const char* type_name = "test.black_hole";
  static constexpr const char* summary   = "Test model: takes requests, never completes them.";
  using Params                           = BlackHoleParams;
  static const ParamTable<Params>& param_table()
  {
    static const ParamTable<Params> t(type_name);
    return t;
  }
  BlackHole(std::string name, const Params&) : Component(std::move(name), type_name) {}
  void start(Simulation&) override {}
  bool can_complete() const override { return true; }
  void submit(Request*) override { ++held_; }
  std::optional<Occupancy> occupancy() const override { return Occupancy{held_, 0, held_}; }

private:
  std::uint64_t held_ = 0;
};
PVSIM_REGISTER_MODEL(BlackHole);
} // namespace

TEST(Liveness, RequestsHeldWithNothingLeftToHappenIsAStall)
{
  json doc = {{"duration", "10ms"},
              {"components",
               {{"job", {{"type", "source.closed"}, {"iodepth", 4}, {"target", "hole"}}},
                {"hole", {{"type", "test.black_hole"}}}}}};
  Simulation sim(scenario_from_json(doc, "stall"));
  json r = sim.run();
  EXPECT_TRUE(r["liveness"]["stalled"].get<bool>()) << r["liveness"].dump();
  EXPECT_THROW(require_conservation(r), std::runtime_error);
}

TEST(Liveness, ARunShorterThanItsStartUpIsNotAStallButAWarning)
{
  // 64 busy vCPUs on 2 cores (threads run as SimGrid actors, no event pending) for 200 µs: no request completes
  // yet, but work is under way. Once "stalled" with exit 1; now exit 0 and a warning.
  test::TempDir dir;
  std::string file = dir.write("startup.json", R"({"duration": "200us", "components": {
    "host": {"type": "cpu.host", "cores": 2},
    "vm": {"type": "guest.vm", "vcpus": 64, "pcpus": "host"},
    "fio": {"type": "job.fio", "vm": "vm", "numjobs": 64, "iodepth": 4, "rw": "randread", "bs": "4KiB",
            "submit_cpu": "20us", "complete_cpu": "10us", "target": "blkmq"},
    "blkmq": {"type": "blk_mq", "vm": "vm", "target": "nullb"},
    "nullb": {"type": "device.null_blk", "completion_latency": "100us", "hw_queue_depth": 64, "submit_queues": 8}}})");
  auto r           = test::run_pvsim("run -q " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no request completed"), std::string::npos) << r.output;
  json res = json::parse(test::read_file(dir.file("out/results.json")));
  EXPECT_FALSE(res["liveness"]["stalled"].get<bool>());
}
