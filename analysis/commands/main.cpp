/* pvsim command line. Exit codes: 0 ok, 2 bad input (scenario, options), 1 internal failure. */
#include "analysis/calibration/bootstrap.hpp"
#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/calibration_summary.hpp"
#include "analysis/calibration/prediction.hpp"
#include "analysis/calibration/validation.hpp"
#include "analysis/calibration/vmm_detect.hpp"
#include "analysis/commands/explain.hpp"
#include "analysis/commands/fio_report.hpp"
#include "analysis/commands/fio_workload.hpp"
#include "analysis/commands/policies_doc.hpp"
#include "analysis/commands/python_driver.hpp"
#include "analysis/commands/replay_workload.hpp"
#include "analysis/commands/sweep_command.hpp"
#include "analysis/regress/regress.hpp"
#include "analysis/xen/xen_tools.hpp"
#include "sim/component.hpp"
#include "sim/huge_page_heap.hpp"
#include "sim/input_error.hpp"
#include "sim/registry.hpp"
#include "sim/results.hpp"
#include "sim/scenario.hpp"
#include "sim/schema.hpp"
#include "sim/simulation.hpp"
#include "sim/stats.hpp"
#include "sim/stop.hpp"
#include "sim/trace_writer.hpp"
#include "sim/units.hpp"
#include "sim/version.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace pvsim;

