/* qemu.migration on the real virtio-blk stack (issue 19, part 2): the drain at the stop on a deterministic device,
 * the depth cap before it, every request kept across the pause, a misspelt policy refused, the guest frozen while
 * stopped. The guest: 2 vCPUs, fio with `iodepth` reads per job (2 jobs), one virtio.blk disk on one IOThread, a
 * device.parallel of `channels` channels and a fixed service time. The migration sends `ram` at 1 GiB/s from
 * `start` (20 ms): with no background dirtying and reads into 1 MiB of buffers it converges after the first iteration,
 * so the stop comes at start + ram / bandwidth. */
#include "models/qemu/qemu_migration.hpp"
#include "sim/simulation.hpp"
#include "tests/support/cli_support.hpp"

#include <cmath>

using namespace pvsim;

namespace {
constexpr double service_s = 0.010;
constexpr int channels     = 4;
constexpr double gib       = 1024.0 * 1024 * 1024;

struct MigrationSetup {
  int iodepth     = 32;
  json migration  = json::object();
  double duration = 0.5;
};

json scenario(const MigrationSetup& s)
{
  json mig = {{"type", "qemu.migration"},  {"vm", "guest"},        {"disks", {"vda"}},    {"start", "20ms"},
              {"ram_bytes", 0.1855 * gib}, // the stop at 205.5 ms: mid-way through a 10 ms service round
              {"max_bandwidth", "1GiB/s"}, {"io_buffers", "1MiB"}, {"device_state", "0B"}};
  mig.update(s.migration);
  json comps = {{"host", {{"type", "cpu.host"}, {"cores", 2}}},
                {"iohost", {{"type", "cpu.host"}, {"cores", 1}}},
                {"guest", {{"type", "guest.vm"}, {"vcpus", 2}, {"pcpus", "host"}}},
                {"fio",
                 {{"type", "job.fio"},
                  {"vm", "guest"},
                  {"numjobs", 2},
                  {"iodepth", s.iodepth},
                  {"rw", "randread"},
                  {"target", "blkmq"}}},
                {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vda"}}},
                {"vda", {{"type", "virtio.blk"}, {"vm", "guest"}, {"target", "disk"}, {"iothread", "iot0"}}},
                {"iot0", {{"type", "qemu.iothread"}, {"cpus", "iohost"}, {"aio", "native"}}},
                {"disk", {{"type", "device.parallel"}, {"channels", channels}, {"read_service", "10ms"}}},
                {"mig", mig}};
  return {{"name", "migration"}, {"seed", 1}, {"duration_s", s.duration}, {"warmup_s", 0}, {"components", comps}};
}

/** Runs the scenario; the migration's results. */
json run(const MigrationSetup& s)
{
  Simulation sim(scenario_from_json(scenario(s), "migration"));
  json r = sim.run();
  require_conservation(r);
  EXPECT_FALSE(r["liveness"]["stalled"].get<bool>());
  return r["components"]["mig"];
}

/** The one migration of a run, which must have resumed. */
json only_migration(const json& mig)
{
  EXPECT_EQ(mig["migrations"].size(), 1u) << mig.dump(1);
  json m = mig["migrations"][0];
  EXPECT_EQ(m["state"], "done") << m.dump(1);
  return m;
}
} // namespace

TEST(QemuMigrationDrain, WithoutAPolicyTheDrainTakesTheRoundsOfEveryRequestInFlight)
{
  // 64 requests on 4 channels of 10 ms: all 64 in QEMU at the stop (a closed loop on a saturated device). The channels
  // started together at ~0 and serve in rounds of 10 ms, so at the stop (205.5 ms) the round in service has run
  // 5.5 ms: the drain is ceil(d/p) x s less that, within the stack's microseconds.
  MigrationSetup s;
  json m           = only_migration(run(s));
  auto d           = m["in_flight_at_stop"].get<std::uint64_t>();
  double run       = std::fmod(m["stop_s"].get<double>(), service_s);
  double expected  = std::ceil(static_cast<double>(d) / channels) * service_s - run;
  double tolerance = 200e-6;
  std::cout << "drain of " << d << " requests on " << channels << " channels of 10 ms, stop " << run * 1e3
            << " ms into a round: expected " << expected * 1e3 << " ms +- " << tolerance * 1e3 << ", got "
            << m["drain_s"].get<double>() * 1e3 << " ms\n";
  EXPECT_EQ(d, 64u);
  EXPECT_EQ(m["held_in_avail_at_stop"], 0u);
  EXPECT_NEAR(m["drain_s"].get<double>(), expected, tolerance);
  // no RAM left to send but what the guest dirtied: the downtime is the drain plus that transfer
  EXPECT_NEAR(m["downtime_s"].get<double>(), m["drain_s"].get<double>() + m["transfer_s"].get<double>(), 1e-12);
}

TEST(QemuMigrationDrain, DepthCapKeepsInFlightAtTheStopUnderTheCapAndBoundsTheDrain)
{
  MigrationSetup s;
  s.migration  = {{"policy", "depth-cap"}, {"cap", 8}, {"lead", "180ms"}};
  json m       = only_migration(run(s));
  auto d       = m["in_flight_at_stop"].get<std::uint64_t>();
  double bound = std::ceil(8.0 / channels) * service_s + 200e-6;
  std::cout << "depth-cap 8: " << d << " in flight at the stop, " << m["held_in_avail_at_stop"]
            << " held in the avail ring; drain " << m["drain_s"].get<double>() * 1e3 << " ms, bound ceil(8/4) x 10 ms "
            << "(+0.2 ms) = " << bound * 1e3 << " ms\n";
  EXPECT_LE(d, 8u);
  EXPECT_GT(m["held_in_avail_at_stop"].get<std::uint64_t>(), 0u);
  EXPECT_LE(m["drain_s"].get<double>(), bound);
  EXPECT_LE(m["downtime_s"].get<double>(), bound + m["transfer_s"].get<double>());
}

TEST(QemuMigrationDrain, DeadlineKeepsTheDrainWithinItsBudget)
{
  MigrationSetup s;
  s.migration = {{"policy", "deadline"}, {"budget", "25ms"}, {"lead", "180ms"}, {"window", 9}};
  json m      = only_migration(run(s));
  // 9 completions in rounds of 4 span two rounds: the measured gap is s / p = 2.5 ms, so at most 10 in flight (10 x
  // 2.5 ms = the budget), drained in ceil(10/4) rounds less the part of the round already served: under budget + s
  double bound = 25e-3 + service_s;
  std::cout << "deadline 25 ms: " << m["in_flight_at_stop"] << " in flight at the stop, drain "
            << m["drain_s"].get<double>() * 1e3 << " ms, bound budget + one service " << bound * 1e3 << " ms\n";
  EXPECT_LE(m["in_flight_at_stop"].get<std::uint64_t>(), 10u);
  EXPECT_LE(m["drain_s"].get<double>(), bound);
}

TEST(QemuMigration, EveryRequestIsKeptAcrossThePause)
{
  MigrationSetup s;
  s.migration    = {{"policy", "depth-cap"}, {"cap", 4}, {"lead", "180ms"}};
  json mig       = run(s);
  json m         = only_migration(mig);
  json a         = mig["accounting"];
  auto in_flight = a["in_flight_at_end"]["driver"].get<std::uint64_t>() +
                   a["in_flight_at_end"]["avail_ring"].get<std::uint64_t>() +
                   a["in_flight_at_end"]["qemu"].get<std::uint64_t>();
  std::cout << "submitted " << a["submitted"] << " = source " << a["completed_source"] << " + destination "
            << a["completed_destination"] << " + in flight " << in_flight << "\n";
  EXPECT_TRUE(a["ok"].get<bool>());
  EXPECT_EQ(a["submitted"].get<std::uint64_t>(),
            a["completed_source"].get<std::uint64_t>() + a["completed_destination"].get<std::uint64_t>() + in_flight);
  // the requests held in the avail ring at the stop were served on the destination
  EXPECT_GT(m["held_in_avail_at_stop"].get<std::uint64_t>(), 0u);
  EXPECT_GE(m["completed_destination"].get<std::uint64_t>(), m["held_in_avail_at_stop"].get<std::uint64_t>());
  EXPECT_EQ(m["completed_source"], a["completed_source"]);
}

TEST(QemuMigration, AMisspeltPolicyIsAnInputErrorNamingItsPath)
{
  pvsim::test::TempDir dir;
  MigrationSetup s;
  s.migration = {{"policy", "depth-capp"}};
  auto f      = dir.write("s.json", scenario(s).dump());
  auto r      = pvsim::test::run_pvsim("run -q " + f + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/mig/policy"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'depth-cap'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/results.json")));
}

