// Specification of the fio JSON / json+ reader (analysis/readers/fio_json.hpp), on real runs and broken files.
#include "analysis/readers/fio_json.hpp"

#include "tests/analysis/readers/reader_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

using namespace pvsim::readers;
using namespace pvsim::readers::test;

namespace {

const std::string qd16 = "virtio-vm-1q/fio/randread_libaio_qd16_nj1_f1.json";

/** summary.csv as maps column -> text, one per run. */
std::vector<std::map<std::string, std::string>> summary_rows()
{
  std::ifstream in(trace("virtio-vm-1q/summary.csv"));
  std::string line;
  std::getline(in, line);
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::stringstream ss(l);
    std::string f;
    while (std::getline(ss, f, ','))
      out.push_back(f);
    if (not l.empty() and l.back() == ',')
      out.emplace_back();
    return out;
  };
  auto header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    auto f = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() and i < f.size(); ++i)
      row[header[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

} // namespace

// ---- real json+ runs ----------------------------------------------------------------------------------------------

TEST(FioJson, ReadsTheVersionAndTheSingleJobOfARealRun)
{
  FioResult r = read_fio_json(trace(qd16));
  EXPECT_EQ(r.fio_version, "fio-3.33");
  ASSERT_EQ(r.jobs.size(), 1u);
  EXPECT_EQ(r.jobs[0].jobname, "rr");
  EXPECT_EQ(r.timestamp_s, 1795300681);
  EXPECT_TRUE(r.leading_text.empty());
  EXPECT_TRUE(r.global_options.empty()); // these runs give every option on the job
}

TEST(FioJson, Qd16LibaioRunGives78976Iops)
{
  FioResult r = read_fio_json(trace(qd16));
  EXPECT_NEAR(r.jobs[0].read.iops, 78976.30237, 1e-6);
  EXPECT_EQ(r.jobs[0].read.total_ios, 789842u);
}

TEST(FioJson, EveryRunAgreesWithSummaryCsv)
{
  auto rows = summary_rows();
  ASSERT_GE(rows.size(), 20u);
  for (const auto& row : rows) {
    SCOPED_TRACE(row.at("run"));
    FioResult r     = read_fio_json(trace("virtio-vm-1q/fio/" + row.at("run") + ".json"));
    const FioJob& j = r.jobs.at(0);
    const auto& dir = row.at("rw") == "randwrite" ? j.write : j.read;
    EXPECT_NEAR(dir.iops, std::stod(row.at("iops")), 0.051);
    EXPECT_NEAR(dir.clat.mean_ns / 1e3, std::stod(row.at("clat_mean_us")), 0.0051);
    EXPECT_NEAR(*dir.clat.percentile_ns(50) / 1e3, std::stod(row.at("clat_p50_us")), 0.0051);
    EXPECT_NEAR(*dir.clat.percentile_ns(99) / 1e3, std::stod(row.at("clat_p99_us")), 0.0051);
    EXPECT_NEAR(*dir.clat.percentile_ns(99.9) / 1e3, std::stod(row.at("clat_p999_us")), 0.0051);
    EXPECT_EQ(j.iodepth(), std::stoi(row.at("iodepth")));
    EXPECT_EQ(j.ioengine(), row.at("engine"));
    EXPECT_EQ(j.rw(), row.at("rw"));
    EXPECT_NEAR(j.usr_cpu_pct, std::stod(row.at("cpu_usr")), 0.0051);
  }
}

TEST(FioJson, BandwidthIsInBytesPerSecondAndRuntimeInSeconds)
{
  FioResult result         = read_fio_json(trace(qd16));
  const FioDirection& read = result.jobs[0].read;
  EXPECT_DOUBLE_EQ(read.bw_Bps, 323493077.0);
  EXPECT_DOUBLE_EQ(read.runtime_s, 10.001);
  EXPECT_EQ(read.io_bytes, 3235254272u);
}

TEST(FioJson, LatencyStatisticsAreInNanoseconds)
{
  FioResult result         = read_fio_json(trace(qd16));
  const FioDirection& read = result.jobs[0].read;
  EXPECT_EQ(read.clat.count, 789857u);
  EXPECT_DOUBLE_EQ(read.clat.min_ns, 30336);
  EXPECT_DOUBLE_EQ(read.clat.max_ns, 10510014);
  EXPECT_DOUBLE_EQ(read.clat.mean_ns, 199026.26856);
  EXPECT_DOUBLE_EQ(read.clat.stddev_ns, 270367.138097);
  EXPECT_DOUBLE_EQ(read.slat.mean_ns, 3343.9343);
  EXPECT_DOUBLE_EQ(read.lat.mean_ns, 202370.168142);
  EXPECT_EQ(read.clat.percentiles_ns.size(), 17u);
  EXPECT_EQ(read.clat.percentile_ns(1), 126464);
}

TEST(FioJson, JsonPlusBinsTotalEqualsClatCountNotTotalIos)
{
  // fio's clat N also counts the iodepth-1 I/Os in flight when ramp_time ended; total_ios does not.
  FioResult result         = read_fio_json(trace(qd16));
  const FioDirection& read = result.jobs[0].read;
  EXPECT_TRUE(read.clat.has_bins);
  EXPECT_EQ(read.clat.bins_total(), read.clat.count);
  EXPECT_EQ(read.clat.count - read.total_ios, 15u);
}

TEST(FioJson, BinsTotalEqualsTotalIosWithoutRampTime)
{
  FioResult result         = read_fio_json(trace("virtio-vm-1q/fio/randread_libaio_qd16_nj1_f1_blktrace5s.json"));
  const FioDirection& read = result.jobs[0].read;
  EXPECT_EQ(read.clat.bins_total(), read.total_ios);
}

TEST(FioJson, PercentilesFromBinsEqualFiosPercentiles)
{
  FioResult result       = read_fio_json(trace(qd16));
  const FioLatency& clat = result.jobs[0].read.clat;
  for (const auto& [percent, ns] : clat.percentiles_ns) {
    SCOPED_TRACE(percent);
    EXPECT_EQ(clat.percentile_from_bins_ns(percent), ns);
  }
}

TEST(FioJson, PlainJsonHasPercentilesButNoBins)
{
  FioResult result       = read_fio_json(trace("qemu-lab-tcg/native_q2/fio/randread_qd16_nj1.json"));
  const FioLatency& clat = result.jobs[0].read.clat;
  EXPECT_FALSE(clat.has_bins);
  EXPECT_FALSE(clat.percentile_from_bins_ns(50).has_value());
  EXPECT_TRUE(clat.percentile_ns(99.9).has_value());
}

TEST(FioJson, JobOptionsHaveTypedAccessors)
{
  FioResult result = read_fio_json(trace(qd16));
  const FioJob& j  = result.jobs[0];
  EXPECT_EQ(j.rw(), "randread");
  EXPECT_EQ(j.ioengine(), "libaio");
  EXPECT_EQ(j.iodepth(), 16);
  EXPECT_EQ(j.numjobs(), 1);
  EXPECT_EQ(j.bs_bytes(), 4096u);
  EXPECT_EQ(j.nrfiles(), 1);
  EXPECT_TRUE(j.direct());
  EXPECT_EQ(j.runtime_s(), 10.0);
  EXPECT_EQ(j.rwmixread(), 50); // fio's default: the option is absent
  EXPECT_EQ(j.options.at("size").value, "2g");
  EXPECT_EQ(j.options.at("size").where, "/jobs/0/job options/size");
}

TEST(FioJson, JobOptionsMapToAWorkloadListingWhatIsIgnored)
{
  FioResult result  = read_fio_json(trace(qd16));
  WorkloadMapping m = result.jobs[0].workload();
  EXPECT_EQ(m.workload.rw, "randread");
  EXPECT_EQ(m.workload.iodepth, 16);
  EXPECT_EQ(m.workload.size_bytes, 2147483648u);
  EXPECT_DOUBLE_EQ(m.workload.ramp_time_s, 2.0);
  EXPECT_TRUE(m.workload.time_based);
  std::vector<std::string> keys;
  for (const auto& i : m.ignored)
    keys.push_back(i.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"filename", "name", "norandommap", "randrepeat", "thread"}));
}

