// Specification of the block-trace readers (analysis/readers/block_trace.hpp): the per-request CSV checked against
// its block_summary.txt, blkparse text (synthetic and the Xen dom0 excerpts), statistics and in-flight counts.
#include "analysis/readers/block_trace.hpp"

#include "tests/analysis/readers/reader_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace pvsim::readers;
using namespace pvsim::readers::test;
using S = BlockStage;

namespace {

const std::string events_csv = "virtio-vm-1q/per-request/libaio_qd16_5s_block_events.csv.gz";
const RequestFilter by_fio   = [](const BlockRequest& r) { return r.comm == "fio"; };
const RequestFilter by_other = [](const BlockRequest& r) { return r.comm != "fio"; };

/** One line of libaio_qd16_5s_block_summary.txt, in µs. */
struct SummaryLine {
  S from, to;
  std::size_t n;
  double mean, p50, p90, p99, p999, max;
};

void expect_matches(const StageSummary& s, const SummaryLine& want)
{
  SCOPED_TRACE(std::string(stage_letter(want.from)) + "2" + stage_letter(want.to));
  EXPECT_EQ(s.count, want.n);
  EXPECT_NEAR(s.mean_ns / 1e3, want.mean, 0.05); // the summary rounds to 0.1 µs
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(50) / 1e3, want.p50);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(90) / 1e3, want.p90);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(99) / 1e3, want.p99);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(99.9) / 1e3, want.p999);
  EXPECT_DOUBLE_EQ(s.max_ns / 1e3, want.max);
}

const BlockRequest& at_sector(const BlockTrace& t, const std::string& device, std::uint64_t sector)
{
  auto it = std::find_if(t.requests.begin(), t.requests.end(),
                         [&](const BlockRequest& r) { return r.device == device and r.sector == sector; });
  if (it == t.requests.end())
    throw std::runtime_error("no request at " + device + " sector " + std::to_string(sector));
  return *it;
}

} // namespace

// ---- the per-request CSV against its summary ------------------------------------------------------------------------

TEST(BlockEventsCsv, HasOneRequestPerRowAnd340705FromFio)
{
  BlockTrace t = read_block_events_csv(trace(events_csv));
  EXPECT_EQ(t.requests.size(), 340990u);
  EXPECT_EQ(std::count_if(t.requests.begin(), t.requests.end(), by_fio), 340705);
}

TEST(BlockEventsCsv, TimesAreExactNanoseconds)
{
  BlockTrace t          = read_block_events_csv(trace(events_csv));
  const BlockRequest& r = t.requests.front(); // 621.232949,621.232963,621.232969,621.23312,13118800,8,RA,uptime,1,1,1
  EXPECT_EQ(r.at(S::queue), 621232949000);
  EXPECT_EQ(r.at(S::insert), 621232963000);
  EXPECT_EQ(r.at(S::issue), 621232969000);
  EXPECT_EQ(r.at(S::complete), 621233120000);
  EXPECT_FALSE(r.has(S::get)); // no g_s column
  EXPECT_EQ(r.sector, 13118800u);
  EXPECT_EQ(r.nr_sectors, 8u);
  EXPECT_EQ(r.rwbs, "RA");
  EXPECT_EQ(r.comm, "uptime");
  EXPECT_EQ(r.c_cpu, 1);
}

TEST(BlockEventsCsv, FioStageLatenciesMatchBlockSummary)
{
  BlockTrace t = read_block_events_csv(trace(events_csv));
  for (const SummaryLine& want : {SummaryLine{S::queue, S::insert, 340705, 0.5, 0, 1, 1, 5, 290},
                                  SummaryLine{S::insert, S::issue, 340705, 1.1, 0, 1, 1, 220, 2610},
                                  SummaryLine{S::queue, S::issue, 340705, 1.6, 1, 1, 2, 242, 2611},
                                  SummaryLine{S::issue, S::complete, 340705, 144.2, 127, 188, 338, 2483, 9647},
                                  SummaryLine{S::queue, S::complete, 340705, 145.8, 128, 189, 353, 2547, 9649}})
    expect_matches(summarize_stage(t.requests, want.from, want.to, by_fio), want);
}

TEST(BlockEventsCsv, OtherProcessesStageLatenciesMatchBlockSummary)
{
  BlockTrace t = read_block_events_csv(trace(events_csv));
  for (const SummaryLine& want : {SummaryLine{S::queue, S::insert, 256, 424.5, 15, 1615, 4468, 5079, 5079},
                                  SummaryLine{S::insert, S::issue, 285, -21920.4, 11, 275, 799, 1210, 1210},
                                  SummaryLine{S::issue, S::complete, 285, 22429.0, 298, 811, 1400719, 2127642, 2127642},
                                  SummaryLine{S::queue, S::complete, 256, 893.8, 638, 2325, 4795, 5929, 5929}})
    expect_matches(summarize_stage(t.requests, want.from, want.to, by_other), want);
}

