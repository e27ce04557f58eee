#include "analysis/readers/block_trace.hpp"

#include "analysis/readers/csv_record.hpp"
#include "analysis/readers/fio_log.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string_view>
#include <unordered_map>

namespace pvsim::readers {

const char* stage_letter(BlockStage s)
{
  static const char* letters[] = {"Q", "G", "I", "D", "C"};
  return letters[static_cast<int>(s)];
}

std::optional<std::int64_t> BlockRequest::latency_ns(BlockStage from, BlockStage to) const
{
  if (not has(from) or not has(to))
    return std::nullopt;
  return at(to) - at(from);
}

namespace {

std::string where_line(std::size_t n)
{
  return "line " + std::to_string(n);
}

/** "50.020979831" or "621.2329490000001" -> ns, exactly for up to 9 decimals, rounded beyond. */
std::optional<std::int64_t> parse_seconds_ns(std::string_view t)
{
  if (t.empty())
    return std::nullopt;
  std::size_t dot     = t.find('.');
  std::string_view ip = t.substr(0, dot);
  std::int64_t whole  = 0;
  auto r              = std::from_chars(ip.data(), ip.data() + ip.size(), whole);
  if (ip.empty() or r.ec != std::errc() or r.ptr != ip.data() + ip.size() or whole < 0 or whole > 9'000'000'000LL)
    return std::nullopt;
  std::int64_t frac = 0;
  if (dot != std::string_view::npos) {
    std::string_view fp = t.substr(dot + 1);
    if (fp.empty())
      return std::nullopt;
    int digits = 0;
    for (char c : fp) {
      if (c < '0' or c > '9')
        return std::nullopt;
      if (digits < 9)
        frac = frac * 10 + (c - '0');
      else if (digits == 9 and c >= '5')
        frac += 1; // round half up on the tenth decimal
      ++digits;
    }
    for (; digits < 9; ++digits)
      frac *= 10;
  }
  return whole * 1'000'000'000LL + frac;
}

template <typename T>
bool parse_int(std::string_view t, T& out)
{
  auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  return not t.empty() and r.ec == std::errc() and r.ptr == t.data() + t.size();
}

std::vector<std::string_view> split_blanks(std::string_view line)
{
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() and (line[i] == ' ' or line[i] == '\t'))
      ++i;
    std::size_t j = i;
    while (j < line.size() and line[j] != ' ' and line[j] != '\t')
      ++j;
    if (j > i)
      out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_device_token(std::string_view t)
{
  std::size_t comma = t.find(',');
  if (comma == std::string_view::npos or comma == 0 or comma + 1 == t.size())
    return false;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (i != comma and (t[i] < '0' or t[i] > '9'))
      return false;
  return true;
}

int stage_of_action(char a)
{
  switch (a) {
  case 'Q':
    return static_cast<int>(BlockStage::queue);
  case 'G':
    return static_cast<int>(BlockStage::get);
  case 'I':
    return static_cast<int>(BlockStage::insert);
  case 'D':
    return static_cast<int>(BlockStage::issue);
  case 'C':
    return static_cast<int>(BlockStage::complete);
  default:
    return -1;
  }
}

struct KeyHash {
  std::size_t operator()(const std::pair<int, std::uint64_t>& k) const
  {
    return std::hash<std::uint64_t>()(k.second * 1315423911ULL ^ static_cast<std::uint64_t>(k.first));
  }
};

/** Matches blkparse events into requests. */
class Matcher {
public:
  explicit Matcher(BlockTrace& trace) : trace_(trace) {}

  int device_id(std::string_view dev)
  {
    auto it = std::find(devices_.begin(), devices_.end(), dev);
    if (it != devices_.end())
      return static_cast<int>(it - devices_.begin());
    devices_.emplace_back(dev);
    return static_cast<int>(devices_.size() - 1);
  }

  /** Starts a new segment if the per-CPU sequence number went back. */
  void sequence(int dev, int cpu, std::uint64_t seq)
  {
    auto key = std::make_pair(dev, static_cast<std::uint64_t>(cpu));
    auto it  = last_seq_.find(key);
    if (it != last_seq_.end() and seq <= it->second) {
      trace_.counts.segments++;
      trace_.counts.open_at_segment_end += open_count();
      open_.clear();
      last_seq_.clear();
    }
    last_seq_[key] = seq;
  }

  void event(char action, int dev, std::uint64_t sector, std::uint32_t nr, std::string_view rwbs, std::string_view comm,
             int cpu, std::int64_t t)
  {
    auto key   = std::make_pair(dev, sector);
    auto& list = open_[key];
    auto& reqs = trace_.requests;
    switch (action) {
    case 'Q':
      list.push_back(create(dev, sector, nr, rwbs, comm, BlockStage::queue, t, cpu));
      return;
    case 'G':
    case 'I': {
      auto s = static_cast<BlockStage>(stage_of_action(action));
      for (std::size_t idx : list)
        if (not reqs[idx].has(s) and not reqs[idx].has(BlockStage::issue)) {
          reqs[idx].time_ns[static_cast<int>(s)] = t;
          return;
        }
      trace_.counts.unmatched_events[action]++;
      list.push_back(create(dev, sector, nr, rwbs, comm, s, t, cpu));
      return;
    }
    case 'D': {
      for (std::size_t idx : list)
        if (not reqs[idx].has(BlockStage::issue)) {
          reqs[idx].time_ns[static_cast<int>(BlockStage::issue)] = t;
          reqs[idx].d_cpu                                        = cpu;
          reqs[idx].nr_sectors = std::max(reqs[idx].nr_sectors, nr); // grown by merges
          return;
        }
      trace_.counts.unmatched_events['D']++;
      list.push_back(create(dev, sector, nr, rwbs, comm, BlockStage::issue, t, cpu));
      return;
    }
    case 'R': {
      for (std::size_t idx : list)
        if (reqs[idx].has(BlockStage::issue)) {
          reqs[idx].time_ns[static_cast<int>(BlockStage::issue)].reset();
          reqs[idx].requeues++;
          trace_.counts.requeues++;
          return;
        }
      trace_.counts.unmatched_events['R']++;
      return;
    }
    case 'C': {
      auto pick =
          std::find_if(list.begin(), list.end(), [&](std::size_t idx) { return reqs[idx].has(BlockStage::issue); });
      if (pick == list.end())
        pick = list.begin();
      if (pick == list.end()) {
        trace_.counts.unmatched_completions++;
        return;
      }
      BlockRequest& r                                   = reqs[*pick];
      r.time_ns[static_cast<int>(BlockStage::complete)] = t;
      r.c_cpu                                           = cpu;
      list.erase(pick);
      return;
    }
    case 'M':
    case 'F': {
      // The bio queued at this sector joins an existing request: it is not a request of its own.
      for (auto it = list.rbegin(); it != list.rend(); ++it) {
        BlockRequest& r = reqs[*it];
        if (r.has(BlockStage::queue) and not r.has(BlockStage::get) and not r.has(BlockStage::insert) and
            not r.has(BlockStage::issue)) {
          merged_.push_back(*it);
          list.erase(std::next(it).base());
          trace_.counts.merged_bios++;
          return;
        }
      }
      trace_.counts.unmatched_events[action]++;
      return;
    }
    default:
      trace_.counts.skipped_actions[action]++;
      return;
    }
  }

  void finish()
  {
    trace_.counts.open_at_end = open_count();
    if (not merged_.empty()) {
      std::sort(merged_.begin(), merged_.end());
      std::vector<BlockRequest> kept;
      kept.reserve(trace_.requests.size() - merged_.size());
      std::size_t m = 0;
      for (std::size_t i = 0; i < trace_.requests.size(); ++i) {
        if (m < merged_.size() and merged_[m] == i) {
          ++m;
          continue;
        }
        kept.push_back(std::move(trace_.requests[i]));
      }
      trace_.requests = std::move(kept);
    }
  }

private:
  std::size_t open_count() const
  {
    std::size_t n = 0;
    for (const auto& [k, v] : open_)
      n += v.size();
    return n;
  }

  std::size_t create(int dev, std::uint64_t sector, std::uint32_t nr, std::string_view rwbs, std::string_view comm,
                     BlockStage s, std::int64_t t, int cpu)
  {
    BlockRequest r;
    r.device                       = devices_[static_cast<std::size_t>(dev)];
    r.sector                       = sector;
    r.nr_sectors                   = nr;
    r.rwbs                         = rwbs;
    r.comm                         = comm;
    r.time_ns[static_cast<int>(s)] = t;
    if (s == BlockStage::queue)
      r.q_cpu = cpu;
    if (s == BlockStage::issue)
      r.d_cpu = cpu;
    trace_.requests.push_back(std::move(r));
    return trace_.requests.size() - 1;
  }

  BlockTrace& trace_;
  std::vector<std::string> devices_;
  std::unordered_map<std::pair<int, std::uint64_t>, std::vector<std::size_t>, KeyHash> open_;
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> last_seq_;
  std::vector<std::size_t> merged_;
};

} // namespace

BlockTrace read_blkparse(const std::string& path)
{
  BlockTrace trace;
  trace.file = path;
  Matcher m(trace);
  GzLineReader in(path);
  std::string line;
  while (in.next(line)) {
    trace.counts.lines++;
    auto tok = split_blanks(line);
    if (tok.empty() or not is_device_token(tok[0])) {
      trace.counts.non_event_lines++;
      continue;
    }
    auto bad = [&](const std::string& what) {
      return InputError(path, where_line(in.line_number()),
                        "expected a blkparse event 'maj,min cpu seq seconds pid action rwbs [sector + count] "
                        "[comm]': " +
                            what);
    };
    if (tok.size() < 6)
      throw bad("only " + std::to_string(tok.size()) + " fields");
    int cpu           = 0;
    std::uint64_t seq = 0;
    long pid          = 0;
    if (not parse_int(tok[1], cpu) or cpu < 0)
      throw bad("CPU '" + std::string(tok[1]) + "' is not a number");
    if (not parse_int(tok[2], seq))
      throw bad("sequence number '" + std::string(tok[2]) + "' is not a number");
    auto t = parse_seconds_ns(tok[3]);
    if (not t)
      throw bad("time '" + std::string(tok[3]) + "' is not seconds.nanoseconds");
    if (not parse_int(tok[4], pid))
      throw bad("pid '" + std::string(tok[4]) + "' is not a number");
    std::string_view action = tok[5];
    trace.counts.events++;
    int dev = m.device_id(tok[0]);
    m.sequence(dev, cpu, seq);

    char a            = action.size() == 1 ? action[0] : '?';
    bool matched_kind = action.size() == 1 and std::string_view("QGIDCRMF").find(a) != std::string_view::npos;
    if (not matched_kind) {
      trace.counts.skipped_actions[action.size() == 1 ? a : '*']++;
      continue;
    }
    if (tok.size() < 7)
      throw bad("action " + std::string(action) + " without its RWBS field");
    std::uint64_t sector = 0;
    if (tok.size() < 8 or not parse_int(tok[7], sector)) {
      trace.counts.unsectored_events++; // a flush or passthrough request: nothing to match on
      continue;
    }
    std::uint32_t nr = 0;
    if (tok.size() < 10 or tok[8] != "+" or not parse_int(tok[9], nr))
      throw bad("sector " + std::string(tok[7]) + " not followed by '+ count'");
    // The rest of the line is [comm] (or [error] on C), possibly with blanks inside.
    std::string_view comm;
    if (tok.size() > 10) {
      std::size_t from = static_cast<std::size_t>(tok[10].data() - line.data());
      comm             = std::string_view(line).substr(from);
      while (not comm.empty() and (comm.back() == ' ' or comm.back() == '\t'))
        comm.remove_suffix(1);
      if (comm.size() >= 2 and comm.front() == '[' and comm.back() == ']')
        comm = comm.substr(1, comm.size() - 2);
    }
    m.event(a, dev, sector, nr, tok[6], a == 'C' ? std::string_view() : comm, cpu, *t);
  }
  m.finish();
  for (const auto& r : trace.requests)
    if (r.has(BlockStage::queue) and r.has(BlockStage::complete))
      trace.counts.complete++;
  return trace;
}

// ---- binary blktrace ----------------------------------------------------------------------------------------------

namespace {

// Linux include/uapi/linux/blktrace_api.h: struct blk_io_trace is 48 bytes (u32 magic, u32 sequence, u64 time,
// u64 sector, u32 bytes, u32 action, u32 pid, u32 device, u32 cpu, u16 error, u16 pdu_len), written in the byte
// order of the traced machine; BLK_IO_TRACE_MAGIC 0x65617400, BLK_IO_TRACE_VERSION 0x07.
constexpr std::uint32_t blktrace_magic   = 0x65617400;
constexpr std::uint32_t blktrace_version = 0x07;
constexpr std::size_t blktrace_record    = 48;
constexpr std::uint32_t tc_read = 1u << 0, tc_write = 1u << 1, tc_sync = 1u << 3, tc_notify = 1u << 10,
                        tc_discard = 1u << 13; // enum blktrace_cat
constexpr std::uint32_t tn_process = 0;        // enum blktrace_notify: __BLK_TN_PROCESS (pdu = the task's comm)

std::uint32_t byteswap32(std::uint32_t v)
{
  return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

struct BinaryEvent {
  std::int64_t t;
  std::size_t file;
  std::size_t index;
  std::uint32_t seq, action, pid, device, cpu, bytes;
  std::uint64_t sector;
};

/** blkparse's action letters for enum blktrace_act (__BLK_TA_QUEUE = 1 ...); 0 for those it does not print. */
char action_letter(std::uint32_t act)
{
  static const char letters[] = {0, 'Q', 'M', 'F', 'G', 'S', 'R', 'D', 'C', 'P', 'U', 'T', 'I', 'X', 'B', 'A'};
  return act < sizeof letters ? letters[act] : 0;
}

} // namespace

bool is_blktrace_binary(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  unsigned char b[4];
  if (not in.read(reinterpret_cast<char*>(b), 4))
    return false;
  std::uint32_t le = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  return (le & 0xffffff00u) == blktrace_magic or (byteswap32(le) & 0xffffff00u) == blktrace_magic;
}

BlockTrace read_blktrace_binary(const std::vector<std::string>& paths)
{
  BlockTrace trace;
  trace.file = paths.empty() ? std::string() : paths.front();
  std::vector<BinaryEvent> events;
  std::map<std::uint32_t, std::string> comm_of; // pid -> comm, from the process notes
  for (std::size_t f = 0; f < paths.size(); ++f) {
    std::ifstream in(paths[f], std::ios::binary);
    if (not in)
      throw InputError(paths[f], "", "cannot open the blktrace file");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    bool swap     = false;
    auto u32      = [&](std::size_t at) {
      std::uint32_t v = p[at] | (p[at + 1] << 8) | (p[at + 2] << 16) | (static_cast<std::uint32_t>(p[at + 3]) << 24);
      return swap ? byteswap32(v) : v;
    };
    auto u64 = [&](std::size_t at) {
      std::uint64_t lo = u32(at), hi = u32(at + 4);
      return swap ? (lo << 32) | hi : (hi << 32) | lo;
    };
    auto u16 = [&](std::size_t at) {
      std::uint16_t v = static_cast<std::uint16_t>(p[at] | (p[at + 1] << 8));
      return swap ? static_cast<std::uint16_t>((v >> 8) | (v << 8)) : v;
    };
    std::size_t at = 0;
    while (at < data.size()) {
      auto where = "byte " + std::to_string(at);
      if (data.size() - at < blktrace_record)
        throw InputError(paths[f], where,
                         "a blktrace record cut short (" + std::to_string(data.size() - at) + " of 48 bytes)");
      swap            = false;
      std::uint32_t m = u32(at);
      if ((m & 0xffffff00u) != blktrace_magic) {
        swap = true;
        m    = u32(at);
      }
      if ((m & 0xffffff00u) != blktrace_magic)
        throw InputError(paths[f], where, "expected a struct blk_io_trace starting with the magic 0x65617400");
      if ((m & 0xffu) != blktrace_version)
        throw InputError(paths[f], where,
                         "blktrace format version " + std::to_string(m & 0xffu) + ", expected 7 (blktrace 1.x)");
      BinaryEvent e{};
      e.seq           = u32(at + 4);
      e.t             = static_cast<std::int64_t>(u64(at + 8));
      e.sector        = u64(at + 16);
      e.bytes         = u32(at + 24);
      e.action        = u32(at + 28);
      e.pid           = u32(at + 32);
      e.device        = u32(at + 36);
      e.cpu           = u32(at + 40);
      std::size_t pdu = u16(at + 46);
      if (data.size() - at - blktrace_record < pdu)
        throw InputError(paths[f], where, "a blktrace record's payload cut short");
      trace.counts.lines++;
      if (((e.action >> 16) & tc_notify) != 0) {
        if ((e.action & 0xffffu) == tn_process) {
          std::string comm(data.data() + at + blktrace_record, pdu);
          comm_of[e.pid] = comm.substr(0, comm.find('\0'));
        }
        trace.counts.non_event_lines++;
      } else {
        e.file  = f;
        e.index = events.size();
        events.push_back(e);
      }
      at += blktrace_record + pdu;
    }
  }
  // blkparse merges the per-CPU files by time.
  std::stable_sort(events.begin(), events.end(), [](const BinaryEvent& a, const BinaryEvent& b) { return a.t < b.t; });
  Matcher m(trace);
  for (const auto& e : events) {
    trace.counts.events++;
    std::string dev = std::to_string(e.device >> 20) + "," + std::to_string(e.device & 0xfffffu); // MINORBITS 20
    int d           = m.device_id(dev);
    m.sequence(d, static_cast<int>(e.cpu), e.seq);
    char a = action_letter(e.action & 0xffffu);
    if (a == 0 or std::string_view("QGIDCRMF").find(a) == std::string_view::npos) {
      trace.counts.skipped_actions[a == 0 ? '*' : a]++;
      continue;
    }
    if (e.bytes == 0) {
      trace.counts.unsectored_events++;
      continue;
    }
    std::uint32_t cat = e.action >> 16;
    std::string rwbs  = (cat & tc_discard) ? "D" : (cat & tc_write) ? "W" : (cat & tc_read) ? "R" : "N";
    if (cat & tc_sync)
      rwbs += "S";
    auto c = comm_of.find(e.pid);
    m.event(a, d, e.sector, e.bytes >> 9, rwbs, c != comm_of.end() and a != 'C' ? std::string_view(c->second) : "",
            static_cast<int>(e.cpu), e.t);
  }
  m.finish();
  for (const auto& r : trace.requests)
    if (r.has(BlockStage::queue) and r.has(BlockStage::complete))
      trace.counts.complete++;
  return trace;
}

// ---- CSV -----------------------------------------------------------------------------------------------------------

BlockTrace read_block_events_csv(const std::string& path)
{
  BlockTrace trace;
  trace.file = path;
  GzLineReader in(path);
  std::string line;
  if (not in.next(line))
    throw InputError(path, "line 1", "empty file: expected a header 'q_s,i_s,d_s,c_s,sector,nr_sector,rwbs,...'");
  trace.counts.lines++;

  std::vector<std::string_view> fields;
  std::deque<std::string> unquoted;
  auto field = [&](std::size_t i) { return fields[i]; };

  split_csv(line, fields, unquoted);
  std::vector<std::string> header;
  for (std::size_t i = 0; i < fields.size(); ++i)
    header.emplace_back(field(i));
  static const std::vector<std::string> known = {"q_s",  "g_s",  "i_s",   "d_s",   "c_s",   "sector", "nr_sector",
                                                 "rwbs", "comm", "q_cpu", "d_cpu", "c_cpu", "dev"};
  std::vector<std::string> unknown; // header names that could be a misspelling of a known one
  for (const auto& h : header)
    if (std::find(known.begin(), known.end(), h) == known.end())
      unknown.push_back(h);
  auto column = [&](const std::string& name, bool required) -> int {
    auto it = std::find(header.begin(), header.end(), name);
    if (it != header.end())
      return static_cast<int>(it - header.begin());
    if (required)
      throw InputError(path, "line 1", "missing column '" + name + "'" + did_you_mean(name, unknown));
    return -1;
  };
  const int c_time[5] = {column("q_s", true), column("g_s", false), column("i_s", true), column("d_s", true),
                         column("c_s", true)};
  const int c_sector = column("sector", true), c_nr = column("nr_sector", true), c_rwbs = column("rwbs", true),
            c_comm = column("comm", true), c_qcpu = column("q_cpu", true), c_dcpu = column("d_cpu", true),
            c_ccpu = column("c_cpu", true), c_dev = column("dev", false);

  while (in.next(line)) {
    trace.counts.lines++;
    if (line.empty()) {
      trace.counts.non_event_lines++;
      continue;
    }
    split_csv(line, fields, unquoted);
    std::string where = where_line(in.line_number());
    if (fields.size() != header.size())
      throw InputError(path, where,
                       "expected " + std::to_string(header.size()) +
                           " comma-separated fields as in the header, found " + std::to_string(fields.size()));
    BlockRequest r;
    for (int s = 0; s < 5; ++s) {
      if (c_time[s] < 0)
        continue;
      std::string_view v = field(static_cast<std::size_t>(c_time[s]));
      if (v.empty())
        continue;
      auto t = parse_seconds_ns(v);
      if (not t)
        throw InputError(path, where,
                         "column '" + header[static_cast<std::size_t>(c_time[s])] +
                             "': expected a time in seconds (e.g. 621.232949) or an empty cell, found '" +
                             std::string(v) + "'");
      r.time_ns[s] = *t;
    }
    auto integer = [&](int col, auto& out, bool optional) {
      std::string_view v = field(static_cast<std::size_t>(col));
      if (optional and v.empty())
        return;
      if (not parse_int(v, out))
        throw InputError(path, where,
                         "column '" + header[static_cast<std::size_t>(col)] + "': expected an integer" +
                             (optional ? " or an empty cell" : "") + ", found '" + std::string(v) + "'");
    };
    integer(c_sector, r.sector, false);
    integer(c_nr, r.nr_sectors, false);
    integer(c_qcpu, r.q_cpu, true);
    integer(c_dcpu, r.d_cpu, true);
    integer(c_ccpu, r.c_cpu, true);
    r.rwbs = field(static_cast<std::size_t>(c_rwbs));
    r.comm = field(static_cast<std::size_t>(c_comm));
    if (c_dev >= 0)
      r.device = field(static_cast<std::size_t>(c_dev));
    bool any = false;
    for (const auto& t : r.time_ns)
      any = any or t.has_value();
    if (not any)
      throw InputError(path, where, "a request with no stage time at all");
    trace.counts.events++;
    if (r.has(BlockStage::queue) and r.has(BlockStage::complete))
      trace.counts.complete++;
    trace.requests.push_back(std::move(r));
  }
  return trace;
}

// ---- statistics ----------------------------------------------------------------------------------------------------

StageSummary summarize_stage(const std::vector<BlockRequest>& requests, BlockStage from, BlockStage to,
                             const RequestFilter& filter, const std::vector<double>& percents)
{
  std::vector<std::int64_t> v;
  v.reserve(requests.size());
  for (const auto& r : requests)
    if ((not filter or filter(r)) and r.has(from) and r.has(to))
      v.push_back(r.at(to) - r.at(from));
  StageSummary s;
  s.count = v.size();
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  long double sum = 0;
  for (auto x : v)
    sum += static_cast<long double>(x);
  s.mean_ns = static_cast<double>(sum / static_cast<long double>(v.size()));
  s.min_ns  = static_cast<double>(v.front());
  s.max_ns  = static_cast<double>(v.back());
  for (double p : percents) {
    auto rank           = static_cast<std::size_t>(std::floor(p / 100.0 * static_cast<double>(v.size())));
    s.percentiles_ns[p] = static_cast<double>(v[std::min(rank, v.size() - 1)]);
  }
  return s;
}

TimeWindow request_window(const std::vector<BlockRequest>& requests, BlockStage from, BlockStage to,
                          const RequestFilter& filter)
{
  TimeWindow w;
  bool first = true;
  for (const auto& r : requests) {
    if ((filter and not filter(r)) or not r.has(from) or not r.has(to))
      continue;
    if (first or r.at(from) < w.begin_ns)
      w.begin_ns = r.at(from);
    if (first or r.at(to) > w.end_ns)
      w.end_ns = r.at(to);
    first = false;
  }
  return w;
}

InFlight in_flight(const std::vector<BlockRequest>& requests, BlockStage from, BlockStage to, const TimeWindow& window,
                   const RequestFilter& filter)
{
  InFlight f;
  f.window = window;
  if (window.end_ns <= window.begin_ns)
    return f;
  std::vector<std::pair<std::int64_t, int>> edges;
  long double busy_ns = 0, latency_ns = 0;
  for (const auto& r : requests) {
    if ((filter and not filter(r)) or not r.has(from) or not r.has(to))
      continue;
    std::int64_t a = r.at(from), b = r.at(to);
    if (b >= window.begin_ns and b <= window.end_ns) {
      f.completions++;
      latency_ns += static_cast<long double>(b - a);
    }
    std::int64_t lo = std::max(a, window.begin_ns), hi = std::min(b, window.end_ns);
    if (hi > lo) {
      busy_ns += static_cast<long double>(hi - lo);
      edges.emplace_back(lo, +1);
      edges.emplace_back(hi, -1);
    }
  }
  const double length_s = window.length_s();
  f.throughput_per_s    = static_cast<double>(f.completions) / length_s;
  f.mean_latency_s      = f.completions ? static_cast<double>(latency_ns / f.completions) * 1e-9 : 0.0;
  f.littles_law         = f.throughput_per_s * f.mean_latency_s;
  f.time_average        = static_cast<double>(busy_ns) * 1e-9 / length_s;

  std::sort(edges.begin(), edges.end());
  std::vector<long double> at_count(1, 0);
  std::int64_t prev = window.begin_ns;
  int n             = 0;
  for (const auto& [t, d] : edges) {
    at_count[static_cast<std::size_t>(n)] += static_cast<long double>(t - prev);
    prev = t;
    n += d;
    if (static_cast<std::size_t>(n) >= at_count.size())
      at_count.resize(static_cast<std::size_t>(n) + 1, 0);
  }
  at_count[static_cast<std::size_t>(n)] += static_cast<long double>(window.end_ns - prev);
  const long double total = static_cast<long double>(window.end_ns - window.begin_ns);
  for (auto x : at_count)
    f.time_fraction_by_count.push_back(static_cast<double>(x / total));
  return f;
}

} // namespace pvsim::readers