TEST(FioJson, CpuAndContextSwitchesAreRead)
{
  FioResult result = read_fio_json(trace(qd16));
  const FioJob& j  = result.jobs[0];
  EXPECT_DOUBLE_EQ(j.usr_cpu_pct, 5.49);
  EXPECT_DOUBLE_EQ(j.sys_cpu_pct, 26.45);
  EXPECT_EQ(j.ctx, 49523u);
  EXPECT_EQ(j.job_runtime_s, 10.0);
}

TEST(FioJson, DiskUtilIsRead)
{
  FioResult r = read_fio_json(trace(qd16));
  ASSERT_EQ(r.disk_util.size(), 1u);
  EXPECT_EQ(r.disk_util[0].name, "vda");
  EXPECT_EQ(r.disk_util[0].read_ios, 919160u);
  EXPECT_DOUBLE_EQ(r.disk_util[0].read_ticks_s, 131.514);
  EXPECT_DOUBLE_EQ(r.disk_util[0].util_pct, 83.873144);
}

TEST(FioJson, WriteRunHasAnEmptyReadSection)
{
  FioResult result = read_fio_json(trace("virtio-vm-1q/fio/randwrite_libaio_qd1_nj1_f1.json"));
  const FioJob& j  = result.jobs[0];
  EXPECT_EQ(j.read.total_ios, 0u);
  EXPECT_EQ(j.read.clat.count, 0u);
  EXPECT_FALSE(j.read.clat.has_bins);
  EXPECT_NEAR(j.write.iops, 9676.43, 0.01);
  EXPECT_EQ(j.write.clat.bins_total(), j.write.clat.count);
  EXPECT_EQ(j.bs_bytes(), 4096u);
}

