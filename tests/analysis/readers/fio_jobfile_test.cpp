// Specification of the fio job-file reader and its mapping to a pvsim workload (analysis/readers/fio_jobfile.hpp).
#include "analysis/readers/fio_jobfile.hpp"

#include "tests/analysis/readers/reader_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace pvsim::readers;
using namespace pvsim::readers::test;

namespace {

const FioJobSection& job_named(const FioJobFile& f, const std::string& name)
{
  auto it = std::find_if(f.jobs.begin(), f.jobs.end(), [&](const FioJobSection& j) { return j.name == name; });
  if (it == f.jobs.end())
    throw std::runtime_error("no job " + name);
  return *it;
}

WorkloadMapping workload_of(const std::string& file, const std::string& job)
{
  FioJobFile f = read_fio_jobfile(fixture(file));
  return to_workload(job_named(f, job).options, f.file);
}

std::vector<std::string> ignored_keys(const WorkloadMapping& m)
{
  std::vector<std::string> keys;
  for (const auto& i : m.ignored)
    keys.push_back(i.key);
  return keys;
}

const std::string three = "jobfile_three_jobs.fio";

} // namespace

// ---- sections and lines ---------------------------------------------------------------------------------------------

TEST(FioJobfile, EachJobSectionIsAJobAndGlobalIsNot)
{
  FioJobFile f = read_fio_jobfile(fixture(three));
  ASSERT_EQ(f.jobs.size(), 3u);
  EXPECT_EQ(f.jobs[0].name, "randread-qd16");
  EXPECT_EQ(f.jobs[0].line, 14);
  EXPECT_EQ(f.jobs[1].name, "mixed");
  EXPECT_EQ(f.jobs[2].name, "late");
}

TEST(FioJobfile, GlobalOptionsAreMergedIntoEachJob)
{
  FioJobFile f = read_fio_jobfile(fixture(three));
  EXPECT_EQ(f.jobs[0].options.at("ioengine").value, "libaio");
  EXPECT_EQ(f.jobs[0].options.at("ioengine").where, "line 4");
  EXPECT_EQ(f.jobs[0].own_options.count("ioengine"), 0u);
}

TEST(FioJobfile, LaterGlobalSectionOnlyAffectsLaterJobs)
{
  FioJobFile f = read_fio_jobfile(fixture(three));
  EXPECT_EQ(job_named(f, "randread-qd16").options.at("bs").value, "4k");
  EXPECT_EQ(job_named(f, "late").options.at("bs").value, "64k");
  EXPECT_EQ(job_named(f, "mixed").options.at("bs").value, "4k,16k"); // its own line wins
}

TEST(FioJobfile, AliasesAreStoredUnderFiosCanonicalName)
{
  FioJobFile f           = read_fio_jobfile(fixture(three));
  const FioJobSection& j = f.jobs[0];
  EXPECT_EQ(j.options.at("rw").value, "randread");
  EXPECT_EQ(j.options.at("rw").spelled, "readwrite");
  EXPECT_EQ(j.options.at("bs").spelled, "blocksize");
}

TEST(FioJobfile, CommentsAreStrippedAnywhereOnALine)
{
  FioJobFile f           = read_fio_jobfile(fixture(three));
  const FioJobSection& j = f.jobs[0];
  EXPECT_EQ(j.options.at("bs").value, "4k");
  EXPECT_EQ(j.options.at("thinktime").value, "250");
  EXPECT_EQ(j.options.at("ramp_time").value, "500ms"); // blanks around '=' too
}

TEST(FioJobfile, BareFlagIsStoredAsAFlag)
{
  FioJobFile f           = read_fio_jobfile(fixture(three));
  const FioJobSection& j = f.jobs[0];
  EXPECT_TRUE(j.options.at("time_based").bare);
  EXPECT_EQ(j.options.at("time_based").value, "");
}

