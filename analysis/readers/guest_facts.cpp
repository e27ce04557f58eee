/* pvsim: guest descriptions (see guest_facts.hpp). */
#include "analysis/readers/guest_facts.hpp"

#include "analysis/readers/text_file.hpp"

#include "sim/input_error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace pvsim::readers {

std::string virtio_bit::name(int bit)
{
  static const std::map<int, std::string> names = {{size_max, "SIZE_MAX"},
                                                   {seg_max, "SEG_MAX"},
                                                   {geometry, "GEOMETRY"},
                                                   {ro, "RO"},
                                                   {blk_size, "BLK_SIZE"},
                                                   {flush, "FLUSH"},
                                                   {topology, "TOPOLOGY"},
                                                   {config_wce, "CONFIG_WCE"},
                                                   {mq, "MQ"},
                                                   {discard, "DISCARD"},
                                                   {write_zeroes, "WRITE_ZEROES"},
                                                   {secure_erase, "SECURE_ERASE"},
                                                   {zoned, "ZONED"},
                                                   {indirect_desc, "INDIRECT_DESC"},
                                                   {event_idx, "EVENT_IDX"},
                                                   {version_1, "VERSION_1"},
                                                   {access_platform, "ACCESS_PLATFORM"},
                                                   {ring_packed, "RING_PACKED"},
                                                   {in_order, "IN_ORDER"},
                                                   {order_platform, "ORDER_PLATFORM"},
                                                   {sr_iov, "SR_IOV"},
                                                   {notification_data, "NOTIFICATION_DATA"}};
  auto it                                       = names.find(bit);
  return it != names.end() ? it->second : "bit " + std::to_string(bit);
}

bool VirtioFeatures::has(int bit) const
{
  return std::binary_search(set.begin(), set.end(), bit);
}

std::vector<std::string> VirtioFeatures::names() const
{
  std::vector<std::string> out;
  for (int b : set)
    out.push_back(virtio_bit::name(b));
  return out;
}

bool GuestBlockDevice::virtio() const
{
  return name.rfind("vd", 0) == 0 or driver.rfind("virtio", 0) == 0 or features.has_value();
}

std::string GuestFacts::kernel_vmm_hint() const
{
  std::string k = kernel;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  // A part "fc" or "firecracker" between separators: "6.18.44-fc-v669", "5.10-fc1", "vmlinux.firecracker".
  auto separator = [](char c) { return c == '-' or c == '_' or c == '.' or c == '+'; };
  for (const std::string part : {"fc", "firecracker"})
    for (auto at = k.find(part); at != std::string::npos; at = k.find(part, at + 1)) {
      std::size_t end = at + part.size();
      if ((at == 0 or separator(k[at - 1])) and
          (end == k.size() or separator(k[end]) or std::isdigit(static_cast<unsigned char>(k[end]))))
        return "firecracker";
    }
  return "";
}

const GuestBlockDevice* GuestFacts::device(const std::string& name) const
{
  for (const auto& d : devices)
    if (d.name == name)
      return &d;
  return nullptr;
}

const GuestBlockDevice* GuestFacts::main_device() const
{
  for (const auto& d : devices)
    if (not d.queues.empty())
      return &d;
  return devices.empty() ? nullptr : &devices.front();
}

