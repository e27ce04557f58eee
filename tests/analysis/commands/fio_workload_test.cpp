/* A fio job file as the workload (pvsim run --fio, job.fio's job_file) and fio-compatible output (fio.json). */
#include "analysis/commands/fio_workload.hpp"
#include "analysis/readers/fio_json.hpp"
#include "sim/input_error.hpp"
#include "tests/support/cli_support.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

using namespace pvsim;
using namespace pvsim::test;
using nlohmann::json;

namespace {

std::string xen_blk_mq()
{
  return source_dir() + "/scenarios/xen-blk-mq.json";
}

/** The issue's job file: a randrw mix with numjobs=2 and a sequential reader. */
const char* mix_and_reader = R"(; two sections
[global]
ioengine=libaio
direct=1
time_based
filename=/dev/xvda

[mix]
rw=randrw
rwmixread=70
bs=4k
iodepth=16
numjobs=2

[seq-reader]
rw=read
bs=64k
iodepth=8
)";

/** The job.fio parameters of each section of `text` over xen-blk-mq's template. */
std::map<std::string, json> components_of(const std::string& text)
{
  auto file = readers::parse_fio_jobfile(text, "test.fio");
  json tpl  = {{"type", "job.fio"}, {"vm", "domU"}, {"target", "blkmq"}, {"submit_cpu", "10us"}, {"bs", "4KiB"}};
  std::vector<std::string> notes;
  std::map<std::string, json> out;
  for (const auto& job : file.jobs)
    out[job.name] = fio_section_to_component(job, "test.fio", tpl, notes);
  return out;
}

} // namespace