TEST(BlockEventsCsv, TwentyNineRequestsHaveNoQueueEvent)
{
  BlockTrace t = read_block_events_csv(trace(events_csv));
  auto no_q =
      std::count_if(t.requests.begin(), t.requests.end(), [](const BlockRequest& r) { return not r.has(S::queue); });
  EXPECT_EQ(no_q, 29);
  EXPECT_EQ(t.counts.complete, 340990u - 29u);
}

TEST(BlockEventsCsv, FioWindowAndCompletionRateMatchBlockSummary)
{
  // "fio window 5.467 s: ... completions/s = 62358": the rate counts every completion inside fio's window.
  BlockTrace t = read_block_events_csv(trace(events_csv));
  TimeWindow w = request_window(t.requests, S::queue, S::complete, by_fio);
  EXPECT_NEAR(w.length_s(), 5.467, 0.0005);
  InFlight f = in_flight(t.requests, S::issue, S::complete, w);
  EXPECT_NEAR(f.throughput_per_s, 62358, 1);
}

TEST(BlockEventsCsv, DeviceInFlightTimeAverageMatchesBlockSummary)
{
  BlockTrace t = read_block_events_csv(trace(events_csv));
  TimeWindow w = request_window(t.requests, S::queue, S::complete, by_fio);
  EXPECT_NEAR(in_flight(t.requests, S::issue, S::complete, w).time_average, 10.14, 0.005);
  EXPECT_NEAR(in_flight(t.requests, S::queue, S::complete, w).time_average, 9.12, 0.005);
}

TEST(BlockEventsCsv, DeviceInFlightDistributionMatchesBlockSummary)
{
  BlockTrace t     = read_block_events_csv(trace(events_csv));
  TimeWindow w     = request_window(t.requests, S::queue, S::complete, by_fio);
  const auto& frac = in_flight(t.requests, S::issue, S::complete, w).time_fraction_by_count;
  ASSERT_GE(frac.size(), 22u); // the summary lists 0 .. 21 and leaves out fractions that round to 0.000
  EXPECT_NEAR(frac[0], 0.185, 0.0005);
  EXPECT_NEAR(frac[1], 0.067, 0.0005);
  EXPECT_NEAR(frac[16], 0.276, 0.0005);
  EXPECT_NEAR(frac[21], 0.011, 0.0005);
  double beyond = 0, total = 0;
  for (std::size_t n = 0; n < frac.size(); ++n) {
    total += frac[n];
    beyond += n > 21 ? frac[n] : 0.0;
  }
  EXPECT_LT(beyond, 0.0005);
  EXPECT_NEAR(total, 1.0, 1e-9);
}

TEST(BlockEventsCsv, FioNeverHasMoreThanItsIodepthAtTheDevice)
{
  // Above 16 in the summary's distribution are only the stale issues of the 29 requests without Q.
  BlockTrace t = read_block_events_csv(trace(events_csv));
  TimeWindow w = request_window(t.requests, S::queue, S::complete, by_fio);
  EXPECT_EQ(in_flight(t.requests, S::issue, S::complete, w, by_fio).time_fraction_by_count.size(), 17u);
}

TEST(BlockEventsCsv, FioDeviceInFlightByLittlesLawEqualsTimeIntegration)
{
  // Every fio request lies inside its own window, so the two estimates agree exactly: 62.3 k/s x 144.2 µs = 8.99.
  // The summary's 10.14 also counts the 29 requests without Q, whose D is stale (I after D, D->C up to 2.1 s).
  BlockTrace t = read_block_events_csv(trace(events_csv));
  TimeWindow w = request_window(t.requests, S::queue, S::complete, by_fio);
  InFlight f   = in_flight(t.requests, S::issue, S::complete, w, by_fio);
  EXPECT_EQ(f.completions, 340705u);
  EXPECT_NEAR(f.littles_law, 8.985, 0.001);
  EXPECT_NEAR(f.time_average, f.littles_law, 1e-9);
}

// ---- CSV input errors
// ------------------------------------------------------------------------------------------------

TEST(BlockEventsCsv, QuotedFieldsAndEmptyCellsAreRead)
{
  BlockTrace t = read_block_events_csv(fixture("block_events_quoted.csv"));
  ASSERT_EQ(t.requests.size(), 2u);
  EXPECT_EQ(t.requests[0].latency_ns(S::issue, S::complete), 100000);
  EXPECT_FALSE(t.requests[1].has(S::queue));
  EXPECT_EQ(t.requests[1].q_cpu, -1);
  EXPECT_EQ(t.requests[1].comm, "odd,comm \"x\"");
}

