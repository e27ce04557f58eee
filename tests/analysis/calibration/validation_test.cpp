/* pvsim validate: JSON layout and error arithmetic on the real virtio-vm-1q traces, the leave-one-kind-out report
 * (fit without io_uring, predict it; then every kind of run left out in turn), the iodepth-1-only calibration,
 * thresholds and bad inputs. */
#include "analysis/calibration/validation.hpp"
#include "analysis/readers/fio_json.hpp"
#include "sim/scenario.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/json_support.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string dir_fio()
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/";
}
std::string trace(const std::string& name)
{
  return dir_fio() + name + ".json";
}
std::string traces_args(const std::function<bool(const std::string&)>& keep)
{
  std::string args;
  for (auto& e : std::filesystem::directory_iterator(dir_fio())) {
    std::string n = e.path().filename().string();
    if (e.path().extension() == ".json" and keep(n))
      args += " --trace " + e.path().string();
  }
  return args;
}
} // namespace

TEST(Validation, ErrorArithmetic)
{
  EXPECT_DOUBLE_EQ(validation::error_pct(110, 100), 10);
  EXPECT_DOUBLE_EQ(validation::error_pct(90, 100), -10);
  EXPECT_DOUBLE_EQ(validation::median_abs({-30, 10, 20}), 20);
  EXPECT_DOUBLE_EQ(validation::median_abs({-30, 10, 20, -1}), 15);
}

TEST(Validation, ARunIsSimulatedFiveTimesAsLongAsItWasMeasuredUpToTwoMillionRequestsButNeverShorter)
{
  // The traces ran 10 s (qd1: about 12.5 k IOPS; qd64: about 109 k) and 3 s (the latency-log rerun at qd16).
  auto qd1  = calibration::run_facts(readers::read_fio_json(trace("randread_libaio_qd1_nj1_f1"))).front();
  auto qd64 = calibration::run_facts(readers::read_fio_json(trace("randread_libaio_qd64_nj1_f1"))).front();
  auto short_run =
      calibration::run_facts(readers::read_fio_json(trace("randread_libaio_qd16_nj1_f1_latlog3s"))).front();
  EXPECT_NEAR(qd1.runtime_s, 10.0, 0.01);
  EXPECT_NEAR(short_run.runtime_s, 3.0, 0.01);
  validation::Options opt;
  opt.warmup_s = 0.1;
  EXPECT_NEAR(validation::run_duration_s(opt, qd1), 50.1, 1e-9); // 5 x 10 s: 625 k requests, under the cap
  double capped = 2e6 / qd64.iops;                               // 5 x 10 s would be 5.4 M requests
  EXPECT_GT(capped, 10.0);
  EXPECT_NEAR(validation::run_duration_s(opt, qd64), capped + 0.1, 1e-9);
  EXPECT_NEAR(validation::run_duration_s(opt, short_run), 15.1, 1e-9);
  auto fast = qd64;
  fast.iops = 1e6; // 2 M requests in 2 s: shorter than the run, so the run's own 10 s
  EXPECT_NEAR(validation::run_duration_s(opt, fast), qd64.runtime_s + 0.1, 1e-9);
  auto unknown      = qd1;
  unknown.runtime_s = 0; // fio gave no runtime: 5 x 1 s
  EXPECT_NEAR(validation::run_duration_s(opt, unknown), 5.1, 1e-9);
  EXPECT_NEAR(validation::run_duration_s(opt, qd1, 1), 10.1, 0.01); // a bootstrap resample: the run's own length
  opt.duration_s = 0.5; // --duration: as given, warm-up included
  EXPECT_DOUBLE_EQ(validation::run_duration_s(opt, qd1), 0.5);
}

