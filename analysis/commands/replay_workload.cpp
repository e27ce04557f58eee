#include "analysis/commands/replay_workload.hpp"

#include "analysis/readers/block_trace.hpp"
#include "models/workload/replay_trace.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

namespace pvsim {

namespace fs = std::filesystem;

namespace {

/** A string parameter of the component as written, or `def` (a bad value is left to the model's ParamTable). */
std::string text_param(const json& component, const std::string& key, const std::string& def)
{
  auto it = component.find(key);
  return it != component.end() and it->is_string() ? it->get<std::string>() : def;
}

bool ends_with(const std::string& s, const std::string& tail)
{
  return s.size() >= tail.size() and s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/** blktrace -o NAME writes NAME.blktrace.<cpu>: a file named so brings its siblings (sorted by CPU); another name is
 * read alone. */
std::vector<std::string> blktrace_files(const fs::path& path)
{
  static const std::regex per_cpu(R"((.*)\.blktrace\.([0-9]+))");
  std::smatch m;
  std::string name = path.filename().string();
  if (not std::regex_match(name, m, per_cpu))
    return {path.string()};
  std::vector<std::pair<long, std::string>> found;
  std::error_code ec;
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch n;
    std::string other = e.path().filename().string();
    if (std::regex_match(other, n, per_cpu) and n[1] == m[1].str())
      found.emplace_back(std::stol(n[2]), (path.parent_path() / other).string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [cpu, f] : found)
    out.push_back(f);
  return out;
}

ReplayTrace convert(const readers::BlockTrace& bt, const std::string& format, bool on_d)
{
  using readers::BlockStage;
  ReplayTrace t;
  t.file        = bt.file;
  t.format      = format;
  const auto& c = bt.counts;
  auto count    = [&t](std::map<std::string, std::uint64_t>& m, const std::string& why, std::uint64_t n) {
    if (n > 0)
      m[why] += n;
  };
  count(t.skipped, "merged_bio", c.merged_bios);
  count(t.skipped, "flush_or_unsectored_event", c.unsectored_events);
  count(t.skipped, "completion_without_request", c.unmatched_completions);
  BlockStage stage = on_d ? BlockStage::issue : BlockStage::queue;
  for (const auto& r : bt.requests) {
    if (not r.has(stage)) {
      count(t.skipped, on_d ? "no_D_event" : "no_Q_event", 1);
      continue;
    }
    bool write = r.rwbs.find('W') != std::string::npos;
    bool read  = r.rwbs.find('R') != std::string::npos;
    if (r.rwbs.find('D') != std::string::npos) {
      count(t.skipped, "discard", 1);
      continue;
    }
    if (not write and not read) {
      count(t.skipped, "other_operation", 1);
      continue;
    }
    if (r.nr_sectors == 0) {
      count(t.skipped, "zero_size", 1);
      continue;
    }
    if (r.requeues > 0)
      count(t.notes, "requeued", 1);
    if (not r.has(BlockStage::complete))
      count(t.notes, "no_completion_in_trace", 1);
    ReplayIo io;
    io.t_ns   = r.at(stage);
    io.cpu    = std::max(on_d ? r.d_cpu : r.q_cpu, 0);
    io.sector = r.sector;
    io.bytes  = r.nr_sectors * 512u;
    io.write  = write;
    t.cpus    = std::max(t.cpus, io.cpu + 1);
    t.ios.push_back(io);
  }
  std::stable_sort(t.ios.begin(), t.ios.end(), [](const ReplayIo& a, const ReplayIo& b) { return a.t_ns < b.t_ns; });
  if (not t.ios.empty()) {
    std::int64_t first = t.ios.front().t_ns;
    for (auto& io : t.ios)
      io.t_ns -= first;
  }
  auto qc = readers::summarize_stage(bt.requests, BlockStage::queue, BlockStage::complete, {}, {50, 99});
  t.recorded_q_to_c.count   = qc.count;
  t.recorded_q_to_c.mean_us = qc.mean_ns * 1e-3;
  t.recorded_q_to_c.p50_us  = qc.count ? qc.percentiles_ns.at(50) * 1e-3 : 0.0;
  t.recorded_q_to_c.p99_us  = qc.count ? qc.percentiles_ns.at(99) * 1e-3 : 0.0;
  return t;
}

} // namespace

void load_replay_traces(const Scenario& scenario)
{
  ReplayTraces::clear();
  for (const auto& decl : scenario.components) {
    if (decl.type != "source.replay")
      continue;
    JsonNode node      = scenario.component_node(decl.name);
    const json& comp   = node.value();
    std::string trace  = text_param(comp, "trace", "");
    std::string format = text_param(comp, "format", "auto");
    std::string on     = text_param(comp, "submit_on", "Q");
    if (trace.empty())
      continue; // the model says what is missing
    fs::path path = trace;
    if (path.is_relative()) // relative to the scenario file, as the scenario's other files
      path = fs::path(scenario.file).parent_path() / path;
    std::string where = node.pointer() + "/trace";
    std::error_code ec;
    if (not fs::is_regular_file(path, ec) or not std::ifstream(path).good())
      throw InputError(scenario.file, where, "cannot read the trace file '" + path.string() + "'");
    if (format == "auto")
      format = readers::is_blktrace_binary(path.string())                                ? "blktrace"
               : ends_with(path.string(), ".csv") or ends_with(path.string(), ".csv.gz") ? "csv"
                                                                                         : "blkparse";
    readers::BlockTrace bt = format == "csv"        ? readers::read_block_events_csv(path.string())
                             : format == "blktrace" ? readers::read_blktrace_binary(blktrace_files(path))
                                                    : readers::read_blkparse(path.string());
    if (bt.counts.events == 0)
      throw InputError(path.string(), format == "blktrace" ? "" : "line 1",
                       format == "csv" ? std::string("no request rows")
                       : format == "blktrace"
                           ? std::string("no block I/O event in the blktrace files")
                           : std::string("no block I/O event: expected blkparse's default text output "
                                         "('maj,min cpu seq seconds pid action rwbs sector + count "
                                         "[comm]'), the per-request CSV or blktrace's binary files"));
    ReplayTrace t = convert(bt, format, on == "D");
    if (t.ios.empty())
      throw InputError(path.string(), "", "no I/O to replay: every request was skipped (submit_on " + on + ")");
    ReplayTraces::provide(decl.name, std::move(t));
  }
}

} // namespace pvsim