TEST(BlockEventsCsv, MissingColumnIsNamedWithASuggestion)
{
  auto e = input_error_of([] { read_block_events_csv(fixture("block_events_missing_column.csv")); });
  EXPECT_EQ(e.where(), "line 1");
  EXPECT_TRUE(contains(e.detail(), "missing column 'd_s' (did you mean 'dd_s'?)")) << e.what();
}

TEST(BlockEventsCsv, MalformedTimeNamesItsLineAndColumn)
{
  auto e = input_error_of([] { read_block_events_csv(fixture("block_events_bad_time.csv")); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "column 'i_s'")) << e.what();
}

TEST(BlockEventsCsv, RowWithMissingFieldsIsAnError)
{
  auto e = input_error_of([] { read_block_events_csv(fixture("block_events_short_row.csv")); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "expected 11")) << e.what();
}

// ---- blkparse text
// ---------------------------------------------------------------------------------------------------

TEST(Blkparse, MatchesEventsBySectorSeparatelyPerDevice)
{
  BlockTrace t            = read_blkparse(fixture("blkparse_synthetic.txt"));
  const BlockRequest& sda = at_sector(t, "8,0", 1000);
  const BlockRequest& sdb = at_sector(t, "8,16", 1000);
  EXPECT_EQ(sda.latency_ns(S::queue, S::complete), 200000);
  EXPECT_EQ(sda.latency_ns(S::insert, S::issue), 7000);
  EXPECT_EQ(sda.latency_ns(S::get, S::insert), 2000);
  EXPECT_EQ(sdb.latency_ns(S::issue, S::complete), 300000);
  EXPECT_FALSE(sdb.has(S::insert));
}

TEST(Blkparse, BackMergeFoldsTheQueuedBioIntoItsRequest)
{
  BlockTrace t = read_blkparse(fixture("blkparse_synthetic.txt"));
  EXPECT_EQ(t.counts.merged_bios, 1u);
  EXPECT_THROW(at_sector(t, "8,0", 2008), std::runtime_error);
  const BlockRequest& r = at_sector(t, "8,0", 2000);
  EXPECT_EQ(r.nr_sectors, 16u);
  EXPECT_EQ(r.latency_ns(S::queue, S::complete), 510000);
}

TEST(Blkparse, RequeueReopensTheIssue)
{
  BlockTrace t          = read_blkparse(fixture("blkparse_synthetic.txt"));
  const BlockRequest& r = at_sector(t, "8,0", 3000);
  EXPECT_EQ(r.requeues, 1);
  EXPECT_EQ(r.latency_ns(S::issue, S::complete), 200000); // from the second D
  EXPECT_EQ(t.counts.requeues, 1u);
}

TEST(Blkparse, CommandNamesMayContainBlanks)
{
  BlockTrace t = read_blkparse(fixture("blkparse_synthetic.txt"));
  EXPECT_EQ(at_sector(t, "8,0", 2000).comm, "Web Content");
  EXPECT_EQ(at_sector(t, "8,0", 1000).comm, "fio");
}

TEST(Blkparse, SummaryLinesAndOtherActionsAreCountedNotMatched)
{
  BlockTrace t = read_blkparse(fixture("blkparse_synthetic.txt"));
  EXPECT_EQ(t.counts.events, 27u);
  EXPECT_EQ(t.counts.non_event_lines, 26u); // per-CPU and total summaries, throughput, blank lines
  EXPECT_EQ(t.counts.skipped_actions, (std::map<char, std::size_t>{{'A', 1}, {'P', 1}, {'U', 1}}));
  EXPECT_EQ(t.counts.unsectored_events, 1u); // the flush "Q FWS"
}

TEST(Blkparse, UnmatchedCompletionAndOpenRequestAreCounted)
{
  BlockTrace t = read_blkparse(fixture("blkparse_synthetic.txt"));
  EXPECT_EQ(t.counts.unmatched_completions, 1u); // C of sector 9999, never queued
  EXPECT_EQ(t.counts.open_at_end, 1u);           // sector 4000, issued, not completed
  EXPECT_EQ(t.requests.size(), 5u);
  EXPECT_EQ(t.counts.complete, 4u);
  EXPECT_FALSE(at_sector(t, "8,0", 4000).has(S::complete));
}

TEST(Blkparse, MalformedEventLineIsAnErrorAtItsLine)
{
  auto e = input_error_of([] { read_blkparse(fixture("blkparse_malformed_time.txt")); });
  EXPECT_EQ(e.where(), "line 3");
  EXPECT_TRUE(contains(e.detail(), "'0.00010x000'")) << e.what();
}

