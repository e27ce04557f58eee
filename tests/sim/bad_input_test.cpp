/* Bad input, class by class: one clear message naming the file, the JSON pointer and what was expected; exit code 2;
 * no output directory created. */
#include "tests/support/cli_support.hpp"

using namespace pvsim::test;

namespace {
const char* good_components = R"({
    "job": {"type": "source.closed", "iodepth": 4, "target": "dev"},
    "dev": {"type": "device.null_blk", "completion_latency": "10us"}
  })";

std::string scenario(const std::string& components, const std::string& top = R"("duration": "10ms")")
{
  return "{" + top + ",\n  \"components\": " + components + "\n}\n";
}

/** Runs `pvsim run` on the text and checks exit code 2, the message parts and that no output was written. */
void expect_rejected(const std::string& text, const std::vector<std::string>& message_parts)
{
  TempDir dir;
  std::string file = dir.write("scenario.json", text);
  std::string out  = dir.file("out");
  auto r           = run_pvsim("run " + file + " -o " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(file), std::string::npos) << "the message names the file: " << r.output;
  for (const auto& part : message_parts)
    EXPECT_NE(r.output.find(part), std::string::npos) << "expected '" << part << "' in: " << r.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << "no output directory after bad input";
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "nothing else written";
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}
} // namespace

TEST(BadInput, MalformedJsonGivesLineAndColumn)
{
  expect_rejected("{\"duration\": \"1s\",\n \"components\": {\"job\": {\"type\": \"source.closed\" \"target\": 1}}}",
                  {"line 2", "malformed JSON"});
}

TEST(BadInput, ANumberBeyondADoubleIsRefusedNotAnInternalError)
{
  // Found by the fuzz smoke run: nlohmann's out_of_range.406 escaped as "internal error", exit 1.
  expect_rejected("{\"duration\": 1e999999, \"components\": {}}", {"malformed JSON", "number overflow"});
}

TEST(BadInput, WrongTypeNamesThePointerAndTheExpectedType)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "iodepth": "four", "target": "dev"},
                               "dev": {"type": "device.null_blk"}})"),
                  {"/components/job/iodepth", "expected an integer"});
}

TEST(BadInput, NegativeDepthIsOutOfRange)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "iodepth": -4, "target": "dev"},
                               "dev": {"type": "device.null_blk"}})"),
                  {"/components/job/iodepth", "[1,", "-4"});
}

TEST(BadInput, ZeroServersIsOutOfRange)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "target": "st"},
                               "st": {"type": "station.fifo", "servers": 0, "service": "1us"}})"),
                  {"/components/st/servers", "0"});
}

TEST(BadInput, NegativeLatencyIsOutOfRange)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "target": "dev"},
                               "dev": {"type": "device.null_blk", "completion_latency": "-3us"}})"),
                  {"/components/dev/completion_latency", "-3us"});
}

TEST(BadInput, UnknownKeyGetsADidYouMean)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "iodpeth": 4, "target": "dev"},
                               "dev": {"type": "device.null_blk"}})"),
                  {"/components/job/iodpeth", "unknown key", "did you mean 'iodepth'"});
}

TEST(BadInput, UnknownTopLevelKeyGetsADidYouMean)
{
  expect_rejected(scenario(good_components, R"("duration": "10ms", "warmpu": "1ms")"),
                  {"/warmpu", "did you mean 'warmup'"});
}

TEST(BadInput, UnknownModelTypeGetsADidYouMean)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "target": "dev"},
                               "dev": {"type": "device.nul_blk"}})"),
                  {"/components/dev/type", "did you mean 'device.null_blk'"});
}

TEST(BadInput, AReferenceToAMissingComponentIsNamed)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "target": "dve"},
                               "dev": {"type": "device.null_blk"}})"),
                  {"/components/job/target", "no component named 'dve'", "did you mean 'dev'"});
}

TEST(BadInput, ACycleInTheRequestPathIsShown)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "target": "a"},
                               "a": {"type": "station.fifo", "service": "1us", "next": "b"},
                               "b": {"type": "station.fifo", "service": "1us", "next": "a"}})"),
                  {"cycle", "a → b → a"});
}

TEST(BadInput, ADanglingComponentIsNamed)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed", "target": "dev"},
                               "dev": {"type": "device.null_blk"},
                               "spare": {"type": "device.null_blk"}})"),
                  {"/components/spare", "receives no requests"});
}

TEST(BadInput, AJobMustBeConnected)
{
  expect_rejected(scenario(R"({"job": {"type": "source.closed"}, "dev": {"type": "device.null_blk"}})"),
                  {"/components/job", "missing 'target'"});
}

TEST(BadInput, AScenarioWithoutAJobIsRejected)
{
  expect_rejected(scenario(R"({"dev": {"type": "device.null_blk"}})"), {"no job"});
}

TEST(BadInput, ABareNumberForADurationAsksForAUnit)
{
  expect_rejected(scenario(good_components, R"("duration": 10)"), {"/duration", "unit", "duration_s"});
}

TEST(BadInput, WarmupMustBeShorterThanTheRun)
{
  expect_rejected(scenario(good_components, R"("duration": "10ms", "warmup": "20ms")"), {"warmup", "shorter"});
}

TEST(BadInput, ABadOverrideIsRejectedLikeTheFile)
{
  TempDir dir;
  std::string file = dir.write("s.json", scenario(good_components));
  auto r           = run_pvsim("run " + file + " -o " + dir.file("out") + " --set components.dev.hw_queue_depth=0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/dev/hw_queue_depth"), std::string::npos) << r.output;
  r = run_pvsim("run " + file + " -o " + dir.file("out") + " --set components.dve.hw_queue_depth=8");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("did you mean 'dev'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(BadInput, AMissingFileIsBadInput)
{
  auto r = run_pvsim("check /nonexistent/scenario.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cannot open"), std::string::npos) << r.output;
}

TEST(BadInput, AnUnknownCommandLineOptionExitsWith2)
{
  EXPECT_EQ(run_pvsim("run --frobnicate").exit_code, 2);
  EXPECT_EQ(run_pvsim("").exit_code, 2);
}

TEST(BadInput, AHugeFileIsRefusedAtOnceWithoutReadingIt)
{
  // A sparse 11 GiB file: reading it whole would take the machine's memory.
  TempDir dir;
  std::string file = dir.file("huge.json");
  { std::ofstream(file).put('{'); }
  std::filesystem::resize_file(file, 11ull << 30);
  auto r = run_pvsim("check " + file);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("11.0 GiB"), std::string::npos) << r.output;
}

TEST(BadInput, ABinaryFileIsRefusedAsBinary)
{
  TempDir dir;
  std::string file = dir.file("scenario.json");
  std::ofstream(file, std::ios::binary).write("\x7f" "ELF\x02\x01\x01\0\0\0", 10);
  auto r = run_pvsim("check " + file);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("looks binary"), std::string::npos) << r.output;
}

TEST(BadInput, AFolderIsNotAScenario)
{
  TempDir dir;
  auto r = run_pvsim("check " + dir.path().string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("regular file"), std::string::npos) << r.output;
}

TEST(BadInput, ABadCommandLineValueIsNamedByItsOptionAlone)
{
  TempDir dir;
  auto r = run_pvsim("calibrate --bootstrap 1 --trace " + std::string(PVSIM_SHARED_DIR) +
                     "/traces/virtio-vm-1q/fio/randread_libaio_qd1_nj1_f1.json -o " + dir.file("d.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("pvsim: error: --bootstrap: expected at least 2 resamples"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("<input>"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("d.json")));
}