TEST(FioJobfile, ParsesFromText)
{
  FioJobFile f = parse_fio_jobfile("[a]\r\nrw=write\r\n", "inline");
  EXPECT_EQ(f.jobs.at(0).options.at("rw").value, "write");
}

// ---- workload mapping -----------------------------------------------------------------------------------------------

TEST(FioWorkload, MapsTheBasicOptions)
{
  Workload w = workload_of(three, "randread-qd16").workload;
  EXPECT_EQ(w.rw, "randread");
  EXPECT_EQ(w.ioengine, "libaio");
  EXPECT_EQ(w.iodepth, 16);
  EXPECT_EQ(w.numjobs, 2);
  EXPECT_EQ(w.bs_bytes, 4096u);
  EXPECT_TRUE(w.direct);
  EXPECT_EQ(w.cpus_allowed, "0-1");
  EXPECT_EQ(w.rate_iops, 5000.0);
}

TEST(FioWorkload, TimesUseEachOptionsDefaultUnit)
{
  Workload w = workload_of(three, "randread-qd16").workload;
  EXPECT_DOUBLE_EQ(*w.runtime_s, 120.0);   // runtime=2m: minutes
  EXPECT_DOUBLE_EQ(w.ramp_time_s, 0.5);    // ramp_time=500ms
  EXPECT_DOUBLE_EQ(w.thinktime_s, 250e-6); // thinktime=250: microseconds by default
  EXPECT_TRUE(w.time_based);               // a bare flag
}

TEST(FioWorkload, SizesFollowFio)
{
  Workload mixed = workload_of(three, "mixed").workload;
  EXPECT_EQ(mixed.size_bytes, 2147483648u); // size=2g
  EXPECT_EQ(mixed.number_ios, 10240u);      // number_ios=10k
  EXPECT_EQ(workload_of(three, "late").workload.bs_bytes, 65536u);
}

TEST(FioWorkload, ZeroRuntimeMeansNoLimit)
{
  EXPECT_FALSE(workload_of(three, "mixed").workload.runtime_s.has_value());
}

TEST(FioWorkload, RwmixwriteGivesTheReadShare)
{
  EXPECT_EQ(workload_of(three, "mixed").workload.rwmixread, 70);
}

TEST(FioWorkload, WriteJobUsesTheWriteBlockSize)
{
  FioOptions o{{"rw", {"write", "line 1", "rw", false}}, {"bs", {"4k,16k", "line 2", "bs", false}}};
  WorkloadMapping m = to_workload(o, "inline");
  EXPECT_EQ(m.workload.bs_bytes, 16384u);
  EXPECT_TRUE(m.ignored.empty());
}

TEST(FioWorkload, RateCapOfTheOtherDirectionIsListedAsIgnored)
{
  // fio applies rate_iops=500 to reads and to writes separately; the workload caps the reads.
  FioOptions o{{"rw", {"randrw", "line 1", "rw", false}}, {"rate_iops", {"500", "line 2", "rate_iops", false}}};
  WorkloadMapping m = to_workload(o, "inline");
  EXPECT_EQ(m.workload.rate_iops, 500.0);
  ASSERT_EQ(ignored_keys(m), (std::vector<std::string>{"rate_iops"}));
  EXPECT_TRUE(contains(m.ignored[0].reason, "500 write IOPS")) << m.ignored[0].reason;
}

TEST(FioWorkload, AbsentOptionsTakeFiosDefaults)
{
  WorkloadMapping m = to_workload(FioOptions{}, "inline");
  EXPECT_EQ(m.workload.rw, "read");
  EXPECT_EQ(m.workload.bs_bytes, 4096u);
  EXPECT_EQ(m.workload.iodepth, 1);
  EXPECT_EQ(m.workload.numjobs, 1);
  EXPECT_EQ(m.workload.ioengine, "psync");
  EXPECT_EQ(m.workload.rwmixread, 50);
  EXPECT_FALSE(m.workload.direct);
  EXPECT_FALSE(m.workload.size_bytes.has_value());
  EXPECT_FALSE(m.workload.rate_iops.has_value());
  EXPECT_TRUE(m.ignored.empty());
}

