/* `pvsim run --trace`: a Chrome/Perfetto trace (Trace Event Format) that follows the format's rules, checked by a
 * validator of those rules: named processes and tracks, complete slices (ph X with dur), slices on one track
 * nested or apart, balanced B/E, flows paired by id and category and bound to an enclosing slice on their track,
 * counters with numbers, times in microseconds. */
#include "tests/support/cli_support.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <tuple>

using namespace pvsim::test;
using json = nlohmann::json;

namespace {
/** Every rule broken, one line each (empty: the trace is valid). */
std::vector<std::string> trace_violations(const json& doc)
{
  std::vector<std::string> bad;
  if (not doc.contains("traceEvents") or not doc["traceEvents"].is_array())
    return {"no traceEvents array"};
  using Track = std::pair<long long, long long>;
  auto ns     = [](const json& v) { return std::llround(v.get<double>() * 1e3); }; // viewers read whole ns
  std::set<long long> named_pids;
  std::set<Track> named_tracks;
  std::map<Track, std::vector<std::pair<long long, long long>>> slices;
  std::map<Track, int> be_depth;
  std::map<std::string, std::vector<json>> flows;
  std::set<std::tuple<long long, long long, long long, std::string>> slice_starts; // pid, tid, start, category
  std::vector<Track> instants; // thread-scoped instants: their tracks must be named
  for (const json& e : doc["traceEvents"]) {
    std::string ph = e.value("ph", "");
    if (ph.empty() or not e.contains("pid") or not e.contains("tid")) {
      bad.push_back("event without ph, pid or tid: " + e.dump());
      continue;
    }
    Track track{e["pid"].get<long long>(), e["tid"].get<long long>()};
    if (ph == "M") {
      if (e["name"] == "process_name")
        named_pids.insert(track.first);
      if (e["name"] == "thread_name")
        named_tracks.insert(track);
      continue;
    }
    if (not e.contains("ts") or not e["ts"].is_number() or e["ts"].get<double>() < 0) {
      bad.push_back("event without a time in us: " + e.dump());
      continue;
    }
    long long ts = ns(e["ts"]);
    if (ph == "X") {
      if (not e.contains("dur") or not e["dur"].is_number() or e["dur"].get<double>() < 0)
        bad.push_back("X without a duration: " + e.dump());
      else {
        slices[track].emplace_back(ts, ts + ns(e["dur"]));
        slice_starts.emplace(track.first, track.second, ts, e.value("cat", ""));
      }
    } else if (ph == "B") {
      ++be_depth[track];
    } else if (ph == "E") {
      if (--be_depth[track] < 0)
        bad.push_back("E without its B: " + e.dump());
    } else if (ph == "s" or ph == "t" or ph == "f") {
      flows[e["cat"].get<std::string>() + "/" + e["id"].dump()].push_back(e);
    } else if (ph == "i") {
      std::string scope = e.value("s", "");
      if (scope != "t" and scope != "p" and scope != "g")
        bad.push_back("instant without a scope (s: t, p or g): " + e.dump());
      else if (scope == "t")
        instants.push_back(track);
    } else if (ph == "C") {
      for (auto& [k, v] : e["args"].items())
        if (not v.is_number())
          bad.push_back("counter value not a number: " + e.dump());
    } else {
      bad.push_back("unexpected phase " + ph);
    }
  }
  for (const Track& track : instants)
    if (not named_tracks.contains(track) or not named_pids.contains(track.first))
      bad.push_back("instant on a track or process without a name: pid " + std::to_string(track.first) + " tid " +
                    std::to_string(track.second));
  for (auto& [track, depth] : be_depth)
    if (depth != 0)
      bad.push_back("B/E unbalanced on track " + std::to_string(track.second));
  for (auto& [track, list] : slices) {
    if (not named_tracks.contains(track))
      bad.push_back("track without a thread_name: tid " + std::to_string(track.second));
    if (not named_pids.contains(track.first))
      bad.push_back("process without a process_name: pid " + std::to_string(track.first));
    std::sort(list.begin(), list.end(),
              [](auto& a, auto& b) { return a.first != b.first ? a.first < b.first : a.second > b.second; });
    std::vector<long long> open; // ends of the enclosing slices
    for (auto& [from, to] : list) {
      while (not open.empty() and open.back() <= from)
        open.pop_back();
      if (not open.empty() and to > open.back())
        bad.push_back("slices overlap without nesting on tid " + std::to_string(track.second));
      open.push_back(to);
    }
  }
  auto enclosed = [&](const json& e) {
    Track track{e["pid"].get<long long>(), e["tid"].get<long long>()};
    long long ts = ns(e["ts"]);
    for (auto& [from, to] : slices[track])
      if (from <= ts and ts <= to)
        return true;
    return false;
  };
  for (auto& [key, list] : flows) {
    int starts = 0, finishes = 0;
    long long last = -1;
    for (const json& e : list) {
      starts += e["ph"] == "s";
      finishes += e["ph"] == "f";
      if (not enclosed(e))
        bad.push_back("flow event outside any slice of its track: " + e.dump());
      else if (not slice_starts.contains(
                   {e["pid"].get<long long>(), e["tid"].get<long long>(), ns(e["ts"]), e.value("cat", "")}))
        bad.push_back("flow event not at the start of a slice of its category (Chromium binds it to none): " +
                      e.dump());
      if (e["ph"] != "s" and e.value("bp", "") != "e")
        bad.push_back("flow step not bound to its enclosing slice (bp: e): " + e.dump());
      if (ns(e["ts"]) < last)
        bad.push_back("flow " + key + " goes back in time");
      last = ns(e["ts"]);
    }
    if (starts != 1 or finishes != 1 or list.front()["ph"] != "s" or list.back()["ph"] != "f")
      bad.push_back("flow " + key + " is not one start, its steps and one finish");
  }
  return bad;
}

json traced_run(const std::string& scenario, const std::string& extra, TempDir& dir)
{
  std::string trace = dir.file("trace.json");
  auto r = run_pvsim("run " + source_dir() + "/scenarios/" + scenario + " -q -o " + dir.file("out") + " --trace " +
                     trace + " " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(trace);
  EXPECT_TRUE(in.good()) << "no trace written";
  return in.good() ? json::parse(in) : json::object();
}

std::set<std::string> track_names(const json& doc)
{
  std::set<std::string> out;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "M" and e["name"] == "thread_name")
      out.insert(e["args"]["name"].get<std::string>());
  return out;
}

std::size_t count_phase(const json& doc, const std::string& ph)
{
  std::size_t n = 0;
  for (const json& e : doc["traceEvents"])
    n += e["ph"] == ph;
  return n;
}
} // namespace

