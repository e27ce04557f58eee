/* Replaying a blktrace through the pvsim command: the shared traces' blkparse excerpts and per-request CSV, what is
 * replayed and skipped, bad trace files (exit 2, the file and the line, nothing written) and determinism. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

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

/** One event of a small trace written both as blktrace's binary records and as blkparse's lines. */
struct TraceEvent {
  int cpu;
  std::uint64_t t_ns;
  char action;
  std::uint64_t sector;
  std::uint32_t bytes;
  bool write;
};

/** Three requests and their noise: r1 read on CPU 0, r2 write on CPU 1, r3 read on CPU 0 with a bio back-merged into
 * it, a flush (no sector) and a plug. Completions on CPU 1. */
const std::vector<TraceEvent> small_trace = {
    {0, 1000, 'Q', 1000, 4096, false},  {0, 1500, 'G', 1000, 4096, false},   {0, 1700, 'P', 0, 0, false},
    {0, 3000, 'D', 1000, 4096, false},  {1, 20000, 'Q', 5000, 8192, true},   {1, 21000, 'D', 5000, 8192, true},
    {0, 30000, 'Q', 0, 0, true},        {0, 40000, 'Q', 9000, 4096, false},  {0, 41000, 'Q', 9008, 4096, false},
    {0, 41500, 'M', 9008, 4096, false}, {0, 45000, 'D', 9000, 8192, false},  {1, 60000, 'C', 1000, 4096, false},
    {1, 90000, 'C', 5000, 8192, true},  {1, 100000, 'C', 9000, 8192, false},
};

/** blktrace -o NAME's files: NAME.blktrace.<cpu>, struct blk_io_trace records (include/uapi/linux/blktrace_api.h) in
 * little- or big-endian order, with a process note naming pid 100 "fio" first. `version` 7 is blktrace's. */
std::string write_blktrace(const TempDir& dir, const std::string& name, bool big_endian, int version = 7)
{
  auto put = [big_endian](std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      int shift = big_endian ? 8 * (bytes - 1 - i) : 8 * i;
      out.push_back(static_cast<char>((v >> shift) & 0xff));
    }
  };
  const std::string actions = "QMFGSRDCPUTIXBA"; // enum blktrace_act from __BLK_TA_QUEUE = 1
  std::string files[2];
  std::uint32_t seq[2] = {0, 0};
  auto record          = [&](int cpu, std::uint64_t t, std::uint32_t action, std::uint64_t sector, std::uint32_t bytes,
                    const std::string& pdu) {
    std::string& out = files[cpu];
    put(out, 0x65617400u | static_cast<std::uint32_t>(version), 4);
    put(out, ++seq[cpu], 4);
    put(out, t, 8);
    put(out, sector, 8);
    put(out, bytes, 4);
    put(out, action, 4);
    put(out, 100, 4);             // pid
    put(out, (8u << 20) | 0u, 4); // device 8,0
    put(out, static_cast<std::uint32_t>(cpu), 4);
    put(out, 0, 2); // error
    put(out, pdu.size(), 2);
    out += pdu;
  };
  record(0, 0, (1u << 10) << 16, 0, 0, std::string("fio\0\0\0\0\0", 8)); // BLK_TC_NOTIFY, __BLK_TN_PROCESS
  for (const auto& e : small_trace) {
    std::uint32_t act = static_cast<std::uint32_t>(actions.find(e.action)) + 1;
    std::uint32_t cat = e.write ? 2u : 1u; // BLK_TC_WRITE, BLK_TC_READ
    record(e.cpu, e.t_ns, (cat << 16) | act, e.sector, e.bytes, "");
  }
  for (int c = 0; c < 2; ++c)
    dir.write(name + ".blktrace." + std::to_string(c), files[c]);
  return dir.file(name + ".blktrace.0");
}

/** The same events as blkparse prints them. */
std::string write_blkparse(const TempDir& dir)
{
  std::string text;
  int seq[2] = {0, 0};
  for (const auto& e : small_trace) {
    char line[200];
    std::string where = e.bytes == 0 ? std::string(e.action == 'P' ? "N [fio]" : "FWS [fio]")
                                     : std::string(e.write ? "W " : "R ") + std::to_string(e.sector) + " + " +
                                           std::to_string(e.bytes / 512) + (e.action == 'C' ? " [0]" : " [fio]");
    std::snprintf(line, sizeof line, "  8,0  %2d %8d %5llu.%09llu   100  %c   %s\n", e.cpu, ++seq[e.cpu],
                  static_cast<unsigned long long>(e.t_ns / 1000000000),
                  static_cast<unsigned long long>(e.t_ns % 1000000000), e.action, where.c_str());
    text += line;
  }
  return dir.write("small.txt", text);
}

json replay_section(const json& results)
{
  json x = results["components"]["replay"]["replay"];
  x.erase("trace");
  x.erase("format");
  return x;
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

TEST(ReplayCommand, BlktraceBinaryFilesReplayAsTheirBlkparseOutputDoes)
{
  TempDir dir;
  std::string text = write_blkparse(dir);
  std::string bin  = write_blktrace(dir, "small", false);
  TempDir a, b;
  json from_text = run_ok(a, scenario(text, R"(, "timing": "as-recorded")"));
  json from_bin  = run_ok(b, scenario(bin, R"(, "timing": "as-recorded")"));
  EXPECT_EQ(from_bin["components"]["replay"]["replay"]["format"], "blktrace");
  json x = replay_section(from_bin);
  EXPECT_EQ(x, replay_section(from_text));
  // Three requests (the merged bio's sectors in r3's 8 KiB), the flush skipped, both CPUs' files read.
  EXPECT_EQ(x["trace_ios"], 3);
  EXPECT_EQ(x["bytes"], 4096 + 8192 + 8192);
  EXPECT_EQ(x["by_vcpu"], json({{"0", 2}, {"1", 1}}));
  EXPECT_EQ(x["skipped"], json({{"merged_bio", 1}, {"flush_or_unsectored_event", 1}}));
  EXPECT_EQ(x["recorded_q_to_c_us"]["count"], 3);
  EXPECT_NEAR(x["recorded_q_to_c_us"]["mean"].get<double>(), (59.0 + 70.0 + 60.0) / 3, 1e-9);
}

TEST(ReplayCommand, BigEndianBlktraceFilesReadTheSame)
{
  TempDir dir, a, b;
  json little = run_ok(a, scenario(write_blktrace(dir, "le", false)));
  json big    = run_ok(b, scenario(write_blktrace(dir, "be", true)));
  EXPECT_EQ(replay_section(big), replay_section(little));
  EXPECT_EQ(replay_section(big)["trace_ios"], 3);
}

TEST(ReplayCommand, ABlktraceFileOfAnotherVersionIsRefusedNamingTheFileAndByte)
{
  TempDir dir;
  std::string bin = write_blktrace(dir, "v6", false, 6);
  expect_refused(scenario(bin), {"v6.blktrace.0", "byte 0", "version 6"});
}
