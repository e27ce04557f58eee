/* Safe result files (issue 16, point 5): a run stopped by a real SIGINT or SIGTERM, and a disk that fills up, never
 * leave a result that looks complete. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <thread>
#include <unistd.h>

using namespace pvsim::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
/** Starts `pvsim args...` on a long run, lets it simulate for a while, sends `sig`, and returns its exit code. */
int interrupted_run(const std::vector<std::string>& args, int sig)
{
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string exe = pvsim_binary();
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800)); // parsed and well into the run by then
  kill(pid, sig);
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string long_run()
{
  return source_dir() + "/scenarios/xen-blk-mq.json";
}
} // namespace

TEST(StopSignals, SigintStopsTheRunWithExit130AndWritesNothing)
{
  TempDir dir;
  int rc = interrupted_run({"run", "-q", long_run(), "--set", "duration=100s", "-o", dir.file("out")}, SIGINT);
  EXPECT_EQ(rc, 130);
  EXPECT_FALSE(fs::exists(dir.file("out")));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), {}), 0) << "no staging folder left behind";
}

TEST(StopSignals, SigtermWithPartialWritesResultsMarkedIncomplete)
{
  TempDir dir;
  int rc =
      interrupted_run({"run", "-q", long_run(), "--set", "duration=100s", "--partial", "-o", dir.file("out")}, SIGTERM);
  EXPECT_EQ(rc, 143);
  json r = json::parse(read_file(dir.file("out/results.json")));
  EXPECT_FALSE(r["complete"].get<bool>());
  EXPECT_EQ(r["stopped_by"], "SIGTERM");
  EXPECT_LT(r["simulated_time_s"].get<double>(), 100.0) << "the time reached, not the time asked for";
  EXPECT_GT(r["jobs"]["fio"]["requests"].get<long long>(), 0);
  EXPECT_FALSE(r["liveness"]["stalled"].get<bool>()) << "a stopped run is not a stalled one";
}

TEST(StopSignals, ACompleteRunSaysItIsComplete)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/mm1.json -o " + dir.file("out")).exit_code, 0);
  EXPECT_TRUE(json::parse(read_file(dir.file("out/results.json")))["complete"].get<bool>());
}

TEST(FullDisk, AFileThatCannotBeWrittenIsNamedAndNothingIsLeft)
{
  // A file size limit of 8 KiB (SIGXFSZ ignored, so writes fail with EFBIG) stands for a full disk.
  TempDir dir;
  auto r = run_command("bash -c \"trap '' XFSZ; ulimit -f 8; " + pvsim_binary() + " run -q " + long_run() + " -o " +
                       dir.file("out") + "\"");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot write " + dir.file("out") + "/results.json"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), {}), 0) << "no output folder, no staging folder";
}
