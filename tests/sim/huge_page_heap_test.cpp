/* A wide scenario runs with its heap on transparent huge pages (sim/huge_page_heap.hpp): `pvsim run` re-executes
 * itself once with glibc.malloc.hugetlb=1, and the results are those of a run without. */
#include "sim/huge_page_heap.hpp"
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace pvsim::test;

namespace {

/** 160 Xen guests of 4 vCPUs, a disk each: about 53 MiB estimated, above pvsim::huge_page_heap_above_bytes. */
const char* wide_scenario = R"({
  "name": "wide", "seed": 1, "duration": "2ms",
  "components": {"host": {"type": "cpu.host", "cores": 640}, "dom0_cpus": {"type": "cpu.host", "cores": 160}},
  "groups": {"guest": {"count": 160, "components": {
    "vm{i}": {"type": "guest.vm", "vcpus": 4, "pcpus": "host"},
    "fio{i}": {"type": "job.fio", "vm": "vm{i}", "iodepth": 8, "rw": "randread", "bs": "4KiB", "target": "blkmq{i}"},
    "blkmq{i}": {"type": "blk_mq", "vm": "vm{i}", "target": "xvda{i}"},
    "xvda{i}": {"type": "xen.blkfront", "vm": "vm{i}", "backend": "vbd{i}"},
    "vbd{i}": {"type": "xen.blkback", "cpus": "dom0_cpus", "target": "nullb{i}"},
    "nullb{i}": {"type": "device.null_blk", "completion_latency": "5us"}}}}})";

const char* on_huge_pages = "its heap is on transparent huge pages";

/** Whether this machine's kernel gives transparent huge pages at all (else pvsim neither re-executes nor says so). */
bool machine_has_huge_pages()
{
  std::string modes = read_file("/sys/kernel/mm/transparent_hugepage/enabled");
  return not modes.empty() and modes.find("[never]") == std::string::npos;
}

} // namespace

TEST(HugePageHeap, TheChoiceIsSettledByTheOptOutOrByATunableThatNamesHugetlb)
{
  unsetenv("PVSIM_NO_HUGE_PAGES");
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
  EXPECT_FALSE(pvsim::huge_page_heap_settled()) << "another tunable leaves the choice open";
  EXPECT_FALSE(pvsim::huge_page_heap_on());
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=0:glibc.malloc.hugetlb=1", 1);
  EXPECT_TRUE(pvsim::huge_page_heap_settled());
  EXPECT_EQ(pvsim::huge_page_heap_on(), machine_has_huge_pages());
  setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);
  EXPECT_TRUE(pvsim::huge_page_heap_settled()) << "the user's own value is kept";
  EXPECT_FALSE(pvsim::huge_page_heap_on());
  unsetenv("GLIBC_TUNABLES");
  setenv("PVSIM_NO_HUGE_PAGES", "1", 1);
  EXPECT_TRUE(pvsim::huge_page_heap_settled());
  EXPECT_FALSE(pvsim::huge_page_heap_on());
}

TEST(HugePageHeap, AWideRunReexecutesOnHugePagesAndGivesTheSameResults)
{
  if (not machine_has_huge_pages())
    GTEST_SKIP() << "this kernel's transparent huge pages are off";
  TempDir dir;
  std::string file = dir.write("wide.json", wide_scenario);
  auto on = run_command("env -u GLIBC_TUNABLES -u PVSIM_NO_HUGE_PAGES " + pvsim_binary() + " run " + file + " -o " +
                        dir.file("on"));
  ASSERT_EQ(on.exit_code, 0) << on.output;
  EXPECT_NE(on.output.find(on_huge_pages), std::string::npos) << on.output;
  EXPECT_EQ(on.output.find("scenario wide"), on.output.rfind("scenario wide")) << "the summary is printed once";
  auto off = run_command("env -u GLIBC_TUNABLES PVSIM_NO_HUGE_PAGES=1 " + pvsim_binary() + " run " + file + " -o " +
                         dir.file("off"));
  ASSERT_EQ(off.exit_code, 0) << off.output;
  EXPECT_EQ(off.output.find(on_huge_pages), std::string::npos) << off.output;
  EXPECT_EQ(read_file(dir.file("on/results.json")), read_file(dir.file("off/results.json")));
}

TEST(HugePageHeap, ANarrowRunStaysOnSmallPages)
{
  TempDir dir;
  auto r = run_command("env -u GLIBC_TUNABLES -u PVSIM_NO_HUGE_PAGES " + pvsim_binary() + " run " + source_dir() +
                       "/scenarios/xen-host.json --set duration=30ms -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find(on_huge_pages), std::string::npos) << r.output;
}