TEST(QemuMigration, TheGuestRunsNothingWhileStopped)
{
  // The drain completes 64 requests during the downtime: their interrupts wait on the held vCPUs. Once the vCPUs
  // have left the batch they were running at the stop, the guest neither takes a completion nor submits.
  MigrationSetup s;
  json m = only_migration(run(s));
  std::cout << m["in_flight_at_stop"] << " requests completed in a downtime of " << m["downtime_s"].get<double>() * 1e3
            << " ms; vCPUs paused " << m["vcpus_paused_after_s"].get<double>() * 1e6 << " us after the stop; guest "
            << "events during the downtime: " << m["guest_events_in_downtime"] << "\n";
  EXPECT_GT(m["in_flight_at_stop"].get<std::uint64_t>(), 0u);
  EXPECT_LE(m["vcpus_paused_after_s"].get<double>(), 100e-6);
  EXPECT_EQ(m["guest_events_in_downtime"], 0u);
  // after the resume the guest takes them: the destination completes requests
  EXPECT_GT(m["completed_destination"].get<std::uint64_t>(), 0u);
}

TEST(QemuMigration, CountMigrationsFollowEachOtherEveryApartOrAtOnce)
{
  // Two migrations 250 ms apart: the first resumes at ~361 ms, after its 154 ms drain, so the second starts then (its
  // planned start, 270 ms, has passed); each one stops the guest, drains and resumes, and no request is lost.
  MigrationSetup s;
  s.migration = {{"count", 2}, {"every", "250ms"}};
  s.duration  = 0.8;
  json mig    = run(s);
  ASSERT_EQ(mig["migrations"].size(), 2u) << mig.dump(1);
  json first = mig["migrations"][0], second = mig["migrations"][1];
  std::cout << "migration 0: " << first["start_s"] << " .. " << first["resume_s"]
            << " s; migration 1: " << second["start_s"] << " .. " << second["resume_s"] << " s\n";
  EXPECT_EQ(first["state"], "done");
  EXPECT_EQ(second["state"], "done");
  EXPECT_GT(first["resume_s"].get<double>(), 0.27);
  EXPECT_DOUBLE_EQ(second["start_s"].get<double>(), first["resume_s"].get<double>());
  EXPECT_EQ(second["guest_events_in_downtime"], 0u);
  EXPECT_TRUE(mig["accounting"]["ok"].get<bool>());
  // the first's destination phase is the second's source phase, up to the second's resume
  EXPECT_EQ(first["completed_destination"], second["completed_source"]);
}
