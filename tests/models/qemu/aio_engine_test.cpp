/* QEMU's AIO engines: in-flight limits and the requests that wait for them, batching per system call, the thread
 * pool's workers, one queue shared by every disk of an AioContext, conservation. */
#include "models/qemu/aio_engine.hpp"
#include "tests/support/cli_support.hpp"

using namespace pvsim;

namespace {
/** `disks` virtio-blk disks of one guest, each with its own fio job and its own device (device.parallel: `channels`
 * requests at once, `service` each), served by `iothreads` IOThreads (disk i on iothread i mod iothreads). */
struct AioSetup {
  int disks = 1, iothreads = 1, numjobs = 4, iodepth = 16, channels = 256;
  std::string service = "100us";
  json iothread       = json::object();
};

json components(const AioSetup& s)
{
  int vcpus = 4 * s.disks;
  json c    = {{"host", {{"type", "cpu.host"}, {"cores", vcpus}}},
               {"iohost", {{"type", "cpu.host"}, {"cores", s.iothreads}}},
               {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}}};
  for (int i = 0; i < s.iothreads; ++i) {
    json t = {{"type", "qemu.iothread"}, {"cpus", "iohost"}, {"aio", "native"}};
    t.update(s.iothread);
    c["iot" + std::to_string(i)] = t;
  }
  for (int d = 0; d < s.disks; ++d) {
    std::string n  = std::to_string(d);
    c["fio" + n]   = {{"type", "job.fio"},
                      {"vm", "guest"},
                      {"numjobs", s.numjobs},
                      {"iodepth", s.iodepth},
                      {"cpus_allowed", std::to_string(4 * d) + "-" + std::to_string(4 * d + 3)},
                      {"submit_cpu", "1us"},
                      {"complete_cpu", "1us"},
                      {"target", "blkmq" + n}};
    c["blkmq" + n] = {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vd" + n}};
    c["vd" + n]    = {{"type", "virtio.blk"},
                      {"vm", "guest"},
                      {"target", "disk" + n},
                      {"num_queues", 1},
                      {"iothread", "iot" + std::to_string(d % s.iothreads)}};
    c["disk" + n]  = {{"type", "device.parallel"}, {"channels", s.channels}, {"read_service", s.service}};
  }
  return c;
}

json run(const AioSetup& s, double duration = 0.02)
{
  json doc = {
      {"name", "aio"}, {"seed", 3}, {"duration_s", duration}, {"warmup_s", 0.004}, {"components", components(s)}};
  Simulation sim(scenario_from_json(doc, "aio"));
  json r = sim.run();
  require_conservation(r);
  EXPECT_FALSE(r["liveness"]["stalled"].get<bool>());
  return r;
}

json engine(const json& r, const std::string& iothread = "iot0")
{
  return r["components"][iothread]["engine"];
}

int largest_batch(const json& e)
{
  int m = 0;
  for (auto& [n, count] : e["batches"].items())
    m = std::max(m, std::stoi(n));
  return m;
}

double total_iops(const json& r, int disks)
{
  double sum = 0;
  for (int d = 0; d < disks; ++d)
    sum += r["jobs"]["fio" + std::to_string(d)]["iops"].get<double>();
  return sum;
}
} // namespace

TEST(AioEngine, TheRegistryHasQemusThreeEngines)
{
  EXPECT_EQ(aio_engine_names(), (std::vector<std::string>{"io_uring", "native", "threads"}));
  EXPECT_NE(aio_engine_summary("native").find("io_submit"), std::string::npos);
}

TEST(AioEngine, NativeKeepsAtMostMaxEventsInFlightAndTheRestWaitsInPending)
{
  AioSetup s;
  s.iothread = {{"max_events", 16}};
  json e     = engine(run(s));
  EXPECT_EQ(e["max_in_flight"], 16);
  EXPECT_GT(e["waited"].get<int>(), 0);
  EXPECT_GT(e["mean_in_flight"].get<double>(), 15.0);
}

