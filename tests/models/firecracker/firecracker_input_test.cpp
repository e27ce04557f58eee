/* Bad firecracker.vmm wiring and parameters: `pvsim run` exits 2 naming the file and the JSON path, says what was
 * expected, and writes no output. */
#include "tests/models/firecracker/fc_stack.hpp"

#include <filesystem>
#include <functional>

using namespace pvsim;
using pvsim::fctest::FcStack;

namespace {
/** `pvsim run` of the stack with `edit` applied to its scenario; expects exit 2 and no output directory. */
std::string rejected(const FcStack& s, const std::function<void(json&)>& edit = {})
{
  pvsim::test::TempDir dir;
  json sc = fctest::scenario(s);
  if (edit)
    edit(sc);
  auto file = dir.write("bad.json", sc.dump());
  auto r    = pvsim::test::run_pvsim("run -q " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out"))) << "partial output";
  EXPECT_NE(r.output.find("bad.json"), std::string::npos) << r.output;
  return r.output;
}
} // namespace

TEST(FirecrackerInput, ADiskServedByBothAnIothreadAndAVmmIsRejected)
{
  FcStack s;
  s.vda  = {{"iothread", "iot"}};
  auto o = rejected(s, [](json& sc) { sc["components"]["iot"] = {{"type", "qemu.iothread"}, {"cpus", "vmm_cpus"}}; });
  EXPECT_NE(o.find("/components/vda"), std::string::npos) << o;
  EXPECT_NE(o.find("'vmm'"), std::string::npos) << o;
  EXPECT_NE(o.find("'iothread'"), std::string::npos) << o;
}

TEST(FirecrackerInput, AVmmThatIsNotAVmmIsRejected)
{
  FcStack s;
  s.vda  = {{"vmm", "vmm_cpus"}};
  auto o = rejected(s);
  EXPECT_NE(o.find("/components/vda/vmm"), std::string::npos) << o;
  EXPECT_NE(o.find("is not a VMM"), std::string::npos) << o;
  EXPECT_NE(o.find("cpu.host"), std::string::npos) << o;
}

TEST(FirecrackerInput, AnUnknownKeyIsRejectedWithASuggestion)
{
  FcStack s;
  s.fc   = {{"io_engin", "Async"}};
  auto o = rejected(s);
  EXPECT_NE(o.find("/components/fc/io_engin"), std::string::npos) << o;
  EXPECT_NE(o.find("did you mean 'io_engine'"), std::string::npos) << o;
}

TEST(FirecrackerInput, AnIoEngineIsSyncOrAsyncAsFirecrackerSpellsThem)
{
  FcStack s;
  s.fc   = {{"io_engine", "async"}};
  auto o = rejected(s);
  EXPECT_NE(o.find("/components/fc/io_engine"), std::string::npos) << o;
  EXPECT_NE(o.find("Sync, Async"), std::string::npos) << o;
}

TEST(FirecrackerInput, ARefillTimeIsAWholeNumberOfMilliseconds)
{
  // Firecracker's API takes refill_time in ms; a sub-millisecond bucket would arm a 0 ms timer and never resume.
  for (const char* t : {"500us", "1.5ms"}) {
    FcStack s;
    s.fc   = {{"bw_size", "64KiB"}, {"bw_refill_time", t}};
    auto o = rejected(s);
    EXPECT_NE(o.find("/components/fc/bw_refill_time"), std::string::npos) << o;
    EXPECT_NE(o.find("whole number of milliseconds"), std::string::npos) << o;
  }
  FcStack ok;
  ok.fc = {{"ops_size", 100}, {"ops_refill_time", "100ms"}};
  pvsim::test::TempDir dir;
  auto r = pvsim::test::run_pvsim("check " + dir.write("ok.json", fctest::scenario(ok).dump()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}
