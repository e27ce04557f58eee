/* vcpu_wake: how long a CPU of this machine takes to run a woken thread, by how long it was idle and whether another
 * task kept it busy. Run inside a guest, it measures what guest.vm's idle-vCPU parameters stand for (README "Idle
 * vCPUs"): a thread pinned to CPU A wakes a thread blocked in a futex on CPU B after B has been idle for D us, and
 * spins until B answers; the time from the wake to the answer, over many rounds, for several D. Idle for less than
 * the host's halt-poll window, B's vCPU is still polled by KVM and answers fast; idle longer, its host thread blocked
 * and the host must wake it (halted). With a SCHED_IDLE spinner on B, B never halts: the woken thread preempts the
 * spinner at once, and what is left is the cost of interrupting a running vCPU (busy).
 * Prints JSON: each point's percentiles, and the differences guest.vm takes: halt_wake_latency = halted - polled,
 * busy_kick_latency = busy - polled (medians).
 * Self-contained (C++17, pthreads, Linux futex) so that capture.sh can build it on the machine it measures:
 *   c++ -O2 -pthread -o vcpu_wake vcpu_wake.cpp
 * Usage: vcpu_wake [--cpus A,B] [--rounds N] [--idle-us D1,D2,...] [--busy-idle-us D1,...]
 * Exit status 2 on bad arguments or when the two CPUs cannot be used. */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<int> go{0};
std::atomic<int> answered{0};
std::atomic<bool> stop_spin{false};

double now_us()
{
  using namespace std::chrono;
  return duration<double, std::micro>(steady_clock::now().time_since_epoch()).count();
}

bool pin(int cpu)
{
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return pthread_setaffinity_np(pthread_self(), sizeof s, &s) == 0;
}

long futex(std::atomic<int>* addr, int op, int val)
{
  return syscall(SYS_futex, reinterpret_cast<int*>(addr), op, val, nullptr, nullptr, 0);
}

/** The woken side: blocks until `go` changes, answers with its value; -1 ends it. */
void responder(int cpu)
{
  pin(cpu);
  int seen = 0;
  for (;;) {
    int v;
    while ((v = go.load()) == seen)
      futex(&go, FUTEX_WAIT_PRIVATE, seen);
    seen = v;
    if (v < 0)
      return;
    answered.store(v);
  }
}

/** A task that takes the CPU only when nothing else wants it (SCHED_IDLE): keeps the vCPU from halting. */
void idle_spinner(int cpu)
{
  pin(cpu);
  sched_param p{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &p);
  while (not stop_spin.load(std::memory_order_relaxed)) {
  }
}

struct Point {
  double idle_us;
  bool busy;
  std::vector<double> lat;
  double pct(double q) const { return lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))]; }
  double mean() const
  {
    double s = 0;
    for (double x : lat)
      s += x;
    return s / lat.size();
  }
};

int round_no = 0;

Point measure(double idle_us, bool busy, int rounds, int cpu_b)
{
  std::thread spinner;
  if (busy) {
    stop_spin = false;
    spinner   = std::thread(idle_spinner, cpu_b);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Point p{idle_us, busy, {}};
  p.lat.reserve(rounds);
  for (int i = 0; i < rounds + rounds / 10; ++i) { // the first tenth warms the host's poll window up, not counted
    double t0 = now_us();
    while (now_us() - t0 < idle_us) {
    }
    int v     = ++round_no;
    double t1 = now_us();
    go.store(v);
    futex(&go, FUTEX_WAKE_PRIVATE, 1);
    while (answered.load() != v) {
    }
    if (i >= rounds / 10)
      p.lat.push_back(now_us() - t1);
  }
  if (busy) {
    stop_spin = true;
    spinner.join();
  }
  std::sort(p.lat.begin(), p.lat.end());
  return p;
}

std::vector<double> parse_list(const std::string& s)
{
  std::vector<double> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find(',', i);
    if (j == std::string::npos)
      j = s.size();
    std::string item = s.substr(i, j - i);
    char* end        = nullptr;
    double v         = std::strtod(item.c_str(), &end);
    if (item.empty() or *end != '\0' or v < 0 or v > 1e6)
      return {};
    out.push_back(v);
    i = j + 1;
  }
  return out;
}

int usage(const char* msg)
{
  std::fprintf(stderr,
               "vcpu_wake: %s\nUsage: vcpu_wake [--cpus A,B] [--rounds N] [--idle-us D1,D2,...] "
               "[--busy-idle-us D1,...]\n",
               msg);
  return 2;
}

} // namespace