TEST(Validation, JsonLayoutAndErrors)
{
  TempDir dir;
  std::string t1 = trace("randread_libaio_qd1_nj1_f1"), t16 = trace("randread_libaio_qd16_nj1_f1"),
              t64 = trace("randread_libaio_qd64_nj1_f1");
  auto cal = run_pvsim("calibrate --trace " + t1 + " --trace " + t16 + " --trace " + t64 + " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto res = run_pvsim("validate -q --device " + dir.file("d.json") + " --trace " + t1 + " --trace " + t16 +
                       " --trace " + t64 + " --duration 0.1 --warmup 0.02 --json " + dir.file("v.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json v = read_json_file(dir.file("v.json"));
  ASSERT_EQ(v.size(), 2u);
  ASSERT_EQ(v["runs"].size(), 3u);
  const std::vector<std::string> keys{"iops", "clat_mean_us", "clat_p50_us", "clat_p99_us"};
  std::map<std::string, std::vector<double>> errs;
  for (auto& r : v["runs"]) {
    EXPECT_EQ(r.size(), 4u) << r.dump();
    for (const char* part : {"measured", "predicted", "error_pct"}) {
      ASSERT_EQ(r[part].size(), 4u);
      for (auto& k : keys)
        ASSERT_TRUE(r[part][k].is_number()) << part << " " << k;
    }
    for (auto& k : keys) {
      double m = r["measured"][k], p = r["predicted"][k];
      EXPECT_NEAR(r["error_pct"][k].get<double>(), (p - m) / m * 100, 1e-9);
      errs[k].push_back(r["error_pct"][k]);
    }
  }
  EXPECT_EQ(v["runs"][0]["trace"], "randread_libaio_qd1_nj1_f1.json");
  EXPECT_NEAR(v["runs"][0]["measured"]["iops"].get<double>(), 12493.2, 1.0); // summary.csv
  EXPECT_NEAR(v["runs"][0]["measured"]["clat_mean_us"].get<double>(), 56.81, 0.01);
  for (auto& k : keys)
    EXPECT_NEAR(v["summary"]["median_abs_error_pct"][k].get<double>(), validation::median_abs(errs[k]), 1e-9);
  // IOPS grow with depth in the model as in the traces.
  EXPECT_GT(v["runs"][2]["predicted"]["iops"].get<double>(), 4 * v["runs"][0]["predicted"]["iops"].get<double>());
}

TEST(Validation, LeaveOneKindOutReport)
{
  TempDir dir;
  auto cal = run_pvsim("calibrate -o " + dir.file("d.json") +
                       traces_args([](const std::string& n) { return n.find("io_uring") == std::string::npos; }));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  // Predict the held-out io_uring run, and the whole set for the report.
  auto held = run_pvsim("validate -q --device " + dir.file("d.json") + " --trace " +
                        trace("randread_io_uring_qd1_nj1_f1") + " --json " + dir.file("held.json"));
  ASSERT_EQ(held.exit_code, 0) << held.output;
  json h = read_json_file(dir.file("held.json"));
  std::printf("[leave io_uring out] io_uring qd1: IOPS error %.1f %%, clat mean %.1f %%, p50 %.1f %%, p99 %.1f %%\n",
              h["runs"][0]["error_pct"]["iops"].get<double>(), h["runs"][0]["error_pct"]["clat_mean_us"].get<double>(),
              h["runs"][0]["error_pct"]["clat_p50_us"].get<double>(),
              h["runs"][0]["error_pct"]["clat_p99_us"].get<double>());
  EXPECT_LT(std::abs(h["runs"][0]["error_pct"]["iops"].get<double>()), 25);
  auto all =
      run_pvsim("validate -q --device " + dir.file("d.json") + traces_args([](const std::string&) { return true; }) +
                " -o " + dir.file("report") + " --json " + dir.file("all.json"));
  ASSERT_EQ(all.exit_code, 0) << all.output;
  json full     = read_json_file(dir.file("report/validation.json"));
  const json& s = full["summary"];
  std::printf("[all runs] median |error| %%: pvsim IOPS %.1f clat mean %.1f p50 %.1f p99 %.1f; MVA IOPS %.1f mean "
              "%.1f; bound interpolation IOPS %.1f mean %.1f\n",
              s["median_abs_error_pct"]["iops"].get<double>(), s["median_abs_error_pct"]["clat_mean_us"].get<double>(),
              s["median_abs_error_pct"]["clat_p50_us"].get<double>(),
              s["median_abs_error_pct"]["clat_p99_us"].get<double>(),
              s["baselines"]["mva"]["median_abs_error_pct"]["iops"].get<double>(),
              s["baselines"]["mva"]["median_abs_error_pct"]["clat_mean_us"].get<double>(),
              s["baselines"]["bound_interpolation"]["median_abs_error_pct"]["iops"].get<double>(),
              s["baselines"]["bound_interpolation"]["median_abs_error_pct"]["clat_mean_us"].get<double>());
  EXPECT_LT(s["median_abs_error_pct"]["iops"].get<double>(), 20);
  EXPECT_LT(s["median_abs_error_pct"]["iops"].get<double>(),
            s["baselines"]["mva"]["median_abs_error_pct"]["iops"].get<double>());
  // Mean latency well below MVA's and level with the bound interpolation's (9.1-12.3 % over seeds 1-3 against
  // 10.8 %: within 20 % of it; the README says so). IOPS is not below the bound interpolation's.
  EXPECT_LT(s["median_abs_error_pct"]["clat_mean_us"].get<double>(),
            s["baselines"]["mva"]["median_abs_error_pct"]["clat_mean_us"].get<double>());
  EXPECT_LT(s["median_abs_error_pct"]["clat_mean_us"].get<double>(),
            1.2 * s["baselines"]["bound_interpolation"]["median_abs_error_pct"]["clat_mean_us"].get<double>());
  // The tail at depth comes from preemption stopping the pipeline: p99 within 40 % median (61 % without it; the
  // issue's target, 25 %, is not met).
  EXPECT_LT(s["median_abs_error_pct"]["clat_p99_us"].get<double>(), 40);
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/report.md")));
  // The repeats' floor: the 22 runs of the 5 configurations measured more than once (libaio at iodepth 1, 4, 16 and
  // 64, psync), each beside the mean of its configuration's other runs, in the JSON and in the report.
  EXPECT_EQ(s["repeat_floor"]["runs"], 22);
  std::ifstream report(dir.file("report/report.md"));
  std::string text((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("## The repeats' floor"), std::string::npos);
  // Each of the 12 configurations (11 of reads, and the random write, whose direction this calibration saw) against
  // its own mean, in the JSON, the report and a plot.
  EXPECT_EQ(s["by_configuration"]["configurations"], 12);
  EXPECT_NE(text.find("## Against each configuration's mean"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/iops.png"))) << all.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/cdf.png")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/configurations.png")));
}

/** Issue 6 (a): each kind of run left out of the calibration in turn, then predicted. */
class LeftOut : public ::testing::TestWithParam<const char*> {};

TEST_P(LeftOut, IsPredictedWithin20PercentMedianByACalibrationWithoutIt)
{
  std::string kind = GetParam();
  TempDir dir;
  auto cal = run_pvsim("calibrate -o " + dir.file("d.json") +
                       traces_args([&](const std::string& n) { return n.find(kind) == std::string::npos; }));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto held = run_pvsim("validate -q --device " + dir.file("d.json") +
                        traces_args([&](const std::string& n) { return n.find(kind) != std::string::npos; }) +
                        " --json " + dir.file("held.json"));
  ASSERT_EQ(held.exit_code, 0) << held.output;
  json h        = read_json_file(dir.file("held.json"));
  const json& m = h["summary"]["median_abs_error_pct"];
  std::printf("[without %s] %zu runs predicted: median |error| IOPS %.1f %%, clat mean %.1f %%, p99 %.1f %%\n",
              kind.c_str(), h["runs"].size(), m["iops"].get<double>(), m["clat_mean_us"].get<double>(),
              m["clat_p99_us"].get<double>());
  EXPECT_LE(m["iops"].get<double>(), 20);
  EXPECT_LE(m["clat_mean_us"].get<double>(), 20);
}

// Engines (io_uring, psync), the direction (randwrite), the extra depths (2, 8, 32, 128, 256), the repeats and the
// runs on an otherwise idle machine.
INSTANTIATE_TEST_SUITE_P(Kinds, LeftOut,
                         ::testing::Values("io_uring", "psync", "randwrite", "_extra", "_rep", "_quiet"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           return n[0] == '_' ? n.substr(1) : n;
                         });

TEST(Validation, IodepthOneRunsAlonePredictTheDeeperOnes)
{
  // Issue 6 (b): calibrated on the iodepth-1 runs only; what depth removes (the kick, the wake-up) is told from what
  // remains (the models' defaults for submission and reaping); the saturation comes from the structure.
  TempDir dir;
  auto cal = run_pvsim("calibrate -o " + dir.file("d.json") +
                       traces_args([](const std::string& n) { return n.find("_qd1_") != std::string::npos; }));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto all = run_pvsim("validate -q --device " + dir.file("d.json") +
                       traces_args([](const std::string&) { return true; }) + " --json " + dir.file("all.json"));
  ASSERT_EQ(all.exit_code, 0) << all.output;
  json v        = read_json_file(dir.file("all.json"));
  const json& m = v["summary"]["median_abs_error_pct"];
  std::printf("[qd1 only] median |error| %%: IOPS %.1f (target 15), clat mean %.1f, p99 %.1f\n",
              m["iops"].get<double>(), m["clat_mean_us"].get<double>(), m["clat_p99_us"].get<double>());
  EXPECT_LE(m["iops"].get<double>(), 15.0);
  EXPECT_LT(m["clat_p99_us"].get<double>(), 40);
  // Nothing at iodepth 1 gives a saturation, yet the structure saturates: from qd64 to qd256 (4x the requests in
  // flight) IOPS grow by less than 10 %.
  auto iops_at = [&](const std::string& name) {
    for (const auto& r : v["runs"])
      if (r["trace"].get<std::string>().find(name) != std::string::npos)
        return r["predicted"]["iops"].get<double>();
    return 0.0;
  };
  double x64 = iops_at("randread_libaio_qd64_nj1_f1.json"), x256 = iops_at("randread_libaio_qd256_nj1_f1_extra");
  std::printf("[qd1 only] predicted IOPS: qd64 %.0f, qd256 %.0f (measured 108.6 k, 87.4 k)\n", x64, x256);
  EXPECT_GT(x64, 0);
  EXPECT_LT(x256, 1.1 * x64);
}

TEST(Validation, ThresholdsAndBadInput)
{
  TempDir dir;
  std::string t1 = trace("randread_libaio_qd1_nj1_f1");
  ASSERT_EQ(run_pvsim("calibrate --trace " + t1 + " -o " + dir.file("d.json")).exit_code, 0);
  std::string base = "validate -q --device " + dir.file("d.json") + " --duration 0.05 --warmup 0.01 ";
  // A threshold no simulation meets exactly: exit 1, saying so.
  auto exceeded =
      run_pvsim(base + "--trace " + trace("randread_libaio_qd256_nj1_f1_extra") + " --max-iops-error 0.000001");
  EXPECT_EQ(exceeded.exit_code, 1) << exceeded.output;
  EXPECT_NE(exceeded.output.find("exceeds"), std::string::npos);
  auto loose = run_pvsim(base + "--trace " + t1 + " --max-iops-error 1000 --max-mean-error 1000");
  EXPECT_EQ(loose.exit_code, 0) << loose.output;
  auto missing = run_pvsim(base + "--trace " + dir.file("missing.json"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("missing.json"), std::string::npos);
  std::string notfio = dir.write("notfio.json", R"({"hello": 1})");
  auto bad           = run_pvsim(base + "--trace " + notfio);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("notfio.json"), std::string::npos);
  auto baddev = run_pvsim("validate -q --device " + notfio + " --trace " + t1);
  EXPECT_EQ(baddev.exit_code, 2);
  EXPECT_NE(baddev.output.find("/format"), std::string::npos) << baddev.output;
  // A device file's stack has its own fio loop: --fio-loop fio beside it is refused, and nothing is written.
  auto loop = run_pvsim(base + "--trace " + t1 + " --fio-loop fio --json " + dir.file("loop.json"));
  EXPECT_EQ(loop.exit_code, 2);
  EXPECT_NE(loop.output.find("--fio-loop: not with --device"), std::string::npos) << loop.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("loop.json")));
}

TEST(Validation, ALeaveOutCalibratesItsFoldsWithTheFioLoopAsked)
{
  // --fio-loop fio: every fold's calibration (and so its refinement and predictions) runs job.fio's fio loop, and the
  // mode says so; the default leaves the mode as it was.
  TempDir dir;
  std::string args = " --hold-out iodepth=64";
  for (const char* t : {"randread_libaio_qd1_nj1_f1", "randread_libaio_qd16_nj1_f1", "randread_libaio_qd64_nj1_f1",
                        "randread_libaio_qd128_nj1_f1_extra"})
    args += " --trace " + trace(t);
  json fio     = validate_json(args + " --fio-loop fio", "", dir);
  json batched = validate_json(args, "", dir);
  EXPECT_NE(fio["summary"]["mode"].get<std::string>().find("job.fio loop \"fio\""), std::string::npos)
      << fio["summary"]["mode"];
  EXPECT_EQ(batched["summary"]["mode"].get<std::string>().find("loop"), std::string::npos)
      << batched["summary"]["mode"];
  EXPECT_NE(fio["runs"][0]["predicted"]["iops"], batched["runs"][0]["predicted"]["iops"]);
}