TEST(FioJson, TwoThreadsReportedAsOneEntryAreAggregated)
{
  FioResult r = read_fio_json(trace("qemu-lab-tcg/native_q2/fio/randread_qd16_nj2.json"));
  ASSERT_EQ(r.jobs.size(), 1u);
  EXPECT_EQ(r.jobs[0].numjobs(), 2);
  EXPECT_EQ(r.jobs[0].aggregated_threads, 2);
  EXPECT_TRUE(r.group_reporting);
}

TEST(FioJson, OneThreadIsNotAggregated)
{
  FioResult r = read_fio_json(trace("qemu-lab-tcg/native_q2/fio/randread_qd16_nj1.json"));
  EXPECT_EQ(r.jobs[0].aggregated_threads, 1);
  EXPECT_FALSE(r.group_reporting);
}

TEST(FioJson, RunsOfEveryLabAreReadable)
{
  for (const char* rel : {"virtio-vm-1q/fio/randread_libaio_qd256_nj1_f1_extra.json",
                          "qemu-lab-tcg/threads_q2/fio/randread_qd64_nj2.json",
                          "xen-lab-tcg/blkfront-max-queues-4/fio/randread_qd64_nj2.json"}) {
    SCOPED_TRACE(rel);
    FioResult r = read_fio_json(trace(rel));
    EXPECT_GT(r.jobs.at(0).read.iops, 0);
    EXPECT_GE(r.jobs[0].read.clat.count, r.jobs[0].read.total_ios);
  }
}

// ---- synthetic files ------------------------------------------------------------------------------------------------

TEST(FioJson, TextBeforeTheJsonIsKeptAsLeadingText)
{
  FioResult r = read_fio_json(fixture("fio_several_jobs_with_warnings.json"));
  EXPECT_TRUE(contains(r.leading_text, "queue depth will be capped at 1"));
  EXPECT_EQ(r.jobs.size(), 3u);
}

TEST(FioJson, GlobalOptionsAreOverlaidByJobOptions)
{
  FioResult r = read_fio_json(fixture("fio_several_jobs_with_warnings.json"));
  EXPECT_EQ(r.global_options.at("ioengine").value, "libaio");
  EXPECT_EQ(r.jobs[0].ioengine(), "libaio");
  EXPECT_EQ(r.jobs[0].bs_bytes(), 4096u);  // from the global options
  EXPECT_EQ(r.jobs[2].bs_bytes(), 65536u); // its own bs=64k
  EXPECT_EQ(r.jobs[0].options.at("ioengine").where, "/global options/ioengine");
  EXPECT_EQ(r.jobs[0].rwmixread(), 70);
}

