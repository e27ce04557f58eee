/* pvsim validate's leave-out: --hold-out expressions (each operator, text and numeric keys, an unknown key with its
 * suggestion, bad values), the file-name tag, and the folds (--hold-out, --kfold, --leave-out config): repeats of a
 * configuration stay in one fold, folds are dealt round-robin over the sorted configurations, deterministically. */
#include "analysis/calibration/hold_out.hpp"
#include "analysis/calibration/leave_out.hpp"
#include "sim/input_error.hpp"

#include <gtest/gtest.h>
#include <set>

using namespace pvsim;
using namespace pvsim::validation;

namespace {

RunConfig cfg(const std::string& engine, int qd, int nj = 1, const std::string& tag = "", int files = 1,
              const std::string& rw = "randread")
{
  RunConfig c;
  c.file = rw + "_" + engine + "_qd" + std::to_string(qd) + "_nj" + std::to_string(nj) + "_f" + std::to_string(files) +
           (tag.empty() ? "" : "_" + tag) + ".json";
  c.rw        = rw;
  c.engine    = engine;
  c.direction = rw.find("write") != std::string::npos ? "write" : "read";
  c.tag       = tag;
  c.iodepth   = qd;
  c.numjobs   = nj;
  c.files     = files;
  return c;
}

std::string error_of(const std::string& expr)
{
  try {
    HoldOut h(expr);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(HoldOut, NumericOperators)
{
  RunConfig qd16 = cfg("libaio", 16, 2);
  EXPECT_TRUE(HoldOut("iodepth=16").matches(qd16));
  EXPECT_FALSE(HoldOut("iodepth=1").matches(qd16));
  EXPECT_TRUE(HoldOut("iodepth!=1").matches(qd16));
  EXPECT_FALSE(HoldOut("iodepth!=16").matches(qd16));
  EXPECT_TRUE(HoldOut("numjobs>1").matches(qd16));
  EXPECT_FALSE(HoldOut("numjobs>2").matches(qd16));
  EXPECT_TRUE(HoldOut("iodepth<32").matches(qd16));
  EXPECT_FALSE(HoldOut("iodepth<16").matches(qd16));
  EXPECT_TRUE(HoldOut("files=1").matches(qd16));
  EXPECT_FALSE(HoldOut("files>1").matches(qd16));
}

TEST(HoldOut, TextKeysAndSizes)
{
  RunConfig r = cfg("io_uring", 4, 1, "rep2");
  EXPECT_TRUE(HoldOut("engine=io_uring").matches(r));
  EXPECT_FALSE(HoldOut("engine!=io_uring").matches(r));
  EXPECT_TRUE(HoldOut("rw=randread").matches(r));
  EXPECT_TRUE(HoldOut("direction=read").matches(r));
  EXPECT_TRUE(HoldOut("tag=rep2").matches(r));
  EXPECT_FALSE(HoldOut("tag=").matches(r)); // the empty tag: runs without one
  EXPECT_TRUE(HoldOut("tag=").matches(cfg("libaio", 4)));
  EXPECT_TRUE(HoldOut(" engine = io_uring ").matches(r)); // spaces around key and value are ignored
  EXPECT_TRUE(HoldOut("bs=4k").matches(r));               // 4k = 4096 bytes
  EXPECT_TRUE(HoldOut("bs=4096").matches(r));
  EXPECT_FALSE(HoldOut("bs>4KiB").matches(r));
}

TEST(HoldOut, UnknownKeyIsRefusedWithASuggestion)
{
  std::string e = error_of("numjob>1");
  EXPECT_NE(e.find("--hold-out"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'numjob'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'numjobs'"), std::string::npos) << e;
  EXPECT_NE(error_of("ioengine=libaio").find("did you mean 'engine'"), std::string::npos);
}

TEST(HoldOut, BadExpressionsAreRefused)
{
  EXPECT_NE(error_of("iodepth>abc").find("expected a number"), std::string::npos);
  EXPECT_NE(error_of("iodepth>").find("expected a number"), std::string::npos);
  EXPECT_NE(error_of("bs=big").find("expected a number"), std::string::npos);
  EXPECT_NE(error_of("rw>read").find("only = and !="), std::string::npos);
  EXPECT_NE(error_of("numjobs").find("expected key=value"), std::string::npos);
  EXPECT_NE(error_of("tag!rep1").find("'!' must be followed by '='"), std::string::npos);
  EXPECT_NE(error_of("iodepth>=4").find("expected a number"), std::string::npos); // no >= operator
}

TEST(LeaveOut, TagOfFileName)
{
  EXPECT_EQ(tag_of("/x/randread_libaio_qd16_nj1_f1_rep1.json"), "rep1");
  EXPECT_EQ(tag_of("randread_io_uring_qd1_nj1_f1.json"), "");
  EXPECT_EQ(tag_of("randread_libaio_qd16_nj1_f1_latlog3s.json"), "latlog3s");
  EXPECT_EQ(tag_of("something_else.json"), "");
}

TEST(LeaveOut, HoldOutFoldOrsExpressionsAndRefusesEmptySides)
{
  std::vector<RunConfig> runs{cfg("libaio", 1), cfg("io_uring", 1), cfg("libaio", 16, 2), cfg("libaio", 16)};
  auto folds = hold_out_folds(runs, {"numjobs>1", "engine=io_uring"});
  ASSERT_EQ(folds.size(), 1u);
  EXPECT_EQ(folds[0].name, "numjobs>1 or engine=io_uring");
  EXPECT_EQ(folds[0].held_out, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(folds[0].calibration, (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(folds[0].notes.empty());
  // An expression that matches nothing holds out nothing, and the fold says so.
  auto partly = hold_out_folds(runs, {"numjobs>4", "engine=io_uring"});
  EXPECT_EQ(partly[0].held_out, (std::vector<std::size_t>{1}));
  ASSERT_EQ(partly[0].notes.size(), 1u);
  EXPECT_NE(partly[0].notes[0].find("numjobs>4 matches no run"), std::string::npos);
  try {
    hold_out_folds(runs, {"numjobs>4"});
    ADD_FAILURE() << "an empty held-out set was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("held-out set is empty"), std::string::npos) << e.what();
  }
  try {
    hold_out_folds(runs, {"rw=randread"});
    ADD_FAILURE() << "an empty calibration set was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("calibration set is empty"), std::string::npos) << e.what();
  }
}

TEST(LeaveOut, KfoldKeepsRepeatsTogetherDealtRoundRobin)
{
  // Five configurations, the qd16 one with three repeats and the qd1 one with a quiet rerun.
  std::vector<RunConfig> runs{cfg("libaio", 16, 1, "rep1"), cfg("libaio", 1), cfg("libaio", 16),
                              cfg("io_uring", 1),           cfg("libaio", 4), cfg("libaio", 16, 1, "rep2"),
                              cfg("libaio", 1, 1, "quiet"), cfg("psync", 1)};
  auto folds = kfold_folds(runs, 2);
  ASSERT_EQ(folds.size(), 2u);
  // Sorted configurations: io_uring qd1, libaio qd1, libaio qd4, libaio qd16, psync qd1 -> folds 1,2,1,2,1.
  EXPECT_EQ(folds[0].held_out, (std::vector<std::size_t>{3, 4, 7}));
  EXPECT_EQ(folds[1].held_out, (std::vector<std::size_t>{0, 1, 2, 5, 6}));
  for (const auto& f : folds) {
    std::set<std::size_t> all(f.held_out.begin(), f.held_out.end());
    all.insert(f.calibration.begin(), f.calibration.end());
    EXPECT_EQ(all.size(), runs.size()); // every run on exactly one side
    for (std::size_t h : f.held_out)
      for (std::size_t c : f.calibration)
        EXPECT_NE(runs[h].key(), runs[c].key()) << "a repeat of " << runs[h].file << " calibrated its own fold";
  }
}

TEST(LeaveOut, KfoldIsDeterministicWhateverTheOrderOfTheRuns)
{
  std::vector<RunConfig> runs{cfg("libaio", 1), cfg("libaio", 2),  cfg("libaio", 4),
                              cfg("libaio", 8), cfg("libaio", 64), cfg("io_uring", 4)};
  std::vector<RunConfig> reversed(runs.rbegin(), runs.rend());
  auto held_files = [](const std::vector<RunConfig>& rs, const Fold& f) {
    std::set<std::string> s;
    for (std::size_t i : f.held_out)
      s.insert(rs[i].file);
    return s;
  };
  auto a = kfold_folds(runs, 3), b = kfold_folds(reversed, 3), again = kfold_folds(runs, 3);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(held_files(runs, a[k]), held_files(reversed, b[k]));
    EXPECT_EQ(a[k].held_out, again[k].held_out);
  }
}

TEST(LeaveOut, KfoldAndConfigFoldsRefuseTooFewConfigurations)
{
  std::vector<RunConfig> runs{cfg("libaio", 1), cfg("libaio", 1, 1, "rep1"), cfg("libaio", 16)};
  EXPECT_THROW(kfold_folds(runs, 3), InputError); // 2 configurations only: repeats count once
  EXPECT_THROW(kfold_folds(runs, 1), InputError);
  EXPECT_EQ(kfold_folds(runs, 2).size(), 2u);
  auto per_config = config_folds(runs);
  ASSERT_EQ(per_config.size(), 2u);
  EXPECT_EQ(per_config[0].held_out, (std::vector<std::size_t>{0, 1})); // qd1 and its repeat
  EXPECT_EQ(per_config[0].name, "randread libaio qd1 nj1 f1 bs4096");
  EXPECT_THROW(config_folds({cfg("libaio", 1), cfg("libaio", 1, 1, "quiet")}), InputError);
}