TEST(FioWorkload, UnmodelledOptionsAreListedWithTheirPlace)
{
  WorkloadMapping m = workload_of(three, "randread-qd16");
  EXPECT_EQ(ignored_keys(m), (std::vector<std::string>{"group_reporting", "norandommap"}));
  EXPECT_EQ(m.ignored[1].where, "line 11");
  EXPECT_FALSE(m.ignored[1].reason.empty());
}

TEST(FioWorkload, PartlyUsedOptionsAreListedToo)
{
  WorkloadMapping m = workload_of(three, "mixed");
  EXPECT_EQ(ignored_keys(m), (std::vector<std::string>{"bs", "group_reporting", "norandommap", "rw"}));
  auto bs = std::find_if(m.ignored.begin(), m.ignored.end(), [](const IgnoredOption& i) { return i.key == "bs"; });
  EXPECT_TRUE(contains(bs->reason, "write block size 16384")) << bs->reason;
  auto rw = std::find_if(m.ignored.begin(), m.ignored.end(), [](const IgnoredOption& i) { return i.key == "rw"; });
  EXPECT_TRUE(contains(rw->reason, "':8'")) << rw->reason;
  EXPECT_EQ(m.workload.rw, "randrw");
  EXPECT_EQ(m.workload.bs_bytes, 4096u);
}

TEST(FioWorkload, PercentageSizeIsListedAsIgnored)
{
  WorkloadMapping m = workload_of("jobfile_size_units.fio", "job");
  EXPECT_FALSE(m.workload.size_bytes.has_value());
  EXPECT_EQ(ignored_keys(m), (std::vector<std::string>{"size"}));
}

TEST(FioWorkload, KiBMeans1000InFiosDefaultKbBase)
{
  // fio's compatibility mode (kb_base=1024): "k" is 1024 and, oddly, "KiB" is 1000.
  EXPECT_EQ(workload_of("jobfile_size_units.fio", "job").workload.bs_bytes, 1000u);
}

TEST(FioWorkload, KbBase1000MakesKiB1024AndK1000)
{
  Workload w = workload_of("jobfile_size_units.fio", "job1000").workload;
  EXPECT_EQ(w.bs_bytes, 1024u);
  EXPECT_EQ(w.size_bytes, 1000u);
}

// ---- values ---------------------------------------------------------------------------------------------------------

TEST(FioValues, SizeSuffixesMultiplyByKbBase)
{
  EXPECT_EQ(parse_fio_size("512", 1024, "f", "w"), 512u);
  EXPECT_EQ(parse_fio_size("4k", 1024, "f", "w"), 4096u);
  EXPECT_EQ(parse_fio_size("4K", 1024, "f", "w"), 4096u);
  EXPECT_EQ(parse_fio_size("4kb", 1024, "f", "w"), 4096u);
  EXPECT_EQ(parse_fio_size("1m", 1024, "f", "w"), 1048576u);
  EXPECT_EQ(parse_fio_size("2g", 1024, "f", "w"), 2147483648u);
  EXPECT_EQ(parse_fio_size("1t", 1024, "f", "w"), 1099511627776u);
  EXPECT_EQ(parse_fio_size("4k", 1000, "f", "w"), 4000u);
}

