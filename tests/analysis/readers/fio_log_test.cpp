// Specification of the fio per-request latency log reader (analysis/readers/fio_log.hpp).
#include "analysis/readers/fio_json.hpp"
#include "analysis/readers/fio_log.hpp"

#include "tests/analysis/readers/reader_test_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim::readers;
using namespace pvsim::readers::test;

namespace {

const std::string clat_log   = "virtio-vm-1q/per-request/libaio_qd16_3s_clat.log.gz";
const std::string slat_log   = "virtio-vm-1q/per-request/libaio_qd16_3s_slat.log.gz";
const std::string latlog_run = "virtio-vm-1q/fio/randread_libaio_qd16_nj1_f1_latlog3s.json";

double mean_latency_ns(const FioLog& log)
{
  long double sum = 0;
  for (const auto& r : log.records)
    sum += r.latency_ns;
  return static_cast<double>(sum / log.records.size());
}

} // namespace

TEST(FioLog, GzipClatLogHasOneRecordPerCompletionOfItsRun)
{
  FioLog log    = read_fio_log(trace(clat_log));
  FioResult run = read_fio_json(trace(latlog_run));
  EXPECT_EQ(log.records.size(), run.jobs[0].read.clat.count);
  EXPECT_EQ(log.records.size(), 214271u);
}

TEST(FioLog, ClatLogMeanEqualsFioJsonClatMean)
{
  FioLog log    = read_fio_log(trace(clat_log));
  FioResult run = read_fio_json(trace(latlog_run));
  EXPECT_NEAR(mean_latency_ns(log), run.jobs[0].read.clat.mean_ns, 1e-3);
}

TEST(FioLog, SlatLogMeanEqualsFioJsonSlatMean)
{
  FioLog log    = read_fio_log(trace(slat_log));
  FioResult run = read_fio_json(trace(latlog_run));
  EXPECT_EQ(log.kind, FioLogKind::slat);
  EXPECT_NEAR(mean_latency_ns(log), run.jobs[0].read.slat.mean_ns, 1e-3);
}

TEST(FioLog, FiveColumnsAreTimeLatencyDirectionBlockSizePriority)
{
  FioLog log = read_fio_log(trace(clat_log));
  EXPECT_EQ(log.kind, FioLogKind::clat);
  EXPECT_TRUE(log.layout.has_prio);
  EXPECT_FALSE(log.layout.has_offset);
  const FioLogRecord& first = log.records.front();
  EXPECT_EQ(first.time_ms, 31);
  EXPECT_EQ(first.latency_ns, 332938);
  EXPECT_EQ(first.direction, 0);
  EXPECT_EQ(first.bs_bytes, 4096u);
  EXPECT_EQ(first.prio, 0u);
  EXPECT_EQ(log.records.back().time_ms, 3000);
}

TEST(FioLog, StreamingFormVisitsTheSameRecords)
{
  std::size_t n   = 0;
  long double sum = 0;
  for_each_fio_log_record(trace(clat_log), [&](const FioLogRecord& r) {
    ++n;
    sum += r.latency_ns;
  });
  FioLog log = read_fio_log(trace(clat_log));
  EXPECT_EQ(n, log.records.size());
  EXPECT_NEAR(static_cast<double>(sum / n), mean_latency_ns(log), 1e-6);
}

TEST(FioLog, SixColumnsCarryTheOffset)
{
  FioLog log = read_fio_log(fixture("rr_clat_offset.1.log"));
  EXPECT_TRUE(log.layout.has_offset);
  ASSERT_EQ(log.records.size(), 3u);
  EXPECT_EQ(log.records[0].offset_bytes, 1052672u);
  EXPECT_EQ(log.records[1].direction, 1);
  EXPECT_EQ(log.records[2].bs_bytes, 8192u);
  EXPECT_EQ(log.records[2].prio, 1u);
}

TEST(FioLog, SevenColumnsCarryOffsetHexPriorityAndIssueTime)
{
  FioLog log = read_fio_log(fixture("rr_slat_prio_issue.1.log"));
  EXPECT_TRUE(log.layout.has_issue_time);
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.records[0].prio, 0x2004u);
  EXPECT_EQ(log.records[0].issue_time_ns, 1000500u);
  EXPECT_EQ(log.records[1].offset_bytes, 12288u);
}

TEST(FioLog, GivenLayoutMustMatchTheColumns)
{
  FioLogLayout five; // time, latency, direction, bs, prio
  auto e = input_error_of([&] { read_fio_log(fixture("rr_clat_offset.1.log"), five); });
  EXPECT_EQ(e.where(), "line 1");
}

TEST(FioLog, BandwidthLogIsRejectedByItsName)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_bw.1.log")); });
  EXPECT_TRUE(contains(e.detail(), "bandwidth or IOPS log")) << e.what();
}

TEST(FioLog, ColumnCountChangingMidFileIsAnErrorAtItsLine)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_clat_mixed_columns.1.log")); });
  EXPECT_EQ(e.where(), "line 2");
  EXPECT_TRUE(contains(e.detail(), "expected 6")) << e.what();
}

TEST(FioLog, UnknownDirectionIsAnError)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_clat_bad_direction.1.log")); });
  EXPECT_EQ(e.where(), "line 2");
  EXPECT_TRUE(contains(e.detail(), "found 7")) << e.what();
}

TEST(FioLog, NonNumericFieldIsAnError)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_clat_not_a_number.1.log")); });
  EXPECT_EQ(e.where(), "line 2");
  EXPECT_TRUE(contains(e.detail(), "'15x960'")) << e.what();
}

TEST(FioLog, TruncatedGzipIsAnError)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_clat_truncated.1.log.gz")); });
  EXPECT_TRUE(contains(e.detail(), "truncated")) << e.what();
}

TEST(FioLog, EmptyLogIsAnError)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_lat_empty.1.log")); });
  EXPECT_TRUE(contains(e.detail(), "no record")) << e.what();
}

TEST(FioLog, MissingFileIsAnError)
{
  auto e = input_error_of([] { read_fio_log(fixture("rr_clat_absent.1.log")); });
  EXPECT_TRUE(contains(e.what(), "rr_clat_absent.1.log")) << e.what();
}