TEST(AioEngine, NativeWithEnoughEventsNeverMakesARequestWait)
{
  AioSetup s; // 64 requests outstanding, 1024 events
  json e = engine(run(s));
  EXPECT_EQ(e["waited"], 0);
  EXPECT_EQ(e["max_in_flight"], 64);
}

TEST(AioEngine, NativeSubmitsAtMostAioMaxBatchIocbsPerIoSubmitInAHandlerPass)
{
  AioSetup s;
  s.service  = "20us";
  s.iothread = {{"aio_max_batch", 4}};
  json e     = engine(run(s));
  EXPECT_EQ(largest_batch(e), 4);
  // The iocbs submitted are the batch histogram's total: at most 4 per io_submit.
  double iocbs = 0;
  for (auto& [n, count] : e["batches"].items())
    iocbs += std::stod(n) * count.get<double>();
  EXPECT_GE(e["syscalls"].get<double>(), iocbs / 4);
}

TEST(AioEngine, NativeBatchesTheRequestsOfAHandlerPassIntoOneIoSubmit)
{
  AioSetup s;
  s.service = "20us";
  json e    = engine(run(s));
  EXPECT_GT(largest_batch(e), 4);
  EXPECT_GT(e["mean_batch"].get<double>(), 2.0);
  EXPECT_LT(e["syscalls"].get<double>(), e["completions_reaped"].get<double>() / 2);
}

TEST(AioEngine, NativeMakesOneIoSubmitPerRequestWhenRequestsComeOneByOne)
{
  AioSetup s;
  s.numjobs = 1;
  s.iodepth = 1;
  json e    = engine(run(s));
  EXPECT_EQ(e["batches"].size(), 1u);
  EXPECT_GT(e["batches"]["1"].get<int>(), 100);
}

TEST(AioEngine, ThreadPoolRunsAtMostMaxThreadsWorkersAtOnce)
{
  AioSetup s;
  s.iothread = {{"aio", "threads"}, {"max_threads", 8}};
  json e     = engine(run(s));
  EXPECT_EQ(e["max_busy_threads"], 8);
  EXPECT_GT(e["waited"].get<int>(), 0);
  EXPECT_EQ(e["mean_batch"].get<double>(), 1.0); // one preadv per request
}

TEST(AioEngine, ThreadPoolHandOffCostsAWorkerWakeUp)
{
  // One request at a time: thread_pool_submit_aio (1.5 us), the idle worker's wake-up (5 us), half its CPU (2 us)
  // before the 100 us I/O.
  AioSetup s;
  s.numjobs  = 1;
  s.iodepth  = 1;
  s.iothread = {{"aio", "threads"}};
  json r     = run(s);
  EXPECT_NEAR(r["queues"]["iot0.aio"]["response_us"]["mean"].get<double>(), 1.5 + 5 + 2 + 100, 0.01);
  EXPECT_EQ(engine(r)["worker_wakeups"], engine(r)["completions_reaped"]);
}

TEST(AioEngine, IoUringSubmitsAtMostRingEntriesPerEnterButDoesNotCapInFlight)
{
  AioSetup s;
  s.service  = "20us";
  s.iothread = {{"aio", "io_uring"}, {"ring_entries", 8}};
  json e     = engine(run(s));
  EXPECT_EQ(largest_batch(e), 8);
  EXPECT_GT(e["max_in_flight"].get<int>(), 8);
  // Nothing waits to be submitted; what waits is completions beyond the CQ ring's 16 (the kernel's overflow list).
  EXPECT_EQ(e["waited"], e["cq_overflows"]);
}

TEST(AioEngine, DisksOfOneAioContextShareItsQueue)
{
  // Four disks, 64 requests outstanding each, on one AioContext whose io_setup allows 16: 16 in flight in all, at
  // 1 ms each (and a little more: an event is held until its completion is reaped).
  AioSetup s;
  s.disks    = 4;
  s.service  = "1ms";
  s.iothread = {{"max_events", 16}};
  json r     = run(s, 0.05);
  EXPECT_EQ(r["components"]["iot0"]["disks"].size(), 4u);
  EXPECT_EQ(engine(r)["max_in_flight"], 16);
  EXPECT_GT(engine(r)["mean_in_flight"].get<double>(), 15.5);
  EXPECT_LE(total_iops(r, 4), 16 / 1e-3);
  EXPECT_GT(total_iops(r, 4), 0.9 * 16 / 1e-3);
}