TEST(Trace, XenBlkMqTraceFollowsTheFormatsRules)
{
  TempDir dir;
  json doc = traced_run("xen-blk-mq.json", "--set duration=15ms", dir);
  auto bad = trace_violations(doc);
  for (std::size_t i = 0; i < std::min<std::size_t>(bad.size(), 10); ++i)
    ADD_FAILURE() << bad[i];
  EXPECT_TRUE(bad.empty()) << bad.size() << " violations";
  EXPECT_GT(count_phase(doc, "X"), 100u);
  EXPECT_GT(count_phase(doc, "s"), 10u) << "flows join each request's stages";
  EXPECT_GT(count_phase(doc, "C"), 100u) << "occupancy counters";
}

TEST(Trace, TracksNameTheStagesOfTheStack)
{
  TempDir dir;
  auto names = track_names(traced_run("xen-blk-mq.json", "--set duration=15ms", dir));
  for (std::string stage : {"blkmq.hctx0", "xvda.ring0", "nullb0", "fio I/O"})
    EXPECT_TRUE(names.contains(stage)) << "no track " << stage;
}

TEST(Trace, VirtioAndNetStacksTraceToo)
{
  for (std::string scenario : {"virtio-blk-iothreads.json", "xen-vif-mq.json"}) {
    TempDir dir;
    json doc = traced_run(scenario, "", dir);
    EXPECT_TRUE(trace_violations(doc).empty()) << scenario;
    EXPECT_GT(count_phase(doc, "X"), 10u) << scenario;
  }
}

TEST(Trace, TheValidatorCatchesABrokenTrace)
{
  json doc = {{"traceEvents",
               {{{"ph", "M"}, {"name", "process_name"}, {"pid", 1}, {"tid", 0}, {"args", {{"name", "p"}}}},
                {{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", 1}, {"args", {{"name", "t"}}}},
                {{"ph", "X"}, {"name", "a"}, {"pid", 1}, {"tid", 1}, {"ts", 0}, {"dur", 10}},
                {{"ph", "X"}, {"name", "b"}, {"pid", 1}, {"tid", 1}, {"ts", 5}, {"dur", 10}},
                {{"ph", "s"}, {"name", "r"}, {"cat", "request"}, {"id", 1}, {"pid", 1}, {"tid", 1}, {"ts", 50}},
                {{"ph", "i"}, {"name", "i"}, {"pid", 1}, {"tid", 1}, {"ts", 3}},
                {{"ph", "i"}, {"s", "t"}, {"name", "j"}, {"pid", 1}, {"tid", 7}, {"ts", 3}}}}};
  auto bad = trace_violations(doc);
  EXPECT_EQ(bad.size(), 5u) << "partial overlap, a flow outside slices, a flow without its finish, an instant "
                               "without a scope, an instant on an unnamed track";
}

TEST(Trace, EachRequestsRingStepsAreInstantsInOrderOnItsRingsTrack)
{
  TempDir dir;
  json doc   = traced_run("xen-blk-mq.json", "--set duration=15ms", dir);
  auto names = track_names(doc);
  for (std::string track : {"xvda.ring0 steps", "xvda.ring3 steps"})
    EXPECT_TRUE(names.contains(track)) << "no track " << track;
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.rfind("event channel ", 0) == 0;
  })) << "no event channel track";
  // Per request, its steps in the order the driver takes them: pushed by the frontend, taken by the backend with
  // its grants, the response pushed, the response taken by the interrupt handler.
  std::map<long long, std::vector<std::string>> steps;
  std::size_t notified = 0, suppressed = 0;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "i" and e["cat"] == "ring") {
      std::string name = e["name"];
      steps[e["args"]["request"].get<long long>()].push_back(name.substr(0, name.find(',')));
      notified += name.find(", notified") != std::string::npos;
      suppressed += name.find(", suppressed") != std::string::npos;
    }
  ASSERT_GT(steps.size(), 10u);
  std::vector<std::string> path = {"request pushed", "request taken", "grants", "response pushed", "response taken"};
  std::size_t complete          = 0;
  for (auto& [id, list] : steps)
    if (list.size() == path.size()) {
      EXPECT_EQ(list, path) << "request " << id;
      ++complete;
    }
  EXPECT_GT(complete, steps.size() / 2);
  std::cout << "pushes notified " << notified << ", suppressed " << suppressed << "\n";
  EXPECT_GT(notified, 0u);
  EXPECT_GT(suppressed, 0u) << "the rings are busy: req_event and rsp_event hold notifications off";
}

