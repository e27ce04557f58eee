/* Bootstrap of a calibration (for validate --interval and calibrate --bootstrap): configurations are resampled with
 * replacement, all the runs of a drawn configuration together, from fixed seeds (the same resamples every time), and
 * a resample that cannot fit what the whole set fits is redrawn. On real virtio-vm-1q traces, calibrations only. */
#include "analysis/calibration/bootstrap.hpp"
#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/leave_out.hpp"

#include <gtest/gtest.h>
#include <map>

using namespace pvsim;
using namespace pvsim::calibration;

namespace {

std::string trace(const std::string& name)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/" + name + ".json";
}

struct Set {
  std::vector<std::string> files, keys;
};

Set runs(const std::vector<std::string>& names)
{
  Set s;
  for (const auto& n : names) {
    s.files.push_back(trace(n));
    s.keys.push_back(validation::read_run_config(trace(n)).key());
  }
  return s;
}

const std::vector<std::string> names{"randread_libaio_qd1_nj1_f1", "randread_libaio_qd1_nj1_f1_rep1",
                                     "randread_libaio_qd16_nj1_f1", "randread_libaio_qd64_nj1_f1"};

} // namespace

TEST(Bootstrap, ResamplesConfigurationsWithTheirRepeats)
{
  Set s          = runs(names);
  json reference = calibrate(s.files);
  auto rs        = bootstrap_calibrations(s.files, s.keys, 4, reference);
  ASSERT_EQ(rs.size(), 4u);
  std::map<std::string, std::size_t> runs_per_key{{s.keys[0], 2}, {s.keys[2], 1}, {s.keys[3], 1}};
  for (const auto& r : rs) {
    EXPECT_EQ(r.configurations.size(), 3u); // as many draws as configurations
    std::size_t expected = 0;
    for (const auto& k : r.configurations)
      expected += runs_per_key.at(k); // a drawn configuration brings all its runs (qd1: 2)
    EXPECT_EQ(r.files.size(), expected);
    EXPECT_EQ(r.device["sources"].size(), r.files.size());
  }
}

TEST(Bootstrap, SameSeedsSameResamples)
{
  Set s          = runs(names);
  json reference = calibrate(s.files);
  auto a         = bootstrap_calibrations(s.files, s.keys, 3, reference),
       b         = bootstrap_calibrations(s.files, s.keys, 3, reference);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].seed, b[i].seed);
    EXPECT_EQ(a[i].configurations, b[i].configurations);
    EXPECT_EQ(a[i].device.dump(), b[i].device.dump());
  }
  // The order the runs are given in does not change the draws.
  Set r{{s.files.rbegin(), s.files.rend()}, {s.keys.rbegin(), s.keys.rend()}};
  auto c = bootstrap_calibrations(r.files, r.keys, 3, reference);
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].configurations, c[i].configurations);
}

TEST(Bootstrap, RedrawsResamplesThatCannotFitWhatTheWholeSetFits)
{
  Set s          = runs(names);
  json reference = calibrate(s.files);
  auto rs        = bootstrap_calibrations(s.files, s.keys, 8, reference);
  int redrawn    = 0;
  for (const auto& r : rs) {
    for (const auto& n : r.device["not_fitted"])
      EXPECT_NE(std::find(reference["not_fitted"].begin(), reference["not_fitted"].end(), n),
                reference["not_fitted"].end())
          << "resample " << r.seed << " leaves unfitted: " << n;
    redrawn += r.redrawn;
  }
  // 3 configurations drawn 3 times: about 30 % of the draws miss the qd1 runs (no service fit) and are redrawn.
  EXPECT_GT(redrawn, 0);
}
