#include "sim/results.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace fs = std::filesystem;

namespace pvsim {

namespace {
std::string fmt(double v, int decimals)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

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

std::string summary_table(const json& results)
{
  std::ostringstream out;
  std::size_t w = 12;
  for (auto& [n, j] : results["jobs"].items())
    w = std::max(w, n.size() + 2);
  for (auto& [n, q] : results["queues"].items())
    w = std::max(w, n.size() + 2);
  auto header = [&](const std::string& first, const std::string& extra) {
    out << pad(first, w, true) << pad("IOPS", 12) << pad("MB/s", 10) << pad("mean us", 11) << pad("p50 us", 11)
        << pad("p99 us", 11) << pad("p99.9 us", 11) << extra << "\n";
  };
  auto row = [&](const std::string& n, const json& s, const json& lat) {
    out << pad(n, w, true) << pad(fmt(s["iops"].get<double>(), 0), 12) << pad(fmt(s["MBps"].get<double>(), 1), 10)
        << pad(fmt(lat["mean"].get<double>(), 1), 11) << pad(fmt(lat["p50"].get<double>(), 1), 11)
        << pad(fmt(lat["p99"].get<double>(), 1), 11) << pad(fmt(lat["p99.9"].get<double>(), 1), 11);
  };
  out << "scenario " << results["scenario"]["name"].get<std::string>() << ", seed " << results["seed"].dump() << ", "
      << fmt(results["window_s"].get<double>(), 3) << " s measured after " << results["scenario"]["warmup_s"].dump()
      << " s warm-up\n\n";
  header("job", "");
  for (auto& [n, j] : results["jobs"].items()) {
    row(n, j, j["latency_us"]);
    out << "\n";
  }
  out << "\n";
  header("queue", pad("queue len", 11) + pad("util", 7));
  for (auto& [n, q] : results["queues"].items()) {
    row(n, q, q["response_us"]);
    out << pad(fmt(q["mean_queue_length"].get<double>(), 2), 11) << pad(fmt(q["utilization"].get<double>(), 3), 7)
        << "\n";
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

void write_outputs(const std::string& outdir, const json& results)
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
