#include "sim/results.hpp"
#include "sim/units.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace fs = std::filesystem;

namespace pvsim {

namespace {

std::string pad(const std::string& s, std::size_t w, bool left = false)
{
  if (s.size() >= w)
    return s;
  return left ? s + std::string(w - s.size(), ' ') : std::string(w - s.size(), ' ') + s;
}

std::string num(const json& v)
{
  return v.is_null() ? std::string() : v.dump();
}
} // namespace

namespace {
/** A spinlock's statistics (sim/spin_lock.cpp track_stats). */
bool is_lock(const json& j)
{
  return j.is_object() and j.contains("acquisitions") and j.contains("contended") and j.contains("wait_s") and
         j.contains("hold_s");
}

void gather(const json& j, const std::string& where, json& locks, std::uint64_t& transfers)
{
  if (not j.is_object())
    return;
  if (is_lock(j)) {
    auto acq = j["acquisitions"].get<std::uint64_t>();
    locks.push_back({{"lock", where},
                     {"kind", j.value("kind", std::string())},
                     {"acquisitions", acq},
                     {"contended", j["contended"]},
                     {"wait_s", j["wait_s"]},
                     {"hold_s", j["hold_s"]},
                     {"wait_per_acquisition_us", acq > 0 ? j["wait_s"].get<double>() / acq * 1e6 : 0.0}});
  }
  for (auto& [k, v] : j.items()) {
    if (k.size() >= 14 and k.compare(k.size() - 14, 14, "line_transfers") == 0 and v.is_number_unsigned())
      transfers += v.get<std::uint64_t>();
    else if (v.is_object())
      gather(v, where + "/" + k, locks, transfers);
    else if (v.is_array())
      for (std::size_t i = 0; i < v.size(); ++i)
        gather(v[i], where + "/" + k + "/" + std::to_string(i), locks, transfers);
  }
}
} // namespace

json contention_of(const json& components)
{
  json locks = json::array();
  json lines = json::object();
  for (auto& [name, c] : components.items()) {
    std::uint64_t transfers = 0;
    gather(c, name, locks, transfers);
    if (transfers > 0)
      lines[name] = transfers;
  }
  if (locks.empty() and lines.empty())
    return json::object();
  json pools = json::object();
  for (auto& [name, c] : components.items())
    if (c.is_object() and c.contains("context_switches"))
      pools[name] = {{"context_switches", c["context_switches"]}, {"preemptions", c.value("preemptions", json(0))}};
  return {{"locks", locks}, {"line_transfers", lines}, {"cpu", pools}};
}

std::string summary_table(const json& results)
{
  std::ostringstream out;
  std::size_t w = 12;
  for (auto& [n, j] : results["jobs"].items())
    w = std::max(w, n.size() + 2);
  if (results.contains("guests"))
    for (auto& [n, g] : results["guests"]["per_guest"].items())
      w = std::max(w, n.size() + 6);
  for (auto& [n, q] : results["queues"].items())
    w = std::max(w, n.size() + 2);
  if (results.contains("contention") and results["contention"].contains("locks"))
    for (const json& l : results["contention"]["locks"])
      w = std::max(w, l["lock"].get<std::string>().size() + 2);
  auto header = [&](const std::string& first, const std::string& extra) {
    out << pad(first, w, true) << pad("IOPS", 12) << pad("MB/s", 10) << pad("mean us", 11) << pad("p50 us", 11)
        << pad("p99 us", 11) << pad("p99.9 us", 11) << extra << "\n";
  };
  auto row = [&](const std::string& n, const json& s, const json& lat) {
    out << pad(n, w, true) << pad(format_fixed(s["iops"].get<double>(), 0), 12)
        << pad(format_fixed(s["MBps"].get<double>(), 1), 10) << pad(format_fixed(lat["mean"].get<double>(), 1), 11)
        << pad(format_fixed(lat["p50"].get<double>(), 1), 11) << pad(format_fixed(lat["p99"].get<double>(), 1), 11)
        << pad(format_fixed(lat["p99.9"].get<double>(), 1), 11);
  };
  out << "scenario " << results["scenario"]["name"].get<std::string>() << ", seed " << results["seed"].dump() << ", "
      << format_fixed(results["window_s"].get<double>(), 3) << " s measured after "
      << results["scenario"]["warmup_s"].dump() << " s warm-up\n\n";
  header("job", "");
  for (auto& [n, j] : results["jobs"].items()) {
    row(n, j, j["latency_us"]);
    out << "\n";
  }
  out << "\n";
  if (results.contains("guests") and results["guests"]["per_guest"].size() > 1) {
    header("guest", "");
    for (auto& [n, g] : results["guests"]["per_guest"].items()) {
      if (g.contains("block") and g.contains("net")) { // an I/O's latency and a packet's apart
        row(n + " blk", g["block"], g["block"]["latency_us"]);
        out << "\n";
        row(n + " net", g["net"], g["net"]["latency_us"]);
      } else {
        row(n, g, g["latency_us"]);
      }
      out << "\n";
    }
    out << "fairness across guests (Jain's index of their IOPS): "
        << format_fixed(results["guests"]["fairness_jain_iops"].get<double>(), 3) << "\n\n";
  }
  if (results.contains("host_cpu")) {
    const json& h = results["host_cpu"];
    auto pc       = [](const json& v) { return format_fixed(v.get<double>() * 100, 1) + " %"; };
    out << "host CPU (" << h["cores"].dump() << " cores): guest vCPUs " << pc(h["guest_vcpus"]) << ", backends "
        << pc(h["backends"]) << ", spinning/polling " << pc(h["spinning"]) << ", switching " << pc(h["switching"])
        << ", idle " << pc(h["idle"]) << "\n\n";
  }
  header("queue", pad("queue len", 11) + pad("util", 7));
  for (auto& [n, q] : results["queues"].items()) {
    row(n, q, q["response_us"]);
    out << pad(format_fixed(q["mean_queue_length"].get<double>(), 2), 11)
        << pad(format_fixed(q["utilization"].get<double>(), 3), 7) << "\n";
  }
  if (results.contains("contention") and not results["contention"].empty()) {
    const json& c = results["contention"];
    out << "\n"
        << pad("lock", w, true) << pad("kind", 11) << pad("taken", 10) << pad("contended", 11) << pad("spin us/acq", 13)
        << pad("held %", 9) << "\n";
    double window = results["window_s"].get<double>();
    for (const json& l : c["locks"]) {
      auto acq = l["acquisitions"].get<std::uint64_t>();
      double contended =
          acq > 0 ? static_cast<double>(l["contended"].get<std::uint64_t>()) / static_cast<double>(acq) : 0;
      out << pad(l["lock"].get<std::string>(), w, true) << pad(l["kind"].get<std::string>(), 11)
          << pad(std::to_string(acq), 10) << pad(format_fixed(100 * contended, 1) + " %", 11)
          << pad(format_fixed(l["wait_per_acquisition_us"].get<double>(), 3), 13)
          << pad(format_fixed(window > 0 ? 100 * l["hold_s"].get<double>() / window : 0, 1), 9) << "\n";
    }
    out << "cache-line transfers:";
    for (auto& [n, t] : c["line_transfers"].items())
      out << " " << n << " " << t.dump();
    out << "\ncontext switches:";
    for (auto& [n, p] : c["cpu"].items())
      out << " " << n << " " << p["context_switches"].dump() << " (preemptions " << p["preemptions"].dump() << ")";
    out << "\n";
  }
  // Lines a model asks to show (its statistic "summary_lines": a qemu.migration's downtimes).
  bool first_line = true;
  if (results.contains("components"))
    for (auto& [n, c] : results["components"].items())
      if (c.is_object() and c.contains("summary_lines"))
        for (const json& l : c["summary_lines"]) {
          out << (first_line ? "\n" : "") << n << ": " << l.get<std::string>() << "\n";
          first_line = false;
        }
  out << "\nconservation (issued = completed + in flight): "
      << (results["conservation"]["ok"].get<bool>() ? "ok" : "VIOLATED") << "\n";
  return out.str();
}

std::string jobs_csv(const json& results)
{
  std::ostringstream out;
  out << "job,requests,iops,MBps,lat_mean_us,lat_p50_us,lat_p90_us,lat_p99_us,lat_p999_us,lat_max_us\n";
  for (auto& [n, j] : results["jobs"].items()) {
    const json& l = j["latency_us"];
    out << n << "," << num(j["requests"]) << "," << num(j["iops"]) << "," << num(j["MBps"]) << "," << num(l["mean"])
        << "," << num(l["p50"]) << "," << num(l["p90"]) << "," << num(l["p99"]) << "," << num(l["p99.9"]) << ","
        << num(l["max"]) << "\n";
  }
  return out.str();
}

std::string queues_csv(const json& results)
{
  std::ostringstream out;
  out << "queue,servers,requests,iops,MBps,resp_mean_us,resp_p50_us,resp_p99_us,resp_p999_us,mean_wait_us,"
         "mean_in_system,mean_queue_length,utilization\n";
  for (auto& [n, q] : results["queues"].items()) {
    const json& l = q["response_us"];
    out << n << "," << num(q["servers"]) << "," << num(q["requests"]) << "," << num(q["iops"]) << "," << num(q["MBps"])
        << "," << num(l["mean"]) << "," << num(l["p50"]) << "," << num(l["p99"]) << "," << num(l["p99.9"]) << ","
        << num(q["mean_wait_us"]) << "," << num(q["mean_in_system"]) << "," << num(q["mean_queue_length"]) << ","
        << num(q["utilization"]) << "\n";
  }
  return out.str();
}

namespace {
/** Writes `content` to `p`; errors name `shown` (the file the user asked for, not its staging copy). */
void write_plain(const fs::path& p, const std::string& content, const fs::path& shown)
{
  errno = 0;
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  if (not f)
    throw OutputError("cannot create " + shown.string() + ": " + std::strerror(errno ? errno : EIO));
  f << content;
  f.close();
  if (not f)
    throw OutputError("cannot write " + shown.string() + ": " + std::strerror(errno ? errno : EIO));
}
} // namespace

void write_file_atomically(const std::string& path, const std::string& content)
{
  fs::path target(path);
  fs::path tmp = target;
  tmp += ".tmp." + std::to_string(::getpid());
  try {
    if (target.has_parent_path())
      fs::create_directories(target.parent_path());
    write_plain(tmp, content, target);
    fs::rename(tmp, target);
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw OutputError("cannot write " + path + ": " + e.code().message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_outputs(const std::string& outdir, const json& results,
                   const std::map<std::string, std::string>& extra_files)
{
  fs::path dir(outdir);
  fs::path parent  = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  fs::path staging = parent / (".pvsim-staging-" + dir.filename().string() + "-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(staging, ec);
  try {
    fs::create_directories(staging);
    write_plain(staging / "results.json", results.dump(2) + "\n", dir / "results.json");
    write_plain(staging / "jobs.csv", jobs_csv(results), dir / "jobs.csv");
    write_plain(staging / "queues.csv", queues_csv(results), dir / "queues.csv");
    for (const auto& [name, content] : extra_files)
      write_plain(staging / name, content, dir / name);
    if (not fs::exists(dir)) {
      fs::rename(staging, dir); // the whole folder appears at once
      return;
    }
    for (const auto& entry : fs::directory_iterator(staging))
      fs::rename(entry.path(), dir / entry.path().filename());
    fs::remove(staging);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging, ec);
    throw OutputError("cannot write the results into " + outdir + ": " + e.code().message());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

} // namespace pvsim
