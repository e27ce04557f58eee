/* Replaying a blktrace through the pvsim command: the shared traces' blkparse excerpts and per-request CSV, what is
 * replayed and skipped, bad trace files (exit 2, the file and the line, nothing written) and determinism. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/** A 4-vCPU guest with a 2-queue null_blk replaying `trace` (an absolute path, or relative to the scenario). */
std::string scenario(const std::string& trace, const std::string& replay_extra = "",
                     const std::string& duration = "20ms")
{
  return R"({"name": "replay", "seed": 1, "duration": ")" + duration + R"(", "components": {
    "host": {"type": "cpu.host", "cores": 4},
    "guest": {"type": "guest.vm", "vcpus": 4, "pcpus": "host"},
    "replay": {"type": "source.replay", "vm": "guest", "target": "blkmq", "trace": ")" +
         trace + "\"" + replay_extra + R"(},
    "blkmq": {"type": "blk_mq", "vm": "guest", "target": "nullb0"},
    "nullb0": {"type": "device.null_blk", "completion_latency": "20us", "submit_queues": 2, "hw_queue_depth": 256}}})";
}

std::string excerpt(const std::string& queues)
{
  return shared_dir() + "/traces/xen-lab-tcg/blkfront-max-queues-" + queues + "/dom0-blkparse-excerpt.txt";
}

json run_ok(const TempDir& dir, const std::string& scenario_text)
{
  std::string file = dir.write("replay.json", scenario_text);
  auto r           = run_pvsim("run -q " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(read_file(dir.file("out/results.json")));
}

void expect_refused(const std::string& scenario_text, const std::vector<std::string>& named)
{
  TempDir dir;
  std::string file = dir.write("replay.json", scenario_text);
  for (std::string cmd : {"check " + file, "run -q " + file + " -o " + dir.file("out")}) {
    auto r = run_pvsim(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << r.output;
    for (const auto& n : named)
      EXPECT_NE(r.output.find(n), std::string::npos) << cmd << "output should name '" << n << "': " << r.output;
    EXPECT_FALSE(fs::exists(dir.file("out"))) << "nothing written";
  }
}

} // namespace

TEST(ReplayCommand, TheXenLabExcerptsReplayWithEveryRequestAccounted)
{
  // The excerpts' Q events (grep -c ' Q '): 13 with one ring, 12 with four.
  for (auto [q, queued] : {std::pair<const char*, int>{"1", 13}, {"4", 12}}) {
    TempDir dir;
    json res      = run_ok(dir, scenario(excerpt(q), R"(, "timing": "as-fast-as-possible", "depth": 4)"));
    const json& x = res["components"]["replay"]["replay"];
    EXPECT_TRUE(res["conservation"]["ok"].get<bool>());
    // Every Q is replayed; the tail's requests issued (D) before it began are skipped.
    EXPECT_EQ(x["trace_ios"], queued) << q << ": " << x.dump();
    EXPECT_EQ(x["replayed"], queued) << q;
    EXPECT_EQ(x["completed"], queued) << q;
    EXPECT_GT(x["skipped"].value("no_Q_event", 0), 0) << q << ": " << x["skipped"];
    EXPECT_GT(x["recorded_q_to_c_us"]["count"].get<int>(), 0) << q;
    EXPECT_EQ(x["bytes"], queued * 4096) << q;
    std::printf("[data] blkfront-max-queues-%s: recorded Q->C mean %.1f us p99 %.1f us; simulated mean %.1f us\n", q,
                x["recorded_q_to_c_us"]["mean"].get<double>(), x["recorded_q_to_c_us"]["p99"].get<double>(),
                x["simulated_q_to_c_us"]["mean"].get<double>());
  }
}

TEST(ReplayCommand, ThePerRequestCsvReplaysAsRecordedOnTheRecordedCpus)
{
  // The virtio guest's 5 s libaio qd16 trace (340,705 requests, Q on CPUs 0 and 1); its first 0.9 s replayed (the
  // first 0.87 s are a few I/Os of other processes, then fio starts).
  TempDir dir;
  json res = run_ok(
      dir, scenario(shared_dir() + "/traces/virtio-vm-1q/per-request/libaio_qd16_5s_block_events.csv.gz", "", "900ms"));
  const json& x = res["components"]["replay"]["replay"];
  EXPECT_TRUE(res["conservation"]["ok"].get<bool>());
  EXPECT_EQ(x["format"], "csv");
  EXPECT_EQ(x["trace_ios"], 340961); // fio's 340,705 and other processes' I/Os (the rows with a Q)
  EXPECT_GT(x["replayed"].get<int>(), 500);
  EXPECT_EQ(x["replayed"], x["completed"].get<int>() + x["in_flight"].get<int>());
  EXPECT_EQ(x["by_vcpu"].size(), 2u) << x["by_vcpu"];
  std::printf("[data] virtio-vm-1q: replayed %d in 0.9 s; recorded Q->C mean %.1f us, simulated %.1f us\n",
              x["replayed"].get<int>(), x["recorded_q_to_c_us"]["mean"].get<double>(),
              x["simulated_q_to_c_us"]["mean"].get<double>());
}

TEST(ReplayCommand, SubmitOnDReplaysTheIssueTimes)
{
  TempDir dir;
  json res      = run_ok(dir, scenario(excerpt("4"), R"(, "submit_on": "D")", "60s"));
  const json& x = res["components"]["replay"]["replay"];
  // The tail opens with a D whose Q is before the cut: replayed with submit_on D, and no request lacks its D.
  EXPECT_EQ(x["replayed"], 13) << x.dump();
  EXPECT_EQ(x["skipped"].value("no_D_event", 0), 0);
}

TEST(ReplayCommand, AMissingTraceIsRefusedNamingTheComponentAndTheFile)
{
  expect_refused(scenario("no-such-trace.txt"), {"/components/replay/trace", "no-such-trace.txt"});
}

TEST(ReplayCommand, AFileThatIsNotBlkparseOutputIsRefusedNamingIt)
{
  TempDir dir;
  std::string junk = dir.write("junk.txt", "this is not\na blkparse output\n");
  expect_refused(scenario(junk), {junk, "line 1", "blkparse"});
}

TEST(ReplayCommand, AMalformedEventLineIsRefusedWithItsLineNumber)
{
  TempDir dir;
  std::string bad = dir.write("bad.txt", "  8,0    0        1     0.000000000  1234  Q   R 100 + 8 [fio]\n"
                                         "  8,0    0        2     zero  1234  C   R 100 + 8 [0]\n");
  expect_refused(scenario(bad), {bad, "line 2"});
}

TEST(ReplayCommand, ABadCsvColumnIsRefusedNamingIt)
{
  TempDir dir;
  std::string bad = dir.write("bad.csv", "q_s,i_s,d_s,c_s,sector,nr_sector,rwbs,comm,q_cpu,d_cpu\n"
                                         "0.1,,0.2,0.3,8,8,R,fio,0,0\n");
  expect_refused(scenario(bad), {bad, "c_cpu"});
}

TEST(ReplayCommand, TheSameSeedGivesTheSameResults)
{
  TempDir a, b;
  std::string s = scenario(excerpt("4"), R"(, "timing": "as-fast-as-possible", "loop": true)");
  json ra = run_ok(a, s), rb = run_ok(b, s);
  EXPECT_EQ(ra["components"].dump(), rb["components"].dump());
  EXPECT_EQ(ra["jobs"].dump(), rb["jobs"].dump());
  EXPECT_EQ(ra["queues"].dump(), rb["queues"].dump());
}