TEST(AioEngine, EachAioContextHasItsOwnQueue)
{
  AioSetup s;
  s.disks     = 4;
  s.iothreads = 4;
  s.service   = "1ms";
  s.iothread  = {{"max_events", 16}};
  json r      = run(s, 0.05);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(engine(r, "iot" + std::to_string(i))["max_in_flight"], 16);
  EXPECT_LE(total_iops(r, 4), 4 * 16 / 1e-3);
  EXPECT_GT(total_iops(r, 4), 0.9 * 4 * 16 / 1e-3);
}

TEST(AioEngine, EveryEngineAccountsForItsRequests)
{
  AioSetup s;
  s.disks              = 3;
  s.iothreads          = 3;
  s.service            = "200us"; // longer than a submission cycle: every engine ends the run with requests in flight
  json comps           = components(s);
  comps["iot1"]["aio"] = "threads";
  comps["iot2"]["aio"] = "io_uring";
  json doc = {{"name", "aio"}, {"seed", 3}, {"duration_s", 0.0105}, {"warmup_s", 0.002}, {"components", comps}};
  Simulation sim(scenario_from_json(doc, "aio"));
  json r = sim.run();
  for (const char* q : {"iot0.aio", "iot1.aio", "iot2.aio"}) {
    EXPECT_TRUE(r["conservation"]["components"][q]["ok"].get<bool>()) << q;
    EXPECT_GT(r["conservation"]["components"][q]["in_flight"].get<int>(), 0) << q;
  }
  EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

TEST(AioEngine, AnUnknownEngineIsBadInput)
{
  pvsim::test::TempDir dir;
  AioSetup s;
  s.iothread = {{"aio", "nativ"}};
  auto f     = dir.write("s.json", json{{"duration", "1ms"}, {"components", components(s)}}.dump());
  auto r     = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/iot0/aio"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'native'"), std::string::npos) << r.output;
}

TEST(IoThread, ASleepingIothreadIsWokenOnceForTheKickAndOnceForTheCompletion)
{
  AioSetup s;
  s.numjobs       = 1;
  s.iodepth       = 1;
  json r          = run(s);
  double requests = r["queues"]["iot0.aio"]["requests"].get<double>();
  EXPECT_NEAR(r["components"]["iot0"]["wakeups"].get<double>(), 2 * requests, 2);
}

TEST(IoThread, WorkArrivingWhileItRunsNeedsNoWakeUp)
{
  AioSetup s;
  s.service = "5us";
  json r    = run(s);
  EXPECT_LT(r["components"]["iot0"]["wakeups"].get<double>(), 0.1 * r["queues"]["iot0.aio"]["requests"].get<double>());
}

TEST(IoThread, ItsCpuPerRequestIsTheHandlerTheEngineAndTheCompletion)
{
  // One request at a time, aio=native: wake-up for the kick (2), virtio_blk_handle_request (1.5), io_submit with one
  // iocb (1 + 1), wake-up for the io_event (2), reaping (0.5), virtqueue_push (0.6), the irqfd write (1). Without
  // adaptive polling (its CPU and the wake-ups it saves: qemu_iothread_test.cpp).
  AioSetup s;
  s.numjobs  = 1;
  s.iodepth  = 1;
  s.iothread = {{"poll_max", "0s"}};
  json r     = run(s);
  double cpu_per_request =
      r["components"]["iot0"]["utilization"].get<double>() / r["queues"]["iot0.aio"]["iops"].get<double>();
  EXPECT_NEAR(cpu_per_request * 1e6, 2 + 1.5 + 2 + 2 + 0.5 + 0.6 + 1, 0.05);
}