TEST(Trace, RingIndicesAreCountersThatKeepTheRingsInvariants)
{
  TempDir dir;
  json doc            = traced_run("xen-blk-mq.json", "--set duration=15ms", dir);
  std::size_t samples = 0, passes = 0;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] != "C")
      continue;
    std::string name = e["name"];
    passes += name == "xvda.ring0 backend pass";
    if (name != "xvda.ring0 indices")
      continue;
    ++samples;
    const json& a = e["args"];
    // rsp_cons <= rsp_prod <= req_cons <= req_prod, and no more than the ring's 32 slots between rsp_cons and req_prod
    // (the indices are small here: no 32-bit wrap in 15 ms).
    EXPECT_LE(a["rsp_cons"], a["rsp_prod"]) << a.dump();
    EXPECT_LE(a["rsp_prod"], a["req_cons"]) << a.dump();
    EXPECT_LE(a["req_cons"], a["req_prod"]) << a.dump();
    EXPECT_LE(a["req_prod"].get<long long>() - a["rsp_cons"].get<long long>(), 32) << a.dump();
    EXPECT_TRUE(a.contains("req_event") and a.contains("rsp_event")) << a.dump();
  }
  EXPECT_GT(samples, 50u);
  EXPECT_GT(passes, 10u) << "the backend's passes as a counter";
}

TEST(Trace, WindowAndSampleBoundTheTrace)
{
  TempDir all_dir, sampled_dir;
  json all = traced_run("xen-blk-mq.json", "--set duration=15ms --trace-window 10ms..11ms", all_dir);
  json sampled =
      traced_run("xen-blk-mq.json", "--set duration=15ms --trace-window 10ms..11ms --trace-sample 10", sampled_dir);
  std::size_t n_all = count_phase(all, "s"), n_sampled = count_phase(sampled, "s");
  std::cout << "requests traced: " << n_all << " in 1 ms, " << n_sampled << " sampling 1 in 10 (expected ~"
            << n_all / 10 << " +-30%)\n";
  EXPECT_NEAR(static_cast<double>(n_sampled), n_all / 10.0, 0.3 * n_all / 10.0);
  for (const json& e : all["traceEvents"]) {
    if (e["ph"] == "s") {
      EXPECT_TRUE(e["ts"].get<double>() >= 10000 and e["ts"].get<double>() < 11000) << e.dump();
    }
  }
}

TEST(Trace, ABadWindowIsRefusedAndNothingIsWritten)
{
  TempDir dir;
  auto r = run_pvsim("run " + source_dir() + "/scenarios/mm1.json -o " + dir.file("out") + " --trace " +
                     dir.file("t.json") + " --trace-window 12ms..10ms");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--trace-window"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("t.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(Trace, EachThreadOnACpuHostHasATrackOfTheBatchesItRan)
{
  TempDir dir;
  json doc   = traced_run("xen-blk-mq.json", "--set duration=15ms", dir);
  auto names = track_names(doc);
  for (std::string thread : {"domU.vcpu0", "vbd.ring0"})
    EXPECT_TRUE(names.contains(thread)) << "no CPU track " << thread;
  std::size_t runs = 0;
  double cpu_us = 0, busy_us = 0;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "X" and e.value("cat", "") == "cpu") {
      ++runs;
      cpu_us += e["args"]["cpu_us"].get<double>();
      busy_us += e["dur"].get<double>();
      EXPECT_GE(e["args"]["items"].get<int>(), 1);
    }
  EXPECT_GT(runs, 100u);
  // A batch's slice lasts at least its CPU (more when it waited for a lock or a core).
  EXPECT_GE(busy_us, 0.99 * cpu_us);
  EXPECT_TRUE(trace_violations(doc).empty());
}