namespace {

std::string trim(const std::string& s)
{
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos)
    return "";
  std::size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> words(const std::string& s)
{
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

/** Input text quoted in an error: at most 80 characters. */
std::string shown(const std::string& text)
{
  return "\"" + (text.size() > 80 ? text.substr(0, 77) + "..." : text) + "\"";
}

bool identifier_char(char c)
{
  return std::isalnum(static_cast<unsigned char>(c)) or c == '_';
}

/** "k1=v1 k2=a b k3=c" -> {k1: v1, k2: "a b", k3: c}: a value runs to the next " key=". (Scanned by hand: std::regex
 * recurses per character and long lines would exhaust the stack.) */
std::vector<std::pair<std::string, std::string>> key_values(const std::string& s)
{
  struct Key {
    std::size_t start, value;
    std::string name;
  };
  std::vector<Key> keys;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((i > 0 and not std::isspace(static_cast<unsigned char>(s[i - 1]))) or
        not(std::isalpha(static_cast<unsigned char>(s[i])) or s[i] == '_'))
      continue;
    std::size_t j = i;
    while (j < s.size() and identifier_char(s[j]))
      ++j;
    if (j < s.size() and s[j] == '=')
      keys.push_back({i, j + 1, s.substr(i, j - i)});
    i = j;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    std::size_t end = k + 1 < keys.size() ? keys[k + 1].start : s.size();
    out.emplace_back(keys[k].name, trim(s.substr(keys[k].value, end - keys[k].value)));
  }
  return out;
}

/** The active scheduler of "none [mq-deadline] kyber" (the one in brackets), or the only word. */
std::string active_scheduler(const std::string& s)
{
  auto open = s.find('['), close = s.find(']');
  if (open != std::string::npos and close != std::string::npos and close > open)
    return s.substr(open + 1, close - open - 1);
  auto w = words(s);
  return w.size() == 1 ? w[0] : "";
}

const std::vector<std::string> known_sections = {
    "uname", "queue attrs", "mq",      "virtio features", "interrupts",    "lscpu",
    "nproc", "dmi",         "cmdline", "acpi tables",     "block devices", "virtio devices"};

class Parser {
public:
  Parser(GuestFacts& f, const std::string& file) : f_(f), file_(file) {}

  void line(const std::string& raw, std::size_t n)
  {
    n_            = n;
    std::string l = raw;
    if (not l.empty() and l.back() == '\r')
      l.pop_back();
    if (l.rfind("== ", 0) == 0 or l == "==") {
      end_section();
      start_section(trim(l.substr(2)));
      return;
    }
    if (section_ == "interrupts") {
      if (irq_text_.empty())
        irq_first_ = n;
      irq_text_ += l + "\n";
      return;
    }
    if (ignored_)
      return;
    std::string t = trim(l);
    if (t.empty())
      return;
    if (section_.empty())
      key_value_line(t);
    else
      section_line(t);
  }

  void finish()
  {
    end_section();
    merge_unnamed_device();
    for (auto& d : f_.devices) {
      if (not d.hw_queues and not d.queues.empty())
        d.hw_queues = static_cast<int>(d.queues.size());
      // The features of the virtio device under the block device, when only those were captured.
      if (not d.features and not d.device_path.empty())
        for (const auto& v : f_.virtio_devices)
          if (v.features and d.device_path.find("/" + v.name) != std::string::npos)
            d.features = v.features;
    }
  }

private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(file_, "line " + std::to_string(n_), what); }