TEST(FioJobFileRun, TwoSectionsRunAsThreeJobsUnderTheirFioNames)
{
  TempDir dir;
  std::string jobfile = source_dir() + "/scenarios/fio/mix-and-reader.fio"; // the README's example
  auto r = run_pvsim("run " + xen_blk_mq() + " --fio " + jobfile + " --output-format=json -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res = json::parse(read_file(dir.file("out/results.json")));
  EXPECT_TRUE(res["jobs"].contains("mix")) << res["jobs"].dump();
  EXPECT_TRUE(res["jobs"].contains("seq-reader")) << res["jobs"].dump();
  EXPECT_FALSE(res["jobs"].contains("fio")) << "the template job.fio is replaced";
  auto fio = readers::read_fio_json(dir.file("out/fio.json"));
  ASSERT_EQ(fio.jobs.size(), 3u);
  EXPECT_EQ(fio.jobs[0].jobname, "mix"); // numjobs copies keep fio's name
  EXPECT_EQ(fio.jobs[1].jobname, "mix");
  EXPECT_EQ(fio.jobs[2].jobname, "seq-reader");
  EXPECT_GT(fio.jobs[0].write.total_ios, 0u) << "randrw writes too";
  EXPECT_EQ(fio.jobs[2].write.total_ios, 0u) << "a sequential reader only reads";
  EXPECT_EQ(fio.jobs[2].bs_bytes(), 65536u) << "job options are written as fio writes them";
}

TEST(FioJobFileRun, AScenarioNamesItsJobFileRelativeToItself)
{
  TempDir dir;
  dir.write("mix.fio", mix_and_reader);
  json sc                             = json::parse(read_file(xen_blk_mq()));
  sc["components"]["fio"]["job_file"] = "mix.fio";
  std::string scenario                = dir.write("with-job-file.json", sc.dump(2));
  auto r                              = run_pvsim("check " + scenario + " --expand");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json expanded = json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(expanded["components"]["mix"]["numjobs"], 2);
  EXPECT_EQ(expanded["components"]["seq-reader"]["rw"], "read");
  EXPECT_EQ(expanded["components"]["mix"]["target"], "blkmq") << "the template gives the target";
  EXPECT_EQ(expanded["components"]["mix"]["submit_cpu"], "10us") << "and the CPU costs";
  EXPECT_EQ(expanded["components"]["mix"]["cpus_allowed"], "0,5") << "the three copies spread over 16 vCPUs";
  EXPECT_EQ(expanded["components"]["seq-reader"]["cpus_allowed"], "10");
}

TEST(FioJobFileRun, VerifyIsRefusedWithTheLineAndNothingWritten)
{
  TempDir dir;
  std::string jobfile = dir.write("verify.fio", "[global]\ndirect=1\n\n[w]\nrw=randwrite\nverify=crc32c\n");
  auto r = run_pvsim("run " + xen_blk_mq() + " --fio " + jobfile + " --output-format=json -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("verify.fio"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 6"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'verify=crc32c'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("supported: "), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(FioJobFileRun, ZonemodeIsRefusedWithTheLineAndNothingWritten)
{
  TempDir dir;
  std::string jobfile = dir.write("zoned.fio", "[global]\nzonemode=zbd\n\n[w]\nrw=write\ndirect=1\n");
  auto r              = run_pvsim("run " + xen_blk_mq() + " --fio " + jobfile + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("line 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'zonemode=zbd'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(FioJobFileRun, GlobalOptionsAreInheritedAndUnitsParsedAsFioParsesThem)
{
  auto c = components_of("[global]\nbs=64k\nsize=1m\nthinktime=50\nstartdelay=250ms\ndirect=1\n"
                         "[a]\nrw=randread\n"
                         "[b]\nbs=1m\nrw=write\nruntime=2\nramp_time=500ms\ntime_based\n");
  EXPECT_EQ(c["a"]["bs_bytes"], 65536.0) << "bs=64k from [global], kb_base 1024";
  EXPECT_EQ(c["a"].count("bs"), 0u) << "the template's bs is replaced";
  EXPECT_EQ(c["a"]["number_ios"], 16) << "size=1m without time_based: 1 MiB / 64 KiB I/Os";
  EXPECT_DOUBLE_EQ(c["a"]["think_time"]["value_s"].get<double>(), 50e-6) << "thinktime's bare unit is microseconds";
  EXPECT_DOUBLE_EQ(c["a"]["startdelay_s"].get<double>(), 0.25);
  EXPECT_EQ(c["a"]["iodepth"], 1) << "fio's default";
  EXPECT_EQ(c["b"]["bs_bytes"], 1048576.0) << "the section overrides [global]";
  EXPECT_EQ(c["b"].count("number_ios"), 0u) << "time_based: the job loops until runtime";
  EXPECT_DOUBLE_EQ(c["b"]["runtime_s"].get<double>(), 2.5) << "ramp_time is lead-in time added to runtime";
}

TEST(FioJobFileRun, SynchronousEnginesKeepOneIoInFlightAndRatesBecomeIops)
{
  auto c = components_of("[s]\nioengine=psync\niodepth=32\ndirect=1\n"
                         "[r]\nioengine=libaio\niodepth=4\nbs=8k\nrate=8m\ndirect=1\n");
  EXPECT_EQ(c["s"]["iodepth"], 1);
  EXPECT_EQ(c["r"]["iodepth"], 4);
  EXPECT_DOUBLE_EQ(c["r"]["rate_iops"].get<double>(), 1024.0) << "8 MiB/s of 8 KiB I/Os";
}

TEST(FioJobFileRun, BssplitAndBsrangeBecomeTheJobsBlockSizeMix)
{
  auto c = components_of("[s]\nbssplit=4k/10:64k/50:32k\nsize=1m\n[r]\nbsrange=4k-16k\n");
  EXPECT_EQ(c["s"]["bssplit_bytes"], json({4096, 65536, 32768}));
  EXPECT_EQ(c["s"]["bssplit_percent"], json({10, 50, 40})) << "an entry without a percentage takes the rest";
  EXPECT_EQ(c["s"]["bs_bytes"], 4096.0) << "bs becomes the smallest size (fio's minimum block size)";
  EXPECT_EQ(c["s"]["number_ios"], 23) << "size=1m over a mean of 0.1*4k + 0.5*64k + 0.4*32k = 45.2 KiB: 22.7 I/Os";
  EXPECT_EQ(c["r"]["bs_bytes"], 4096.0);
  EXPECT_EQ(c["r"]["bsrange_max_bytes"], 16384.0);
}

TEST(FioJobFileRun, OptionsThatChangeTimingWithoutAModelAreRefused)
{
  for (const char* text : {"[j]\niodepth_batch_submit=8\n", "[j]\nfsync=1\n", "[j]\ndirect=0\n",
                           "[j]\nrate_iops=100\nrw=randrw\n", "[j]\nioengine=mmap\n", "[j]\nrw=trim\n"}) {
    try {
      components_of(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "line 2") << text << ": " << e.what();
    }
  }
}

TEST(FioJobFileRun, FioJsonReadsBackWithTheIopsAndLatenciesOfResultsJson)
{
  TempDir dir;
  std::string jobfile = dir.write("mix.fio", mix_and_reader);
  auto r = run_pvsim("run " + xen_blk_mq() + " --fio " + jobfile + " --output-format=json+ -q -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res = json::parse(read_file(dir.file("out/results.json")));
  auto fio = readers::read_fio_json(dir.file("out/fio.json"));
  ASSERT_EQ(fio.jobs.size(), 3u);

  const json& mix    = res["jobs"]["mix"];
  double copies_iops = fio.jobs[0].read.iops + fio.jobs[0].write.iops + fio.jobs[1].read.iops + fio.jobs[1].write.iops;
  expect_close("mix IOPS: fio.json copies vs results.json", copies_iops, mix["iops"].get<double>(), 1e-9);
  std::uint64_t reads = fio.jobs[0].read.total_ios + fio.jobs[1].read.total_ios;
  EXPECT_NEAR(static_cast<double>(reads) / static_cast<double>(mix["requests"].get<std::uint64_t>()), 0.70, 0.03)
      << "rwmixread=70";

  const json& seq                = res["jobs"]["seq-reader"];
  const readers::FioLatency& lat = fio.jobs[2].read.lat;
  expect_close("seq-reader IOPS", fio.jobs[2].read.iops, seq["iops"].get<double>(), 1e-9);
  expect_close("seq-reader lat mean (us)", lat.mean_ns / 1e3, seq["latency_us"]["mean"].get<double>(), 1e-9);
  expect_close("seq-reader lat p99 (us)", *lat.percentile_ns(99) / 1e3, seq["latency_us"]["p99"].get<double>(), 2e-3);
  ASSERT_TRUE(lat.has_bins);
  EXPECT_EQ(lat.bins_total(), lat.count);
  expect_close("seq-reader p99 from the json+ bins vs the reported one", *lat.percentile_from_bins_ns(99),
               *lat.percentile_ns(99), 1e-2);
  const readers::FioLatency& slat = fio.jobs[2].read.slat;
  const readers::FioLatency& clat = fio.jobs[2].read.clat;
  expect_close("slat mean + clat mean = lat mean", slat.mean_ns + clat.mean_ns, lat.mean_ns, 1e-9);
  EXPECT_GE(slat.min_ns, 10e3 - 1) << "slat includes the template's submit_cpu (10 us)";
}

TEST(FioJobFileRun, GroupReportingMergesTheCopiesIntoOneEntry)
{
  TempDir dir;
  std::string jobfile =
      dir.write("grouped.fio", "[global]\ndirect=1\nioengine=libaio\ngroup_reporting\n[g]\nrw=randread\n"
                               "numjobs=4\niodepth=8\n");
  auto r = run_pvsim("run " + xen_blk_mq() + " --fio " + jobfile + " --output-format=json -q -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res = json::parse(read_file(dir.file("out/results.json")));
  auto fio = readers::read_fio_json(dir.file("out/fio.json"));
  ASSERT_EQ(fio.jobs.size(), 1u);
  EXPECT_EQ(fio.jobs[0].jobname, "g");
  EXPECT_EQ(fio.jobs[0].aggregated_threads, 4) << "job_runtime sums the four copies' runtimes, as fio's";
  expect_close("group IOPS", fio.jobs[0].read.iops, res["jobs"]["g"]["iops"].get<double>(), 1e-9);
}

TEST(FioJobFileRun, FiosOwnJsonPlusToolReadsAndValidatesFioJson)
{
  const std::string tool = "/usr/bin/fio_jsonplus_clat2csv"; // fio's tools/, in Debian's fio package (.ci/setup)
  if (not std::filesystem::exists(tool))
    GTEST_SKIP() << tool << " is not installed (Debian package fio)";
  TempDir dir;
  auto r = run_pvsim("run " + xen_blk_mq() + " --fio " + source_dir() +
                     "/scenarios/fio/mix-and-reader.fio --output-format=json+ -q -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto made = run_command("/usr/bin/python3 " + tool + " " + dir.file("out/fio.json") + " " + dir.file("clat.csv"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto checked =
      run_command("/usr/bin/python3 " + tool + " --validate " + dir.file("out/fio.json") + " " + dir.file("clat.csv"));
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("clat_job2.csv validated"), std::string::npos) << checked.output;
  EXPECT_NE(read_file(dir.file("clat_job2.csv")).find("read_clat_ns_percentile"), std::string::npos);
}

TEST(FioJobFileRun, TheSameSeedWritesTheSameFioJson)
{
  TempDir dir;
  std::string args = " --fio " + source_dir() + "/scenarios/fio/mix-and-reader.fio --output-format=json+ -q -o ";
  ASSERT_EQ(run_pvsim("run " + xen_blk_mq() + args + dir.file("a")).exit_code, 0);
  ASSERT_EQ(run_pvsim("run " + xen_blk_mq() + args + dir.file("b")).exit_code, 0);
  EXPECT_EQ(read_file(dir.file("a/fio.json")), read_file(dir.file("b/fio.json")));
}
