/* blk_mq with an I/O scheduler (mq-deadline): its tags, where its requests wait, its CPU and its lock. */
#include "tests/support/cli_support.hpp"

using namespace pvsim;

namespace {

json guest(int vcpus, const json& blkmq_extra, const json& fio_extra, const json& nullb_extra,
           const std::string& kernel = "6.18")
{
  json fio = {{"type", "job.fio"},   {"vm", "guest"},         {"numjobs", 1},     {"iodepth", 1},
              {"submit_cpu", "1us"}, {"complete_cpu", "1us"}, {"target", "blkmq"}};
  fio.update(fio_extra);
  json mq = {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "nullb0"}, {"scheduler", "mq-deadline"}};
  mq.update(blkmq_extra);
  json nb = {{"type", "device.null_blk"}, {"completion_latency", "20us"}, {"submit_queues", 1}, {"hw_queue_depth", 64}};
  nb.update(nullb_extra);
  return {{"host", {{"type", "cpu.host"}, {"cores", vcpus}}},
          {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}, {"kernel", kernel}}},
          {"fio", fio},
          {"blkmq", mq},
          {"nullb0", nb}};
}

json run(const json& components)
{
  json doc = {{"name", "sched"}, {"seed", 3}, {"duration_s", 0.02}, {"warmup_s", 0.002}, {"components", components}};
  Simulation sim(scenario_from_json(doc, "sched"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

/** The same through `pvsim run`, for a test that compares several runs (one simulation per process). */
json run_cli(const json& components)
{
  test::TempDir dir;
  json doc = {{"name", "sched"}, {"seed", 3}, {"duration", "20ms"}, {"warmup", "2ms"}, {"components", components}};
  std::string file = dir.write("scenario.json", doc.dump());
  auto r           = test::run_pvsim("run " + file + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(test::read_file(dir.file("out/results.json")));
}

void expect_near_abs(const char* what, double simulated, double expected, double tol)
{
  std::printf("[check] %s: expected %.6g simulated %.6g tolerance ±%.3g\n", what, expected, simulated, tol);
  EXPECT_NEAR(simulated, expected, tol) << what;
}

} // namespace

TEST(BlkMqScheduler, TheKernelChoiceIsMqDeadlineForOneHardwareQueueAndNoneForSeveral)
{
  json one = run_cli(guest(4, {{"scheduler", "kernel"}}, json::object(), json::object()));
  EXPECT_EQ(one["components"]["blkmq"]["scheduler"], "mq-deadline");
  json four = run_cli(guest(4, {{"scheduler", "kernel"}}, json::object(), {{"submit_queues", 4}}));
  EXPECT_EQ(four["components"]["blkmq"]["scheduler"], "none");
  json old = run_cli(guest(4, {{"scheduler", "kernel"}}, json::object(), json::object(), "4.9"));
  EXPECT_EQ(old["components"]["blkmq"]["scheduler"], "none"); // blk-mq had no scheduler before 4.11
  json unset = guest(4, json::object(), json::object(), json::object());
  unset["blkmq"].erase("scheduler");
  EXPECT_EQ(run_cli(unset)["components"]["blkmq"]["scheduler"], "none"); // pvsim's default (README)
}

TEST(BlkMqScheduler, ARequestTakesOneOfNrRequestsSchedulerTags)
{
  // blk_mq_init_sched(): 2 x min(queue depth, 128) scheduler tags; the driver's 64 tags limit what it holds.
  json r = run_cli(guest(1, json::object(), json::object(), json::object()));
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"][0]["nr_tags"], 128);
  json set = run_cli(guest(1, {{"nr_requests", 32}}, json::object(), json::object()));
  EXPECT_EQ(set["components"]["blkmq"]["hw_queues"][0]["nr_tags"], 32);
}

TEST(BlkMqScheduler, RequestsBeyondTheDriverTagsWaitInTheSchedulerNotForATag)
{
  // One job 96 deep on a device of 16 tags and 20 us: 2 x min(16, 128) = 32 scheduler tags, so 16 requests in the
  // device, 16 in mq-deadline and 64 waiting for a scheduler tag (no CPU for sleeping on it here).
  json r  = run(guest(1, {{"tag_sleep_cpu", "0us"}, {"tag_wake_cpu", "0us"}},
                      {{"iodepth", 96}, {"submit_cpu", "0.1us"}, {"complete_cpu", "0.1us"}}, {{"hw_queue_depth", 16}}));
  auto dd = r["components"]["blkmq"]["mq_deadline"];
  EXPECT_EQ(dd["queued_peak"].get<int>(), 16);
  EXPECT_GT(r["components"]["blkmq"]["hw_queues"][0]["tag_waits"].get<int>(), 0);
  // The device is full but for each request's dispatch from the scheduler on the vCPU (0.3 us and the wait for the
  // vCPU): about 16 / 20 us. By Little's law a request waits 16 / X in the scheduler.
  double x = r["jobs"]["fio"]["iops"].get<double>();
  expect_near_abs("IOPS = 16 tags / (20 us + the dispatch)", x, 16 / 20e-6, 0.05 * 16 / 20e-6);
  EXPECT_LT(x, 16 / 20e-6);
  expect_near_abs("mean wait in mq-deadline (us) = 16 / X", dd["wait_mean_us"].get<double>(), 16 / x * 1e6, 1.5);
}

TEST(BlkMqScheduler, InsertAndDispatchAddTheirCpuToEveryRequestOnOneVcpu)
{
  // One job at iodepth 1 on one vCPU: the request path is serial, and the scheduler adds dd_insert_cpu and
  // dd_dispatch_cpu (the tree never changes hands: no line transfers) to each request's latency.
  json none = run_cli(guest(1, {{"scheduler", "none"}}, json::object(), json::object()));
  json dd =
      run_cli(guest(1, {{"dd_insert_cpu", "0.5us"}, {"dd_dispatch_cpu", "0.7us"}}, json::object(), json::object()));
  double l0 = none["jobs"]["fio"]["latency_us"]["mean"].get<double>();
  double l1 = dd["jobs"]["fio"]["latency_us"]["mean"].get<double>();
  expect_near_abs("latency added by mq-deadline (us) = 0.5 + 0.7", l1 - l0, 1.2, 0.01);
}

TEST(BlkMqScheduler, JobsOnSeveralVcpusMeetOnTheSchedulersLock)
{
  // One hardware queue, one dd->lock: one job never finds it held; eight jobs on eight vCPUs do, and its word and
  // data move between their cores.
  json fio       = {{"iodepth", 4}, {"submit_cpu", "0.2us"}, {"complete_cpu", "0.2us"}};
  json one       = run_cli(guest(8, {{"dd_insert_cpu", "1us"}}, fio, json::object()));
  fio["numjobs"] = 8;
  json many      = run_cli(guest(8, {{"dd_insert_cpu", "1us"}}, fio, json::object()));
  auto lock1     = one["components"]["blkmq"]["mq_deadline"]["dd_lock"];
  auto lock8     = many["components"]["blkmq"]["mq_deadline"]["dd_lock"];
  EXPECT_EQ(lock1["contended"].get<int>(), 0);
  EXPECT_GT(lock8["contended"].get<double>(), 0.05 * lock8["acquisitions"].get<double>());
  EXPECT_GT(lock8["line_transfers"].get<double>(), 0);
}

TEST(BlkMqScheduler, AStoppedVirtqueueLeavesTheRestInTheScheduler)
{
  // virtio-blk with 16 descriptors and no indirect ones (8 tags): 5 requests fill the ring, the queue stops
  // (blk_mq_stop_hw_queue) and every other request waits in mq-deadline, not in the driver; kblockd's run of the
  // restarted queue dispatches them. Every request is accounted for (run() checks conservation).
  json c = guest(2, {{"nr_requests", 64}}, {{"iodepth", 32}}, json::object());
  c.erase("nullb0");
  c["blkmq"]["target"] = "vda";
  c["iot"]             = {{"type", "qemu.iothread"}, {"cpus", "host"}, {"aio", "native"}};
  c["vda"]             = {{"type", "virtio.blk"}, {"vm", "guest"},          {"target", "disk"}, {"iothread", "iot"},
                          {"queue_size", 16},     {"indirect_desc", false}, {"num_queues", 1}};
  c["disk"] = {{"type", "device.parallel"}, {"channels", 64}, {"read_service", "50us"}, {"write_service", "50us"}};
  c["host"]["cores"] = 3;
  json r             = run(c);
  auto vq            = r["components"]["vda"]["virtqueues"][0];
  EXPECT_GT(vq["queue_stops"].get<int>(), 0);
  EXPECT_GT(vq["queue_restarts"].get<int>(), 0);
  auto dd = r["components"]["blkmq"]["mq_deadline"];
  EXPECT_GE(dd["queued_peak"].get<int>(), 32 - 5 - 1); // what the ring and hctx->dispatch do not hold
  EXPECT_GT(r["jobs"]["fio"]["iops"].get<double>(), 0);
}