TEST(Blkparse, SectorWithoutCountIsAnError)
{
  auto e = input_error_of([] { read_blkparse(fixture("blkparse_sector_without_count.txt")); });
  EXPECT_EQ(e.where(), "line 2");
}

TEST(Blkparse, XenExcerptIsATailAndAHeadReadAsTwoSegments)
{
  BlockTrace t = read_blkparse(trace("xen-lab-tcg/blkfront-max-queues-1/dom0-blkparse-excerpt.txt"));
  EXPECT_EQ(t.counts.segments, 2u);
  EXPECT_EQ(t.counts.events, 68u);
  EXPECT_EQ(t.counts.unmatched_events.at('D'), 1u); // the tail starts after the Q of sector 70768
  EXPECT_EQ(t.counts.skipped_actions.at('P'), 14u);
  EXPECT_EQ(t.counts.complete, 13u);
  StageSummary d2c = summarize_stage(t.requests, S::issue, S::complete);
  EXPECT_EQ(d2c.count, 14u);
  EXPECT_GT(d2c.min_ns, 0);
  EXPECT_TRUE(std::all_of(t.requests.begin(), t.requests.end(),
                          [](const BlockRequest& r) { return r.device == "254,16" and r.nr_sectors == 8; }));
}

TEST(Blkparse, XenFourQueueExcerptCountsCompletionsOfUnseenIssues)
{
  BlockTrace t = read_blkparse(trace("xen-lab-tcg/blkfront-max-queues-4/dom0-blkparse-excerpt.txt"));
  EXPECT_EQ(t.counts.segments, 2u);
  EXPECT_EQ(t.counts.unmatched_completions, 5u);
  EXPECT_EQ(t.counts.complete, 12u);
  EXPECT_EQ(t.counts.open_at_end, 0u);
}

// ---- statistics
// --------------------------------------------------------------------------------------------------------

TEST(BlockStatistics, PercentileIsTheSortedValueAtRankFloorOfPTimesN)
{
  std::vector<BlockRequest> reqs(10);
  for (int i = 0; i < 10; ++i) {
    reqs[i].time_ns[static_cast<int>(S::issue)]    = 0;
    reqs[i].time_ns[static_cast<int>(S::complete)] = (10 - i) * 1000; // 10 µs .. 1 µs
  }
  StageSummary s = summarize_stage(reqs, S::issue, S::complete, {}, {0, 50, 90, 100});
  EXPECT_EQ(s.count, 10u);
  EXPECT_DOUBLE_EQ(s.mean_ns, 5500);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(0), 1000);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(50), 6000);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(90), 10000);
  EXPECT_DOUBLE_EQ(s.percentiles_ns.at(100), 10000);
}

TEST(BlockStatistics, RequestsLackingAStageAreLeftOutOfItsStatistics)
{
  std::vector<BlockRequest> reqs(2);
  reqs[0].time_ns[static_cast<int>(S::issue)]    = 0;
  reqs[0].time_ns[static_cast<int>(S::complete)] = 5;
  reqs[1].time_ns[static_cast<int>(S::complete)] = 9;
  EXPECT_EQ(summarize_stage(reqs, S::issue, S::complete).count, 1u);
  EXPECT_EQ(summarize_stage(reqs, S::queue, S::complete).count, 0u);
}

TEST(BlockStatistics, InFlightOfTwoOverlappingRequests)
{
  // A at the device over [0, 10) ns, B over [5, 15) ns, window [0, 20) ns.
  std::vector<BlockRequest> reqs(2);
  reqs[0].time_ns[static_cast<int>(S::issue)]    = 0;
  reqs[0].time_ns[static_cast<int>(S::complete)] = 10;
  reqs[1].time_ns[static_cast<int>(S::issue)]    = 5;
  reqs[1].time_ns[static_cast<int>(S::complete)] = 15;
  InFlight f                                     = in_flight(reqs, S::issue, S::complete, TimeWindow{0, 20});
  EXPECT_EQ(f.completions, 2u);
  EXPECT_DOUBLE_EQ(f.time_average, 1.0);
  EXPECT_NEAR(f.littles_law, 1.0, 1e-12);
  EXPECT_EQ(f.time_fraction_by_count, (std::vector<double>{0.25, 0.5, 0.25}));
}

TEST(BlockStatistics, InFlightClipsRequestsToTheWindow)
{
  std::vector<BlockRequest> reqs(1);
  reqs[0].time_ns[static_cast<int>(S::issue)]    = 0;
  reqs[0].time_ns[static_cast<int>(S::complete)] = 100;
  InFlight f                                     = in_flight(reqs, S::issue, S::complete, TimeWindow{50, 150});
  EXPECT_DOUBLE_EQ(f.time_average, 0.5);
  EXPECT_EQ(f.completions, 1u);
}
