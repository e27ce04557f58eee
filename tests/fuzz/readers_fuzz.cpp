/* Fuzz targets of the trace readers (analysis/readers): fio JSON, fio job files, fio logs, blkparse text, blktrace's
 * binary files, block event CSV, /proc/interrupts. Seeds: the readers' test files and the real traces of ../shared. */
#include "analysis/readers/block_trace.hpp"
#include "analysis/readers/fio_jobfile.hpp"
#include "analysis/readers/fio_json.hpp"
#include "analysis/readers/fio_log.hpp"
#include "analysis/readers/proc_interrupts.hpp"
#include "tests/fuzz/fuzz_target.hpp"

using namespace pvsim;
using namespace pvsim::readers;
using pvsim::fuzz::expect_clean;

PVSIM_FUZZ_TARGET(fio_json, "tests/data/readers:.json", "shared/traces:.json")
{
  expect_clean([&] { parse_fio_json(input, "fuzz.json"); });
}

PVSIM_FUZZ_TARGET(fio_jobfile, "tests/data/readers:.fio")
{
  expect_clean([&] { parse_fio_jobfile(input, "fuzz.fio"); });
}

PVSIM_FUZZ_TARGET(fio_log, "tests/data/readers:.log")
{
  std::string path = fuzz::scratch_file(input, "_clat.1.log");
  expect_clean([&] { read_fio_log(path); });
}

PVSIM_FUZZ_TARGET(blkparse, "tests/data/readers:blkparse", "shared/traces:blkparse")
{
  std::string path = fuzz::scratch_file(input, ".blkparse.txt");
  expect_clean([&] { read_blkparse(path); });
}

PVSIM_FUZZ_TARGET(blktrace_binary, "tests/data/readers:blktrace")
{
  std::string path = fuzz::scratch_file(input, ".blktrace.0");
  expect_clean([&] { read_blktrace_binary({path}); });
}

PVSIM_FUZZ_TARGET(block_events_csv, "tests/data/readers:.csv", "shared/traces:.csv")
{
  std::string path = fuzz::scratch_file(input, ".csv");
  expect_clean([&] { read_block_events_csv(path); });
}

PVSIM_FUZZ_TARGET(proc_interrupts, "tests/data:interrupts", "shared/traces:interrupts")
{
  expect_clean([&] { parse_proc_interrupts(std::string(input), "fuzz-interrupts.txt"); });
}