int main(int argc, char** argv)
{
  int cpu_a = 0, cpu_b = 1, rounds = 2000;
  std::vector<double> idle = {20, 50, 100, 150, 250, 400, 1000};
  std::vector<double> busy = {50, 400};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return usage(("option " + a + " needs a value (or is unknown)").c_str());
    std::string v = argv[++i];
    if (a == "--cpus") {
      auto l = parse_list(v);
      if (l.size() != 2 or l[0] == l[1])
        return usage("--cpus takes two different CPU numbers, e.g. 0,1");
      cpu_a = static_cast<int>(l[0]);
      cpu_b = static_cast<int>(l[1]);
    } else if (a == "--rounds") {
      rounds = std::atoi(v.c_str());
      if (rounds < 10 or rounds > 10000000)
        return usage("--rounds takes a number from 10 to 10000000");
    } else if (a == "--idle-us" or a == "--busy-idle-us") {
      auto l = parse_list(v);
      if (l.empty())
        return usage((a + " takes a comma-separated list of microseconds (0 to 1e6)").c_str());
      (a == "--idle-us" ? idle : busy) = l;
    } else {
      return usage(("unknown option " + a).c_str());
    }
  }
  if (not pin(cpu_a)) {
    std::fprintf(stderr, "vcpu_wake: cannot run on CPU %d (this machine has %u CPUs)\n", cpu_a,
                 std::thread::hardware_concurrency());
    return 2;
  }
  {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu_b, &s);
    if (sched_setaffinity(0, sizeof s, &s) != 0 or not pin(cpu_a)) { // probe cpu_b from this thread, then back
      std::fprintf(stderr, "vcpu_wake: cannot run on CPU %d (this machine has %u CPUs)\n", cpu_b,
                   std::thread::hardware_concurrency());
      return 2;
    }
  }
  std::sort(idle.begin(), idle.end());
  std::thread responder_thread(responder, cpu_b);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<Point> points;
  for (double d : idle)
    points.push_back(measure(d, false, rounds, cpu_b));
  for (double d : busy)
    points.push_back(measure(d, true, rounds, cpu_b));
  go.store(-1);
  futex(&go, FUTEX_WAKE_PRIVATE, 1);
  responder_thread.join();

  // polled: the shortest idle's median; halted: the median of the medians of the idle times past the poll window (the
  // points closer to the longest idle's median than to the shortest's); busy: the busy points' median of medians.
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  double polled = points.front().pct(0.5);
  double mid    = (polled + points[idle.size() - 1].pct(0.5)) / 2;
  std::vector<double> slow, busy_p50;
  for (std::size_t i = 0; i < idle.size(); ++i)
    if (points[i].pct(0.5) >= mid)
      slow.push_back(points[i].pct(0.5));
  for (std::size_t i = idle.size(); i < points.size(); ++i)
    busy_p50.push_back(points[i].pct(0.5));
  double halted = median_of(slow);
  std::printf("{\n  \"tool\": \"pvsim vcpu_wake\",\n  \"version\": 1,\n  \"cpus\": [%d, %d],\n  \"rounds\": %d,\n",
              cpu_a, cpu_b, rounds);
  std::printf("  \"points\": [\n");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    std::printf("    {\"idle_us\": %.1f, \"busy\": %s, \"mean_us\": %.2f, \"p10_us\": %.2f, \"p50_us\": %.2f, "
                "\"p90_us\": %.2f, \"p99_us\": %.2f}%s\n",
                p.idle_us, p.busy ? "true" : "false", p.mean(), p.pct(0.1), p.pct(0.5), p.pct(0.9), p.pct(0.99),
                i + 1 < points.size() ? "," : "");
  }
  std::printf("  ],\n");
  // The poll window: between the last idle time answered fast and the first answered slow (null when there is none).
  auto us = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return std::string(b);
  };
  std::string below = "null", above = "null";
  for (std::size_t i = 0; i < idle.size(); ++i) {
    if (points[i].pct(0.5) >= mid) {
      above = us(points[i].idle_us);
      break;
    }
    below = us(points[i].idle_us);
  }
  std::printf("  \"polled_us\": %.2f,\n  \"halted_us\": %.2f,\n", polled, halted);
  if (not busy_p50.empty())
    std::printf("  \"busy_us\": %.2f,\n", median_of(busy_p50));
  std::printf("  \"poll_window_us\": [%s, %s],\n", below.c_str(), above.c_str());
  std::printf("  \"halt_wake_latency_us\": %.2f,\n", std::max(0.0, halted - polled));
  std::printf("  \"busy_kick_latency_us\": %.2f\n}\n",
              busy_p50.empty() ? 0.0 : std::max(0.0, median_of(busy_p50) - polled));
  return 0;
}