TEST(FioJson, SeveralEntriesOfOneJobAreNotAggregated)
{
  FioResult r = read_fio_json(fixture("fio_several_jobs_with_warnings.json"));
  EXPECT_EQ(r.jobs[0].jobname, r.jobs[1].jobname);
  EXPECT_EQ(r.jobs[0].aggregated_threads, 1);
  EXPECT_FALSE(r.group_reporting);
}

TEST(FioJson, GroupReportingEntryCountsItsThreads)
{
  FioResult r = read_fio_json(fixture("fio_group_reporting.json"));
  ASSERT_EQ(r.jobs.size(), 1u);
  EXPECT_EQ(r.jobs[0].aggregated_threads, 4);
  EXPECT_TRUE(r.group_reporting);
}

TEST(FioJson, TruncatedFileIsAnErrorAtItsLastLine)
{
  auto e = input_error_of([] { read_fio_json(fixture("fio_truncated.json")); });
  EXPECT_TRUE(contains(e.where(), "line ")) << e.what();
  EXPECT_TRUE(contains(e.detail(), "invalid JSON")) << e.what();
  EXPECT_TRUE(contains(e.what(), "fio_truncated.json")) << e.what();
}

TEST(FioJson, MissingFieldIsNamedByItsJsonPointer)
{
  auto e = input_error_of([] { read_fio_json(fixture("fio_missing_iops.json")); });
  EXPECT_EQ(e.where(), "/jobs/0/read/iops");
  EXPECT_TRUE(contains(e.detail(), "missing field 'iops'")) << e.what();
}

TEST(FioJson, NumberWrittenAsAStringIsAnError)
{
  auto e = input_error_of([] { read_fio_json(fixture("fio_iops_is_a_string.json")); });
  EXPECT_EQ(e.where(), "/jobs/0/read/iops");
  EXPECT_TRUE(contains(e.detail(), "expected a number")) << e.what();
}

TEST(FioJson, NonIntegerBinKeyIsAnError)
{
  auto e = input_error_of([] { read_fio_json(fixture("fio_bad_bin_key.json")); });
  EXPECT_EQ(e.where(), "/jobs/0/read/clat_ns/bins/4.5e4");
}

TEST(FioJson, MissingWriteSectionIsAnError)
{
  auto e = input_error_of([] { read_fio_json(fixture("fio_missing_write.json")); });
  EXPECT_EQ(e.where(), "/jobs/0/write");
}

TEST(FioJson, MalformedOptionIsReportedWhenAccessed)
{
  FioResult r = read_fio_json(fixture("fio_bad_bs_option.json"));
  auto e      = input_error_of([&] { r.jobs[0].bs_bytes(); });
  EXPECT_EQ(e.where(), "/jobs/0/job options/bs");
  EXPECT_TRUE(contains(e.detail(), "'4q'")) << e.what();
}

TEST(FioJson, TextWithoutJsonIsAnError)
{
  auto e = input_error_of([] { read_fio_json(fixture("fio_no_json.txt")); });
  EXPECT_TRUE(contains(e.detail(), "no JSON object found")) << e.what();
}

TEST(FioJson, MissingFileIsAnError)
{
  auto e = input_error_of([] { read_fio_json(fixture("does_not_exist.json")); });
  EXPECT_TRUE(contains(e.what(), "does_not_exist.json")) << e.what();
}

TEST(FioJson, TrailingTextIsKept)
{
  FioResult r =
      parse_fio_json("{\"fio version\": \"fio-3.33\", \"jobs\": []}\nfio: file hash not empty on exit\n", "x");
  EXPECT_EQ(r.trailing_text, "fio: file hash not empty on exit");
  EXPECT_TRUE(r.jobs.empty());
}

TEST(FioJson, ANumberBeyondADoubleIsBadInput)
{
  // Found by the fuzz smoke run (tests/fuzz): nlohmann's out_of_range.406 escaped the reader.
  EXPECT_THROW(parse_fio_json("{\"fio version\": \"fio-3.33\", \"jobs\": [{\"iops\": 99.91e30998105}]}", "big.json"),
               pvsim::InputError);
}

TEST(FioJson, ATimestampBeyond64BitsIsBadInputNotUndefinedBehaviour)
{
  // Found by libFuzzer with UBSan (tests/fuzz, fio_json): a 1.8e63 timestamp was converted to int64.
  EXPECT_THROW(read_fio_json(fixture("fio_timestamp_beyond_int64.json")), pvsim::InputError);
}