namespace {

extern "C" void on_stop_signal(int sig)
{
  if (stop_requested()) { // a second Ctrl-C: stop now, the default way
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  request_stop(sig);
}

/** SIGINT and SIGTERM stop the run at the time reached (sim/stop.hpp) instead of killing the process. */
void handle_stop_signals()
{
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/** Holds SIGINT and SIGTERM while the results are written, so that they are written whole or not at all. */
class SignalsHeld {
public:
  SignalsHeld()
  {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, &old_);
  }
  ~SignalsHeld() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

private:
  sigset_t old_;
};

/** `--fio JOBFILE [--fio-template NAME]`, and what the expansion made of it. */
struct FioRequest {
  std::string job_file;
  std::string template_name;
  std::string output_format = "normal"; // normal (no fio.json), json, json+
  FioWorkload workload;
};

/** Loads the scenario, expands its fio job files (the scenario's job_file keys and --fio) and reads the traces its
 * source.replay components replay; the notes on options accepted but ignored go to stderr unless `quiet`. */
Scenario load(const std::string& file, const std::vector<std::string>& sets, std::optional<std::uint64_t> seed,
              FioRequest& fio, bool quiet)
{
  Scenario sc  = load_scenario(file, sets, seed);
  fio.workload = expand_fio_job_files(sc, fio.job_file, fio.template_name);
  load_replay_traces(sc);
  if (not quiet)
    for (const auto& n : fio.workload.notes)
      std::cerr << "pvsim: note: " << n << "\n";
  return sc;
}

Scenario load(const std::string& file, const std::vector<std::string>& sets)
{
  FioRequest none;
  return load(file, sets, std::nullopt, none, true);
}

/** --max-memory "8GiB" -> bytes; an InputError naming the option otherwise. */
std::optional<double> max_memory_option(const std::string& text)
{
  if (text.empty())
    return std::nullopt;
  auto bytes = parse_quantity(Dimension::size, text);
  if (not bytes or *bytes <= 0)
    throw InputError("", "--max-memory", "expected a size such as \"8GiB\" or \"512MiB\", got \"" + text + "\"");
  return bytes;
}

/** Memory above which `run` says what it expects to take before it starts. */
constexpr double large_estimate_bytes = 1024.0 * 1024 * 1024;

/** `pvsim run --trace FILE [--trace-window A..B] [--trace-sample N]`. */
struct TraceRequest {
  std::string file;
  std::string window;
  std::uint64_t sample = 1;
};

/** The window "10ms..12ms" in seconds; by default the 2 ms after the warm-up (a trace of tens of MB at most for the
 * shipped scenarios). An InputError naming the option otherwise. */
std::pair<double, double> trace_window(const std::string& text, const Simulation& sim)
{
  if (text.empty())
    return {sim.warmup_s(), std::min(sim.duration_s(), sim.warmup_s() + 2e-3)};
  auto dots = text.find("..");
  std::optional<double> from, to;
  if (dots != std::string::npos) {
    from = parse_quantity(Dimension::duration, text.substr(0, dots));
    to   = parse_quantity(Dimension::duration, text.substr(dots + 2));
  }
  if (not from or not to or *from < 0 or *to <= *from)
    throw InputError("", "--trace-window",
                     "expected FROM..TO with times and FROM < TO, e.g. \"10ms..12ms\", got \"" + text + "\"");
  return {*from, *to};
}

/** Writes the trace beside its final name, then renames it: a failed run leaves no partial file. */
void write_trace(const std::string& path, const json& trace)
{
  std::string staging = path + ".pvsim-staging-" + std::to_string(::getpid());
  {
    std::ofstream out(staging);
    out << trace.dump() << "\n";
    if (not out)
      throw OutputError("cannot write the trace " + path);
  }
  if (std::rename(staging.c_str(), path.c_str()) != 0) {
    std::remove(staging.c_str());
    throw OutputError("cannot write the trace " + path);
  }
}

/** fio.json when --output-format asked for it. */
std::map<std::string, std::string> fio_files(const FioReport* report, const json& results)
{
  if (report == nullptr)
    return {};
  return {{"fio.json", report->text(results)}};
}

int cmd_run(const std::string& file, const std::string& outdir, std::optional<std::uint64_t> seed,
            const std::vector<std::string>& sets, bool quiet, bool partial, const std::string& max_memory,
            const TraceRequest& trace_request, FioRequest& fio)
{
  Simulation sim(load(file, sets, seed, fio, /*quiet=*/true)); // its notes come below, after a re-execution
  sim.set_max_memory(max_memory_option(max_memory));
  ResourceEstimate estimate = sim.check_resources();
  // A wide scenario runs again, on huge pages (sim/huge_page_heap.hpp): nothing is written yet, and its inputs can
  // be read twice (not so a pipe, such as bash's <(...)).
  auto rereadable = [](const std::string& f) { return f.empty() or std::filesystem::is_regular_file(f); };
  bool wide       = huge_page_heap_wanted(estimate.memory_bytes());
  if (wide and rereadable(file) and rereadable(fio.job_file))
    exec_with_huge_page_heap();
  if (not quiet and wide and huge_page_heap_on())
    std::cerr << "pvsim: a wide scenario (about " << format_bytes(estimate.memory_bytes())
              << "): its heap is on transparent huge pages (glibc.malloc.hugetlb=1; PVSIM_NO_HUGE_PAGES=1 runs "
                 "without)\n";
  if (not quiet)
    for (const auto& n : fio.workload.notes)
      std::cerr << "pvsim: note: " << n << "\n";
  std::unique_ptr<TraceWriter> tracer;
  if (not trace_request.file.empty()) {
    auto [from, to] = trace_window(trace_request.window, sim);
    tracer          = std::make_unique<TraceWriter>(sim, TraceOptions{from, to, trace_request.sample});
  } else if (not trace_request.window.empty() or trace_request.sample != 1) {
    throw InputError("", "--trace-window/--trace-sample", "given without --trace FILE");
  }
  std::unique_ptr<FioReport> fio_report;
  if (fio.output_format != "normal") {
    fio_report = std::make_unique<FioReport>(sim, fio.workload, fio.output_format == "json+");
    sim.on_warmup_end([&fio_report](double now) { fio_report->restart(now); });
  }
  sim.on_models_started([&tracer, &fio_report] {
    if (tracer)
      tracer->connect();
    if (fio_report)
      fio_report->connect();
  });
  if (estimate.memory_bytes() > large_estimate_bytes and not quiet)
    std::cerr << "pvsim: " << estimate.to_text(sim.duration_s());
  sim.show_progress(not quiet and ::isatty(STDERR_FILENO));
  sim.on_engine_ready(handle_stop_signals);
  json results = sim.run();
  if (not results["complete"].get<bool>()) {
    std::string why = results["stopped_by"].get<std::string>();
    std::cerr << "pvsim: " << why << ": stopped at " << results["simulated_time_s"].get<double>() << " s of "
              << sim.duration_s() << " s; ";
    if (partial) {
      SignalsHeld held;
      write_outputs(outdir, results, fio_files(fio_report.get(), results));
      std::cerr << "incomplete results (\"complete\": false) in " << outdir << "\n";
    } else {
      std::cerr << "nothing written (--partial writes what was reached)\n";
    }
    return 128 + stop_signal();
  }
  if (results["liveness"].contains("warning"))
    std::cerr << "pvsim: warning: " << results["liveness"]["warning"].get<std::string>() << "\n";
  if (not quiet)
    std::cout << summary_table(results);
  {
    SignalsHeld held;
    write_outputs(outdir, results, fio_files(fio_report.get(), results));
    if (tracer)
      write_trace(trace_request.file, tracer->finish(results["simulated_time_s"].get<double>()));
  }
  if (not quiet)
    std::cout << "results: " << outdir << "/results.json, jobs.csv, queues.csv" << (fio_report ? ", fio.json" : "")
              << "\n";
  if (tracer and not quiet)
    std::cout << "trace: " << trace_request.file << " (open it in https://ui.perfetto.dev or chrome://tracing)\n";
  require_conservation(results);
  return 0;
}

int cmd_check(const std::string& file, const std::vector<std::string>& sets, const std::string& max_memory, bool expand,
              FioRequest& fio)
{
  Simulation sim(load(file, sets, std::nullopt, fio, false));
  if (expand) { // the scenario as it runs: groups made into components, --set applied (itself a valid scenario)
    std::cout << sim.scenario().document.dump(2) << "\n";
    return 0;
  }
  sim.set_max_memory(max_memory_option(max_memory));
  ResourceEstimate e = sim.check_resources();
  std::cout << file << ": ok (" << sim.components().size() << " components)\n" << e.to_text(sim.duration_s());
  return 0;
}

int cmd_graph(const std::string& file, const std::string& out, const std::vector<std::string>& sets)
{
  Simulation sim(load(file, sets));
  std::ostringstream dot;
  std::string title = sim.scenario().params.name.empty() ? file : sim.scenario().params.name;
  sim.wiring().write_dot(dot, title);
  if (out == "-")
    std::cout << dot.str();
  else
    write_file_atomically(out, dot.str());
  return 0;
}

/** Runs the scenario (no output files) and lists every statistic its models declare: where it is in results.json,
 * its kind, unit and meaning, and its value in this run. With --json, also each statistic's value right after the
 * warm-up restarted them all, over a nominal one-second window ("after_restart"; absent without a warm-up): zero for
 * every count and for every formula whose inputs restart, so a formula reading something the warm-up did not restart
 * shows there. */
int cmd_stats(const std::string& file, const std::vector<std::string>& sets, bool as_json)
{
  Simulation sim(load(file, sets));
  std::map<std::pair<const Component*, const Stat*>, json> after_restart;
  sim.on_warmup_end([&](double now) {
    for (const auto& c : sim.components())
      for (const auto& e : c->stats().entries())
        after_restart[{c.get(), e.stat.address()}] = e.stat.value(StatWindow{now, now + 1});
  });
  json results = sim.run();
  json out     = json::array();
  for (const auto& c : sim.components())
    for (const auto& e : c->stats().entries()) {
      const json& details = results["components"][c->name()];
      out.push_back({{"component", c->name()},
                     {"pointer", e.pointer},
                     {"kind", Stat::kind_name(e.stat.kind())},
                     {"unit", std::string(e.unit)},
                     {"doc", std::string(e.doc)},
                     {"value", details[json::json_pointer(e.pointer)]}});
      if (auto it = after_restart.find({c.get(), e.stat.address()}); it != after_restart.end())
        out.back()["after_restart"] = it->second;
    }
  if (as_json) {
    json doc = {
        {"simulated_time_s", results["simulated_time_s"]}, {"window_s", results["window_s"]}, {"statistics", out}};
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  for (const auto& s : out) {
    std::string value = s["value"].dump();
    if (value.size() > 24)
      value = value.substr(0, 21) + "...";
    std::printf("%-40s %-8s %-12s %24s  %s\n",
                (s["component"].get<std::string>() + s["pointer"].get<std::string>()).c_str(),
                s["kind"].get<std::string>().c_str(), s["unit"].get<std::string>().c_str(), value.c_str(),
                s["doc"].get<std::string>().c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  { // calibrate refines its fits by running this binary, whatever it is called
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (not ec)
      pvsim::calibration::set_simulator_exe(self.string());
  }
  CLI::App app{"pvsim: a discrete-event simulator of multi-queue paravirtual I/O"};
  app.set_version_flag("--version", std::string(pvsim::version));
  app.require_subcommand(1);

  std::string scenario, outdir = "out", dot_out, schema_out = "-";
  std::optional<std::uint64_t> seed;
  std::vector<std::string> sets;
  bool quiet = false;

  auto* run = app.add_subcommand("run", "Run a scenario: print a summary, write results.json and CSV files");
  run->add_option("scenario", scenario, "Scenario file (JSON)")->required();
  run->add_option("-o,--output", outdir, "Output directory (created if needed)")->capture_default_str();
  run->add_option("--seed", seed, "Seed of every random stream (overrides the scenario's)");
  run->add_option("--set", sets, "Override a scenario value: json.path=value (repeatable)");
  run->add_flag("-q,--quiet", quiet, "Print nothing but errors");
  std::string max_memory;
  run->add_option("--max-memory", max_memory,
                  "Refuse (exit 2) a scenario estimated to need more memory than this (e.g. 8GiB); always refused "
                  "beyond the memory available or ulimit -v");
  TraceRequest trace_request;
  run->add_option("--trace", trace_request.file,
                  "Write a Chrome/Perfetto trace of the requests (ui.perfetto.dev, chrome://tracing) to this file");
  run->add_option("--trace-window", trace_request.window,
                  "Requests submitted in FROM..TO are traced (default: the 2 ms after the warm-up), e.g. 10ms..12ms");
  run->add_option("--trace-sample", trace_request.sample, "Trace every Nth request (default 1: all in the window)")
      ->check(CLI::Range(1, 1000000));
  FioRequest fio;
  run->add_option("--fio", fio.job_file,
                  "A fio job file as the workload: its jobs replace the scenario's job.fio, which gives them the "
                  "guest, the target and the CPU costs (README 'Your fio job file as the workload')");
  run->add_option("--fio-template", fio.template_name,
                  "With --fio: the job.fio component the jobs replace, when the scenario has several");
  run->add_option("--output-format", fio.output_format,
                  "Also write fio.json as fio 3.x writes --output-format=json (json+: with latency bins)")
      ->check(CLI::IsMember({"normal", "json", "json+"}))
      ->capture_default_str();
  bool partial = false;
  run->add_flag("--partial", partial,
                "On SIGINT/SIGTERM, write the results reached so far, marked \"complete\": false (default: nothing)");

  auto* check = app.add_subcommand("check", "Validate a scenario without running it");
  check->add_option("scenario", scenario, "Scenario file (JSON)")->required();
  check->add_option("--set", sets, "Override a scenario value: json.path=value (repeatable)");
  check->add_option("--max-memory", max_memory, "Refuse (exit 2) a scenario estimated to need more memory than this");
  check->add_option("--fio", fio.job_file, "A fio job file as the workload (as pvsim run --fio)");
  check->add_option("--fio-template", fio.template_name, "With --fio: the job.fio component the jobs replace");
  bool expand = false;
  check->add_flag("--expand", expand,
                  "Print the scenario as it runs (groups expanded into components, --set applied) instead of the "
                  "estimate");

  auto* graph = app.add_subcommand("graph", "Write the wiring graph as Graphviz DOT");
  graph->add_option("scenario", scenario, "Scenario file (JSON)")->required();
  graph->add_option("-o,--output", dot_out, "DOT file to write (- for stdout)")->required();
  graph->add_option("--set", sets, "Override a scenario value: json.path=value (repeatable)");

  auto* schema = app.add_subcommand("schema", "Print the JSON Schema of scenarios (scenarios/schema.json)");
  schema->add_option("-o,--output", schema_out, "File to write (- for stdout)")->capture_default_str();

  auto* models = app.add_subcommand("models", "List the models and their parameters");

  bool stats_json = false;
  auto* stats     = app.add_subcommand("stats", "Run a scenario (writing nothing) and list every statistic its models "
                                                    "report: results.json pointer, kind, unit, value, meaning");
  stats->add_option("scenario", scenario, "Scenario file (JSON)")->required();
  stats->add_option("--set", sets, "Override a scenario value: json.path=value (repeatable)");
  stats->add_flag("--json", stats_json, "Print the list as JSON");

  auto* explain = app.add_subcommand("explain", "Follow one request through the scenario's stack and tell its path "
                                                "and where its time went, in sentences with the simulated numbers");
  explain->add_option("scenario", scenario, "Scenario file (JSON)")->required();
  explain->add_option("--set", sets, "Override a scenario value: json.path=value (repeatable)");
  ExplainOptions explain_opts;
  explain
      ->add_option("--request", explain_opts.request,
                   "The request's id (default: the first submitted after the warm-up)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  explain->add_flag("--summary", explain_opts.summary,
                    "Instead of one request: where the time of every request after the warm-up went, on average");
  explain->add_flag("--json", explain_opts.json, "Print the result as JSON");

  auto* xenstore = app.add_subcommand(
      "xenstore", "Print the XenStore tree the scenario's Xen devices negotiate (as xenstore-ls -f) and the state "
                  "transitions with their simulated times");
  xenstore->add_option("scenario", scenario, "Scenario file (JSON)")->required();
  xenstore->add_option("--set", sets, "Override a scenario value: json.path=value (repeatable)");

  std::string dump;
  std::optional<unsigned> domid;
  auto* from_xs = app.add_subcommand("from-xenstore", "Read a real `xenstore-ls -f` dump and print the scenario "
                                                      "fragment it implies (queues, ring order, grants, channels)");
  from_xs->add_option("dump", dump, "Output of xenstore-ls -f (text)")->required();
  from_xs->add_option("--domid", domid, "Only the devices of this frontend domain");

  std::vector<std::string> cal_traces;
  std::string cal_out;
  auto* calibrate = app.add_subcommand("calibrate", "Fit the virtio-blk stack's parameters (guest CPU costs, the "
                                                    "virtqueue thread's cost, latency, preemption) from fio json+ "
                                                    "results, for the VMM the traces came from");
  calibrate->add_option("--trace", cal_traces, "fio json+ result (repeatable)")->required();
  calibrate->add_option("-o,--output", cal_out, "device.json to write (- for stdout)")->required();
  int cal_bootstrap = 0;
  calibrate->add_option(
      "--bootstrap", cal_bootstrap,
      "Also store B bootstrap recalibrations (configurations resampled with replacement, fixed seeds) "
      "as the \"uncertainty\" block: each resample's fitted parameters (B >= 2; default: none)");
  std::string cal_stack = "auto";
  calibrate
      ->add_option("--stack", cal_stack,
                   "Stack to fit: auto (the VMM the guest description beside the traces shows: pvsim detect), qemu "
                   "or firecracker")
      ->check(CLI::IsMember({"auto", "qemu", "firecracker"}))
      ->capture_default_str();
  std::string cal_fio_loop = "batched";
  calibrate
      ->add_option("--fio-loop", cal_fio_loop,
                   "job.fio's loop the stack simulates the runs with, the refinement's runs included: batched (each "
                   "completion reaped as it arrives, its replacement submitted at once) or fio (fio's own loop, one "
                   "call at a time); README \"fio's loop\"")
      ->check(CLI::IsMember({"batched", "fio"}))
      ->capture_default_str();
  bool cal_quiet = false;
  calibrate->add_flag("-q,--quiet", cal_quiet, "Print nothing but errors (no bootstrap progress)");

  validation::Options val;
  auto* validate = app.add_subcommand(
      "validate", "Simulate each fio run and compare IOPS and clat with the measurements, the repeat noise and the "
                  "baselines: with a calibrated device file (in-sample if it was fitted on these runs), or leaving "
                  "runs out of the calibration (--hold-out, --kfold, --leave-out config)");
  validate->add_option("--device", val.device_file,
                       "device.json written by pvsim calibrate: every run simulated with it (in-sample when these "
                       "runs calibrated it). Required unless --bundle or a leave-out option is given; refused with a "
                       "leave-out (a leave-out calibrates itself)");
  validate->add_option("--trace", val.traces, "fio json+ result to reproduce (repeatable; not with --bundle)");
  validate->add_option("--bundle", val.bundle_dir,
                       "Capture bundle (analysis/capture/capture.sh): its fio runs are the traces, its vCPUs, "
                       "queues and tags the guest");
  validate->add_option("--json", val.json_out, "Write the comparison as JSON");
  validate->add_option("-o,--output", val.report_dir, "Report directory: report.md, validation.json, plots");
  validate->add_option("--max-iops-error", val.max_iops_error_pct, "Exit 1 if the median |IOPS error| % exceeds it");
  validate->add_option("--max-mean-error", val.max_mean_error_pct,
                       "Exit 1 if the median |clat mean error| % exceeds it");
  validate->add_option(
      "--duration", val.duration_s,
      "Simulated seconds per run, warm-up included (default: after the warm-up, 5 times as long as fio "
      "measured the run, at most 2 million requests at its rate, never shorter than the run; 1 s "
      "for iperf3 runs)");
  validate->add_option("--warmup", val.warmup_s, "Simulated warm-up seconds per run")->capture_default_str();
  validate->add_option("--seed", val.seed, "Seed of every run")->capture_default_str();
  validate->add_option("-j,--parallel", val.parallel, "Simulations run at once")->capture_default_str();
  validate->add_option("--report-script", val.report_script,
                       "Plotting script (default: analysis/validation_report.py)");
  validate->add_option("--hold-out", val.hold_out,
                       "Leave-out: predict the runs matching EXPR from a calibration on the others; EXPR is key=value, "
                       "key!=value, key>value or key<value over rw, engine, iodepth, numjobs, files, bs, direction, "
                       "tag (the file name's part after the configuration: rep1, quiet...); repeatable, OR-ed");
  validate->add_option("--kfold", val.kfold,
                       "Leave-out: deal the configurations (sorted; repeats together) to K folds round-robin, and "
                       "predict each fold from a calibration on the others");
  validate->add_option("--leave-out", val.leave_out,
                       "Leave-out: 'config' predicts each configuration (all its repeats) from a calibration on all "
                       "the others");
  validate->add_option("--interval", val.interval,
                       "With a leave-out: B bootstrap recalibrations per fold (configurations resampled, fixed seeds), "
                       "each held-out run simulated under each: its 10th-90th percentile interval of IOPS and clat "
                       "mean, and their coverage (B >= 2; B + 1 simulations per run, the B for as long as the run was "
                       "measured; default: none)");
  validate
      ->add_option("--fio-loop", val.fio_loop,
                   "job.fio's loop of the calibrations validate makes (a leave-out's folds, a bundle without "
                   "--device): batched or fio (pvsim calibrate --fio-loop); a device file has its own")
      ->check(CLI::IsMember({"batched", "fio"}))
      ->capture_default_str();
  validate->add_flag("-q,--quiet", val.quiet, "Print nothing but errors (no progress)");

  regress::Options reg;
  reg.parallel  = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto* regress = app.add_subcommand("regress", "Run a suite of scenarios over several seeds and compare every metric "
                                                "with the stored baseline; exit 1 if one regressed beyond the noise");
  regress->add_option("--suite", reg.suite_dir, "Folder of scenarios")->capture_default_str();
  regress->add_option("--baseline", reg.baseline, "Baseline file (default: <suite>/baseline.json)");
  regress->add_flag("--update", reg.update, "Run the suite and write the baseline");
  regress->add_option("--repeats", reg.repeats, "Seeds per scenario")->capture_default_str();
  regress->add_option("--first-seed", reg.first_seed, "Seeds first-seed .. first-seed + repeats - 1")
      ->capture_default_str();
  regress->add_option("--alpha", reg.test.alpha, "Significance level of the Mann-Whitney test")->capture_default_str();
  regress->add_option("--min-change", reg.test.min_change, "Smallest relative change of the medians flagged")
      ->capture_default_str();
  regress->add_option("-j,--parallel", reg.parallel, "pvsim processes at once")->capture_default_str();
  regress->add_option("--json", reg.json_out, "Write the comparison of every metric as JSON");
  regress->add_flag("--all", reg.all, "Print unchanged metrics too");
  regress->add_flag("-q,--quiet", reg.quiet, "Print nothing but errors");

  std::string detect_path;
  bool detect_json = false;
  auto* detect     = app.add_subcommand("detect", "Tell which VMM (and transport) a trace, trace directory or bundle "
                                                      "was measured under, with the evidence");
  detect->add_option("path", detect_path, "fio json+ trace, trace directory or capture bundle")->required();
  detect->add_flag("--json", detect_json, "Print the guess as JSON");

  prediction::Options pred;
  auto* predict = app.add_subcommand("predict", "Predict a fio configuration no trace measured with a calibrated "
                                                "device file, with an interval from its bootstrap parameter sets");
  predict
      ->add_option("--device", pred.device_file,
                   "device.json written by pvsim calibrate (--bootstrap B for "
                   "an interval)")
      ->required();
  predict->add_option("--rw", pred.rw, "fio rw")
      ->check(CLI::IsMember({"read", "write", "randread", "randwrite"}))
      ->capture_default_str();
  predict->add_option("--ioengine", pred.engine, "fio ioengine (libaio, io_uring, psync...)")->capture_default_str();
  predict->add_option("--iodepth", pred.iodepth, "fio iodepth")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  predict->add_option("--numjobs", pred.numjobs, "fio numjobs")->check(CLI::Range(1, 4096))->capture_default_str();
  predict->add_option("--bs", pred.bs, "Block size in bytes")->check(CLI::Range(512, 1 << 26))->capture_default_str();
  predict->add_option("--duration", pred.duration_s,
                      "Simulated seconds per run after the warm-up (default: as validate simulates a 10 s fio run, at "
                      "the rate the device's bound formula gives: five times as long, at most 2 million requests, at "
                      "least 1 s; each bootstrap set a fifth of that, at least 1 s)");
  predict->add_option("--background-cpus", pred.background_cpus,
                      "CPUs the guest's other processes use meanwhile (guest.vm background_cpus; default: the mean "
                      "of the calibration runs when they recorded it, else a quiet guest)");
  predict->add_option("--seed", pred.seed, "Seed of the fitted parameters' run (set b runs seed + b)")
      ->capture_default_str();
  predict->add_option("--sets", pred.max_sets, "Parameter sets to simulate at most (0: all)")->capture_default_str();
  predict->add_option("-j,--parallel", pred.parallel, "pvsim processes at once")->capture_default_str();
  predict->add_option("--json", pred.json_out, "Write the prediction as JSON");
  predict->add_option("--scenario", pred.scenario_out,
                      "Also write the scenario simulated with the fitted parameters (pvsim run takes it)");
  predict->add_flag("-q,--quiet", pred.quiet, "Print nothing but errors");

  SweepOptions sweep_opts;
  auto* sweep = app.add_subcommand("sweep", "Run a scenario at every point of a sweep file (parameters x seeds) on "
                                            "this machine, with GNU parallel or as a Slurm job array; resume an "
                                            "interrupted sweep; gather one CSV and a plot");
  sweep->add_option("sweepfile", sweep_opts.file, "Sweep file (JSON; README \"Sweeps on your cluster\")")->required();
  sweep->add_option("-o,--output", sweep_opts.output, "Result folder (default: out/<sweep file name>)");
  sweep->add_option("--backend", sweep_opts.backend, "Overrides the sweep file's backend")
      ->check(CLI::IsMember({"local", "parallel", "slurm"}));
  sweep->add_option("-j,--jobs", sweep_opts.jobs, "Points at once (local, parallel)")->check(CLI::Range(1, 1 << 20));
  sweep->add_option("--chunk", sweep_opts.chunk, "Points per Slurm array task")->check(CLI::Range(1, 1 << 20));
  sweep->add_option("--sshloginfile", sweep_opts.sshloginfile,
                    "parallel: run the points on the machines this file lists (GNU parallel's --sshloginfile)");

  std::string inter_scenario, inter_out, inter_metric = "p99";
  std::vector<std::string> inter_sets;
  std::optional<int> inter_jobs;
  bool inter_no_plot = false;
  auto* interference = app.add_subcommand(
      "interference", "The interference matrix of a host's guests: how much each guest's load moves each other's "
                      "p99, from one run with every guest and one with each guest's workloads silenced; per-guest "
                      "report, heat map and p99 bars (README \"A whole host\")");
  interference->add_option("scenario", inter_scenario, "Scenario JSON file with two guests or more")->required();
  interference->add_option("--set", inter_sets, "Override a parameter in every run: dotted.path=value (repeatable)");
  interference->add_option("-o,--output", inter_out, "Result folder (default: out/interference-<scenario name>)");
  interference->add_option("-j,--jobs", inter_jobs, "Runs at once (default: this machine's CPUs)")
      ->check(CLI::Range(1, 1 << 20));
  interference->add_option("--metric", inter_metric, "Latency statistic the matrix compares")
      ->check(CLI::IsMember({"mean", "p50", "p90", "p99", "p99.9"}))
      ->capture_default_str();
  interference->add_flag("--no-plot", inter_no_plot, "Write no PNG");
  std::optional<int> inter_repeats;
  interference->add_option("--repeats", inter_repeats,
                           "Seeds per run (default 3): a cell is their mean, its spread their standard deviation")
      ->check(CLI::Range(1, 1000));
  std::string inter_of;
  interference->add_option("--of", inter_of,
                           "Whose latency: block (the guests' I/Os; the default when there are some), net (their "
                           "packets) or all")
      ->check(CLI::IsMember({"block", "net", "all"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    if (*run)
      return cmd_run(scenario, outdir, seed, sets, quiet, partial, max_memory, trace_request, fio);
    if (*check)
      return cmd_check(scenario, sets, max_memory, expand, fio);
    if (*graph)
      return cmd_graph(scenario, dot_out, sets);
    if (*stats)
      return cmd_stats(scenario, sets, stats_json);
    if (*explain) {
      Simulation sim(load(scenario, sets));
      std::cout << explain_request(sim, explain_opts);
      return 0;
    }
    if (*schema) {
      std::string text = scenario_schema().dump(2) + "\n";
      if (schema_out == "-")
        std::cout << text;
      else
        write_file_atomically(schema_out, text);
      return 0;
    }
    if (*xenstore) {
      Simulation sim(load(scenario, sets));
      std::cout << xenstore_report(sim);
      return 0;
    }
    if (*from_xs) {
      std::cout << from_xenstore(dump, domid).dump(2) << "\n";
      return 0;
    }
    if (*calibrate) {
      json device = calibration::calibrate(cal_traces, cal_stack, cal_fio_loop);
      if (cal_bootstrap != 0)
        device["uncertainty"] = calibration::bootstrap_uncertainty(cal_traces, cal_bootstrap, device,
                                                                   not cal_quiet and ::isatty(STDERR_FILENO));
      std::string text = device.dump(2) + "\n";
      if (cal_out == "-")
        std::cout << text;
      else
        write_file_atomically(cal_out, text);
      if (not cal_quiet) // on stderr when device.json itself goes to stdout
        (cal_out == "-" ? std::cerr : std::cout)
            << calibration::summary_text(device, cal_out == "-" ? "device.json to stdout" : cal_out);
      return 0;
    }
    if (*validate)
      return validation::validate_command(val);
    if (*regress)
      return regress::regress_command(reg);
    if (*models) {
      std::cout << models_documentation() << policies_documentation();
      return 0;
    }
    if (*detect)
      return calibration::detect_command(detect_path, detect_json);
    if (*predict)
      return prediction::predict_command(pred);
    if (*sweep)
      return sweep_command(sweep_opts);
    if (*interference) {
      std::vector<std::string> args{inter_scenario, "--metric", inter_metric};
      for (const auto& set : inter_sets)
        args.insert(args.end(), {"--set", set});
      if (not inter_out.empty())
        args.insert(args.end(), {"-o", inter_out});
      if (inter_jobs)
        args.insert(args.end(), {"-j", std::to_string(*inter_jobs)});
      if (inter_no_plot)
        args.push_back("--no-plot");
      if (inter_repeats)
        args.insert(args.end(), {"--repeats", std::to_string(*inter_repeats)});
      if (not inter_of.empty())
        args.insert(args.end(), {"--of", inter_of});
      return exec_python_driver("analysis/interference.py", args);
    }
  } catch (const InputError& e) {
    std::cerr << "pvsim: error: " << e.what() << "\n";
    return 2;
  } catch (const OutputError& e) {
    std::cerr << "pvsim: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pvsim: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