  long long integer(const std::string& text, const std::string& what, long long min = 0,
                    long long max = 1LL << 40) const
  {
    long long v    = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() or ec != std::errc() or end != text.data() + text.size() or v < min or v > max)
      fail("expected an integer" + std::string(min > 0 ? " >= " + std::to_string(min) : "") + " for " + what +
           ", got " + shown(text));
    return v;
  }

  int int_of(const std::string& text, const std::string& what, int min = 0) const
  {
    return static_cast<int>(integer(text, what, min, 1 << 30));
  }

  GuestBlockDevice& device(const std::string& name)
  {
    for (auto& d : f_.devices)
      if (d.name == name)
        return d;
    f_.devices.push_back({});
    f_.devices.back().name = name;
    return f_.devices.back();
  }

  /** A features string: only '0' and '1'. */
  VirtioFeatures features(const std::string& bits) const
  {
    VirtioFeatures v;
    v.bits = bits;
    for (std::size_t i = 0; i < bits.size(); ++i)
      if (bits[i] == '1')
        v.set.push_back(static_cast<int>(i));
      else if (bits[i] != '0')
        fail("expected the virtio features string (characters 0 and 1, bit i = character i), got " + shown(bits));
    return v;
  }

  std::vector<int> cpu_list(const std::string& text) const
  {
    std::vector<int> cpus;
    std::string t = text;
    std::replace(t.begin(), t.end(), ',', ' ');
    for (const auto& w : words(t)) {
      auto dash = w.find('-');
      if (dash == std::string::npos) {
        cpus.push_back(int_of(w, "a CPU of cpu_list"));
        continue;
      }
      int a = int_of(w.substr(0, dash), "a CPU range of cpu_list");
      int b = int_of(w.substr(dash + 1), "a CPU range of cpu_list");
      if (b < a or b - a > 4096)
        fail("expected a CPU range a-b with a <= b in cpu_list, got " + shown(w));
      for (int c = a; c <= b; ++c)
        cpus.push_back(c);
    }
    return cpus;
  }

  void start_section(const std::string& name)
  {
    section_ = "";
    section_device_.clear();
    ignored_ = true;
    f_.sections.push_back(name);
    for (const auto& k : known_sections)
      if (name == k or name.rfind(k + " ", 0) == 0) {
        section_        = k;
        section_device_ = trim(name.substr(k.size()));
        ignored_        = false;
        break;
      }
    if (ignored_) {
      section_ = name;
      f_.ignored_sections.push_back(name);
    }
  }

  void end_section()
  {
    if (section_ == "interrupts" and not irq_text_.empty()) {
      try {
        f_.interrupts = parse_proc_interrupts(irq_text_, file_);
      } catch (const InputError& e) {
        // Its line numbers count from the first line of the section.
        std::size_t k = 0;
        if (e.where().rfind("line ", 0) == 0)
          std::from_chars(e.where().data() + 5, e.where().data() + e.where().size(), k);
        throw InputError(file_, k ? "line " + std::to_string(irq_first_ + k - 1) : e.where(), e.detail());
      }
    }
    irq_text_.clear();
  }

  void mq_line(const std::string& t)
  {
    // "/sys/block/<dev>/mq/<queue> key=value..."
    std::string path = words(t).front();
    std::string rest = trim(t.substr(path.size()));
    auto mq          = path.find("/mq/", 11);
    if (mq == std::string::npos or mq == 11 or path.find('/', 11) != mq or path.find('/', mq + 4) != std::string::npos)
      fail("expected \"/sys/block/<dev>/mq/<queue> cpu_list=... nr_tags=...\", got " + shown(t));
    std::string dev_name = path.substr(11, mq - 11);
    GuestQueue q;
    q.index = int_of(path.substr(mq + 4), "the hardware queue number");
    for (const auto& [k, v] : key_values(rest)) {
      if (k == "cpu_list") {
        q.cpu_list = v;
        q.cpus     = cpu_list(v);
      } else if (k == "nr_tags") {
        q.nr_tags = int_of(v, "nr_tags", 1);
      } else if (k == "nr_reserved_tags") {
        q.nr_reserved_tags = int_of(v, "nr_reserved_tags");
      }
    }
    device(dev_name).queues.push_back(q);
  }

  /** The labs' guest-info.txt: key=value lines, mq lines, then /proc/interrupts. */
  void key_value_line(const std::string& t)
  {
    if (std::find(f_.sections.begin(), f_.sections.end(), "") == f_.sections.end())
      f_.sections.insert(f_.sections.begin(), "");
    if (t.rfind("/sys/block/", 0) == 0)
      return mq_line(t);
    if (t.rfind("CPU0", 0) == 0) { // the header of /proc/interrupts: the rest of the file
      section_   = "interrupts";
      irq_text_  = t + "\n";
      irq_first_ = n_;
      return;
    }
    if (t.find('=') == std::string::npos)
      return;
    for (const auto& [k, v] : key_values(t)) {
      if (k == "kernel")
        f_.kernel = v;
      else if (k == "nproc")
        f_.vcpus = int_of(v, "nproc", 1);
      else if (k == "nr_hw_queues")
        device("").hw_queues = int_of(v, "nr_hw_queues", 1);
      else if (k == "scheduler") {
        device("").schedulers = v;
        device("").scheduler  = active_scheduler(v);
      } else if (k == "nr_requests")
        device("").nr_requests = int_of(v, "nr_requests", 1);
      else if (k == "size_sectors")
        device("").size_sectors = integer(v, "size_sectors", 0, 1LL << 62);
    }
  }

  void section_line(const std::string& t)
  {
    const std::string& s = section_;
    if (s == "uname") {
      auto w = words(t);
      if (f_.uname.empty()) {
        f_.uname  = t;
        f_.kernel = w.size() >= 3 and w[0] == "Linux" ? w[2] : w.size() == 1 ? w[0] : "";
      }
    } else if (s == "mq") {
      if (t.rfind("/sys/block/", 0) == 0)
        mq_line(t);
      // else the bare queue numbers of `ls mq/`
    } else if (s == "queue attrs") {
      auto colon = t.find(':');
      if (colon == std::string::npos)
        return;
      std::string k = trim(t.substr(0, colon)), v = trim(t.substr(colon + 1));
      GuestBlockDevice& d = device(section_device_);
      d.queue[k]          = v;
      if (k == "nr_requests")
        d.nr_requests = int_of(v, "nr_requests", 1);
      else if (k == "max_segments")
        d.max_segments = int_of(v, "max_segments", 1);
      else if (k == "write_cache")
        d.write_cache = v;
      else if (k == "scheduler") {
        d.schedulers = v;
        d.scheduler  = active_scheduler(v);
      }
    } else if (s == "virtio features") {
      GuestBlockDevice& d = device(section_device_);
      if (t.rfind("set bits", 0) == 0) {
        auto open = t.find('['), close = t.find(']');
        if (open == std::string::npos or close == std::string::npos or close < open)
          fail("expected \"set bits: [2, 6, ...]\", got " + shown(t));
        std::string list = t.substr(open + 1, close - open - 1);
        std::replace(list.begin(), list.end(), ',', ' ');
        std::vector<int> listed;
        for (const auto& w : words(list))
          listed.push_back(int_of(w, "a feature bit of \"set bits\""));
        std::sort(listed.begin(), listed.end());
        if (d.features and listed != d.features->set)
          fail("\"set bits\" does not match the features string above it");
      } else if (not d.features) {
        d.features = features(t);
      } else {
        fail("expected one features string, then \"set bits: [...]\", got " + shown(t));
      }
    } else if (s == "lscpu") {
      auto colon = t.find(':');
      if (colon == std::string::npos)
        return;
      std::string k = trim(t.substr(0, colon)), v = trim(t.substr(colon + 1));
      if (k == "CPU(s)" and not f_.vcpus)
        f_.vcpus = int_of(v, "lscpu CPU(s)", 1);
      else if (k == "Hypervisor vendor")
        f_.hypervisor_vendor = v;
    } else if (s == "nproc") {
      f_.vcpus = int_of(t, "nproc", 1);
    } else if (s == "dmi") {
      f_.dmi_captured = true;
      auto colon      = t.find(':');
      if (colon == std::string::npos)
        return; // "none": no DMI tables
      std::string k = trim(t.substr(0, colon)), v = trim(t.substr(colon + 1));
      if (k == "sys_vendor")
        f_.dmi_sys_vendor = v;
      else if (k == "product_name")
        f_.dmi_product_name = v;
    } else if (s == "cmdline") {
      if (not f_.cmdline)
        f_.cmdline = t;
    } else if (s == "acpi tables") {
      f_.acpi_captured = true;
      auto colon       = t.find(':');
      if (colon == std::string::npos)
        return; // "none"
      AcpiTable a;
      a.name = trim(t.substr(0, colon));
      for (const auto& [k, v] : key_values(t.substr(colon + 1))) {
        if (k == "oem_id")
          a.oem_id = v;
        else if (k == "oem_table_id")
          a.oem_table_id = v;
      }
      f_.acpi_tables.push_back(a);
    } else if (s == "block devices") {
      auto w = words(t);
      if (w.empty()) // only blanks that trim() keeps (a vertical tab, a form feed): nothing named
        return;
      GuestBlockDevice& d = device(w[0]);
      for (const auto& [k, v] : key_values(t.substr(w[0].size()))) {
        if (k == "driver")
          d.driver = v;
        else if (k == "path")
          d.device_path = v;
      }
    } else if (s == "virtio devices") {
      auto w = words(t);
      if (w.empty())
        return;
      VirtioDevice v;
      v.name = w[0];
      for (const auto& [k, val] : key_values(t.substr(v.name.size()))) {
        if (k == "device")
          v.device = val;
        else if (k == "driver")
          v.driver = val;
        else if (k == "path")
          v.path = val;
        else if (k == "features" and not val.empty())
          v.features = features(val);
      }
      f_.virtio_devices.push_back(v);
    }
  }

  /** Sections that name no device (device.txt's "queue attrs", guest-info's scheduler=) are about the main one. */
  void merge_unnamed_device()
  {
    auto unnamed = std::find_if(f_.devices.begin(), f_.devices.end(), [](const auto& d) { return d.name.empty(); });
    if (unnamed == f_.devices.end())
      return;
    GuestBlockDevice* target = nullptr;
    for (auto& d : f_.devices)
      if (not d.name.empty() and (target == nullptr or (target->queues.empty() and not d.queues.empty())))
        target = &d;
    if (target == nullptr)
      return;
    GuestBlockDevice u = *unnamed;
    auto take          = [](auto& to, const auto& from) {
      if (not to)
        to = from;
    };
    take(target->hw_queues, u.hw_queues);
    take(target->nr_requests, u.nr_requests);
    take(target->max_segments, u.max_segments);
    take(target->size_sectors, u.size_sectors);
    take(target->features, u.features);
    if (target->scheduler.empty()) {
      target->scheduler  = u.scheduler;
      target->schedulers = u.schedulers;
    }
    if (target->write_cache.empty())
      target->write_cache = u.write_cache;
    target->queue.insert(u.queue.begin(), u.queue.end());
    if (target->queues.empty())
      target->queues = u.queues;
    f_.devices.erase(std::find_if(f_.devices.begin(), f_.devices.end(), [](const auto& d) { return d.name.empty(); }));
  }

  GuestFacts& f_;
  const std::string& file_;
  std::size_t n_ = 0;
  std::string section_; // "" for the key=value lines before any section
  std::string section_device_;
  bool ignored_ = false;
  std::string irq_text_;
  std::size_t irq_first_ = 0;
};

} // namespace

GuestFacts parse_guest_facts(const std::string& text, const std::string& file)
{
  GuestFacts f;
  f.file = file;
  Parser p(f, file);
  std::istringstream in(text);
  std::string l;
  std::size_t n = 0;
  while (std::getline(in, l))
    p.line(l, ++n);
  p.finish();
  return f;
}

GuestFacts read_guest_facts(const std::string& path)
{
  return parse_guest_facts(read_text_file(path, "guest description (device.txt, guest-info.txt)", 16 * MiB), path);
}

std::optional<std::string> guest_facts_file_for(const std::string& trace_file)
{
  std::error_code ec;
  fs::path p   = fs::absolute(trace_file, ec).lexically_normal();
  fs::path dir = fs::is_directory(p, ec) ? p : p.parent_path();
  if (dir.filename().empty())
    dir = dir.parent_path();
  for (const fs::path& d : {dir, dir.parent_path()})
    for (const char* name : {"device.txt", "guest-info.txt"})
      if (fs::is_regular_file(d / name, ec))
        return (d / name).string();
  return std::nullopt;
}

} // namespace pvsim::readers