TEST(FioValues, TimesTakeSuffixesOrTheDefaultUnit)
{
  EXPECT_DOUBLE_EQ(parse_fio_time_s("10", FioTimeUnit::seconds, "f", "w"), 10.0);
  EXPECT_DOUBLE_EQ(parse_fio_time_s("10", FioTimeUnit::microseconds, "f", "w"), 10e-6);
  EXPECT_DOUBLE_EQ(parse_fio_time_s("10s", FioTimeUnit::microseconds, "f", "w"), 10.0);
  EXPECT_DOUBLE_EQ(parse_fio_time_s("5m", FioTimeUnit::seconds, "f", "w"), 300.0);
  EXPECT_DOUBLE_EQ(parse_fio_time_s("250ms", FioTimeUnit::seconds, "f", "w"), 0.25);
  EXPECT_DOUBLE_EQ(parse_fio_time_s("20us", FioTimeUnit::seconds, "f", "w"), 20e-6);
  EXPECT_DOUBLE_EQ(parse_fio_time_s("1h", FioTimeUnit::seconds, "f", "w"), 3600.0);
}

TEST(FioValues, OneValueAppliesToEveryDirection)
{
  EXPECT_EQ(split_fio_directions("4k"), (std::vector<std::string>{"4k", "4k", "4k"}));
  EXPECT_EQ(split_fio_directions("4k,16k"), (std::vector<std::string>{"4k", "16k", "16k"}));
  EXPECT_EQ(split_fio_directions(",16k"), (std::vector<std::string>{"", "16k", "16k"}));
}

// ---- input errors
// -----------------------------------------------------------------------------------------------------

TEST(FioJobfile, IncludeIsAnError)
{
  auto e = input_error_of([] { read_fio_jobfile(fixture("jobfile_include.fio")); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "'include' is not supported")) << e.what();
}

TEST(FioJobfile, OptionOutsideASectionIsAnError)
{
  auto e = input_error_of([] { read_fio_jobfile(fixture("jobfile_option_outside_section.fio")); });
  EXPECT_EQ(e.where(), "line 2");
}

TEST(FioJobfile, UnclosedSectionHeaderIsAnError)
{
  auto e = input_error_of([] { read_fio_jobfile(fixture("jobfile_unclosed_section.fio")); });
  EXPECT_EQ(e.where(), "line 1");
}

TEST(FioJobfile, MissingFileIsAnError)
{
  auto e = input_error_of([] { read_fio_jobfile(fixture("absent.fio")); });
  EXPECT_TRUE(contains(e.what(), "absent.fio")) << e.what();
}

TEST(FioWorkload, MalformedSizeIsAnErrorAtItsLine)
{
  auto e = input_error_of([] { workload_of("jobfile_bad_size.fio", "job"); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "'4 kilobytes'")) << e.what();
}

TEST(FioWorkload, UnknownTimeUnitIsAnErrorNotMicroseconds)
{
  // fio itself would read "10sec" as 10 µs.
  auto e = input_error_of([] { workload_of("jobfile_bad_time_unit.fio", "job"); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "unknown time unit 'sec'")) << e.what();
}

TEST(FioWorkload, MisspelledRwSuggestsTheClosestPattern)
{
  auto e = input_error_of([] { workload_of("jobfile_misspelled_rw.fio", "job"); });
  EXPECT_TRUE(contains(e.detail(), "did you mean 'randwrite'?")) << e.what();
}

TEST(FioWorkload, ContradictingReadAndWriteSharesAreAnError)
{
  auto e = input_error_of([] { workload_of("jobfile_contradicting_mix.fio", "job"); });
  EXPECT_EQ(e.where(), "line 4");
}

TEST(FioWorkload, OptionNeedingAValueGivenAsAFlagIsAnError)
{
  FioOptions o{{"iodepth", {"", "line 7", "iodepth", true}}};
  auto e = input_error_of([&] { to_workload(o, "inline"); });
  EXPECT_EQ(e.where(), "line 7");
  EXPECT_TRUE(contains(e.detail(), "needs a value")) << e.what();
}

TEST(FioWorkload, NonPositiveIodepthIsAnError)
{
  FioOptions o{{"iodepth", {"0", "line 2", "iodepth", false}}};
  auto e = input_error_of([&] { to_workload(o, "inline"); });
  EXPECT_TRUE(contains(e.detail(), "[1, ")) << e.what();
}
