/* pvsim: /proc/interrupts snapshots (see proc_interrupts.hpp). */
#include "analysis/readers/proc_interrupts.hpp"

#include "analysis/readers/text_file.hpp"

#include "sim/input_error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace pvsim::readers {

std::uint64_t IrqLine::total() const
{
  std::uint64_t t = 0;
  for (auto c : count)
    t += c;
  return t;
}

const IrqLine* ProcInterrupts::find(const std::string& irq) const
{
  for (const auto& l : lines)
    if (l.irq == irq)
      return &l;
  return nullptr;
}

namespace {

std::vector<std::string> words(const std::string& s)
{
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

bool all_digits(const std::string& s)
{
  return not s.empty() and std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

} // namespace

ProcInterrupts parse_proc_interrupts(const std::string& text, const std::string& file)
{
  ProcInterrupts p;
  p.file = file;
  std::istringstream in(text);
  std::string line;
  std::size_t n = 0;
  bool header   = false;
  while (std::getline(in, line)) {
    ++n;
    if (not line.empty() and line.back() == '\r')
      line.pop_back();
    auto w = words(line);
    if (w.empty())
      continue;
    if (not header and w[0].size() >= 2 and w[0].back() == ':') {
      // An excerpt without the header (grep of some lines): the CPU count is the first line's count of counts.
      std::size_t k = 1;
      while (k < w.size() and all_digits(w[k]))
        ++k;
      p.cpus = static_cast<int>(k - 1);
      if (p.cpus == 0)
        throw InputError(file, "line " + std::to_string(n), "expected per-CPU counts after \"" + w[0] + "\"");
      header = true;
    }
    if (not header) {
      for (std::size_t i = 0; i < w.size(); ++i)
        if (w[i] != "CPU" + std::to_string(i) and w[i].rfind("CPU", 0) != 0)
          throw InputError(file, "line " + std::to_string(n),
                           "expected the header of /proc/interrupts (\"CPU0 CPU1 ...\"), got \"" + line + "\"");
      p.cpus = static_cast<int>(w.size());
      header = true;
      continue;
    }
    if (w[0].size() < 2 or w[0].back() != ':')
      throw InputError(file, "line " + std::to_string(n),
                       "expected \"<irq>: <count per CPU> <chip> <name>\", got \"" + line + "\"");
    IrqLine l;
    l.irq         = w[0].substr(0, w[0].size() - 1);
    std::size_t i = 1;
    for (; i < w.size() and static_cast<int>(l.count.size()) < p.cpus and all_digits(w[i]); ++i) {
      std::uint64_t c = 0;
      auto [end, ec]  = std::from_chars(w[i].data(), w[i].data() + w[i].size(), c);
      if (ec != std::errc())
        throw InputError(file, "line " + std::to_string(n),
                         "interrupt count \"" + w[i] + "\" does not fit 64 bits (found by fuzzing)");
      l.count.push_back(c);
    }
    if (i < w.size()) {
      l.action = w.back();
      for (std::size_t k = i; k + 1 < w.size(); ++k)
        l.chip += (l.chip.empty() ? "" : " ") + w[k];
    }
    p.lines.push_back(std::move(l));
  }
  if (not header)
    throw InputError(file, "", "empty: expected the text of /proc/interrupts");
  return p;
}

ProcInterrupts read_proc_interrupts(const std::string& path)
{
  return parse_proc_interrupts(read_text_file(path, "/proc/interrupts capture", 16 * MiB), path);
}

std::vector<QueueIrq> queue_irqs(const std::string& kind, const ProcInterrupts& after, const ProcInterrupts* before,
                                 const std::string& name, bool* ambiguous)
{
  struct Hit {
    std::string device; // the kernel's device part of the name ("virtio0", "eth0", "" for blkif)
    int queue;
    std::string direction;
    const IrqLine* line;
    std::vector<std::uint64_t> delta = {}; // per CPU, since `before` (or since boot)
  };
  // A queue number as the driver names it ("-q3", "-req.1"); one beyond an int is no queue of ours.
  auto queue_number = [](const std::ssub_match& text) {
    int q          = -1;
    std::string t  = text.str();
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), q);
    return ec == std::errc() ? q : -1;
  };
  std::vector<Hit> hits;
  static const std::regex virtio_re(R"((virtio\d+)-req\.(\d+))");
  static const std::regex net_re(R"((.+)-q(\d+)(?:-(tx|rx))?)");
  static const std::regex blk_re(R"((.+)-(\d+))");
  if (kind != "xen-blkfront" and kind != "virtio-blk" and kind != "xen-netfront")
    throw std::invalid_argument("queue_irqs: unknown device kind " + kind);
  for (const auto& l : after.lines) {
    std::smatch m;
    if (kind == "xen-blkfront") {
      if (l.action == "blkif" and l.chip.find("event") != std::string::npos)
        hits.push_back({"", -1, "", &l});
      else if (not name.empty() and std::regex_match(l.action, m, blk_re) and m[1] == name)
        hits.push_back({name, queue_number(m[2]), "", &l});
    } else if (kind == "virtio-blk") {
      if (std::regex_match(l.action, m, virtio_re))
        hits.push_back({m[1], queue_number(m[2]), "", &l});
    } else if (std::regex_match(l.action, m, net_re) and l.chip.find("event") != std::string::npos) {
      hits.push_back({m[1], queue_number(m[2]), m[3].matched ? m[3].str() : "txrx", &l});
    }
  }
  // Where each line's interrupts went between the snapshots.
  for (auto& h : hits) {
    h.delta          = h.line->count;
    const IrqLine* b = before ? before->find(h.line->irq) : nullptr;
    if (b and b->action == h.line->action)
      for (std::size_t c = 0; c < h.delta.size() and c < b->count.size(); ++c)
        h.delta[c] = h.delta[c] >= b->count[c] ? h.delta[c] - b->count[c] : 0;
  }
  // Choose the device.
  std::vector<std::string> devices;
  for (const auto& h : hits)
    if (std::find(devices.begin(), devices.end(), h.device) == devices.end())
      devices.push_back(h.device);
  // The named device; else the only one; else the one that took the most interrupts (the device under test).
  auto taken = [&](const std::string& dev) {
    std::uint64_t t = 0;
    for (const auto& h : hits)
      if (h.device == dev)
        for (auto c : h.delta)
          t += c;
    return t;
  };
  std::string chosen = name;
  bool named         = std::find(devices.begin(), devices.end(), name) != devices.end();
  if (not named and not devices.empty()) {
    chosen = devices.front();
    for (const auto& dev : devices)
      if (taken(dev) > taken(chosen))
        chosen = dev;
  }
  if (ambiguous)
    *ambiguous = not named and devices.size() > 1;
  std::vector<QueueIrq> out;
  int next_blkif = 0;
  for (const auto& h : hits) {
    if (h.device != chosen)
      continue;
    QueueIrq q;
    q.queue             = h.queue >= 0 ? h.queue : next_blkif++;
    q.irq               = h.line->irq;
    q.action            = h.line->action;
    q.direction         = h.direction;
    std::uint64_t total = 0, best = 0;
    for (std::size_t c = 0; c < h.delta.size(); ++c) {
      total += h.delta[c];
      if (h.delta[c] > best) {
        best        = h.delta[c];
        q.bound_cpu = static_cast<int>(c);
      }
    }
    q.interrupts  = total;
    q.bound_share = total ? static_cast<double>(best) / static_cast<double>(total) : 0.0;
    out.push_back(q);
  }
  std::stable_sort(out.begin(), out.end(), [](const QueueIrq& a, const QueueIrq& b) {
    return a.queue != b.queue ? a.queue < b.queue : a.direction < b.direction;
  });
  return out;
}

} // namespace pvsim::readers
