/* pvsim model "qemu.migration": live migration of a KVM guest with QEMU's pre-copy, on the guest's real virtio-blk
 * stack (issue 19, part 2), with a bounded drain of its disks at the switchover (drain_policy.hpp).
 *
 * Models, migration by migration (`count` of them, `every` apart from `start`):
 * - Pre-copy iterations (migration_precopy.hpp, QEMU 8.2-9.x): the first sends all RAM, each next one what the guest
 *   dirtied while the previous one was sent: a background rate over a bounded working set, plus the DMA of the disks'
 *   reads into guest RAM (bytes read per second by the disks' requests, measured on the simulated stack during the
 *   iteration, bounded by the guest's I/O buffers). An iteration of `pending` bytes takes pending / max_bandwidth of
 *   simulated time. The switchover follows the iteration after which pending <= max_bandwidth x downtime_limit
 *   (migration/migration.c migration_iteration_run, threshold_size from migration_update_counters), or the
 *   max_iterations-th (a pvsim bound). QEMU's downtime estimate: (pending + device state) / bandwidth.
 * - The planned stop: at the start of each iteration the migration predicts from the last measured rates whether the
 *   iteration will be the last; if so the stop is planned at its end, and the drain policy gates the disks from
 *   `lead` before it (or from the iteration's start when it is shorter). Gating: each disk's device handler
 *   (virtio_blk_handle_vq on its IOThread) pops a request from the avail ring only when the disk's policy admits it
 *   (VirtioBlkGate); the others stay in the avail ring. One policy per disk (a cap is per disk).
 * - The switchover (system/cpus.c do_vm_stop, called from migration_completion -> migration_stop_vm ->
 *   vm_stop_force_state): pause_all_vcpus() (every vCPU of `vm` held: it takes no new work; the stop is complete when
 *   none is still running a batch), vm_state_notify() (the virtio-blk dataplane stops: no handler pops any more),
 *   bdrv_drain_all() (waits until no request of the disks is in QEMU: IOThread, AIO engine or backing device), then
 *   the rest of RAM and the device state over the bandwidth. Completions meanwhile reach the used ring and raise
 *   their interrupt, which waits on the held vCPU.
 * - Resume on the destination: the same components (shared storage): the vCPUs are released, the handlers run again
 *   and pop what stayed in the avail ring. Downtime = resume - stop (QEMU's s->downtime, from the vm_stop).
 * Per migration (results.json, components.<name>.migrations): QEMU's estimated downtime, the real one, the drain,
 * requests in flight in QEMU and held in the avail ring at the stop, completions in the lead window against the same
 * length before it, completions on the source and on the destination, guest work seen during the downtime.
 * Leaves out: the stop-and-copy's own CPU cost, the post-copy phase, a migration thread competing for the host's
 * CPUs, bdrv_flush_all (a flush per disk after the drain: not modelled), the time of vm_start on the destination, a
 * different device or network on the destination (shared storage, the same components), dirty-rate changes inside an
 * iteration (the check is per iteration: QEMU checks pending after every chunk and syncs the bitmap near the
 * threshold, so it may stop earlier within the last iteration). */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/qemu/drain_policy.hpp"
#include "models/qemu/migration_precopy.hpp"
#include "models/virtio/virtio_blk.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace pvsim {

struct QemuMigrationParams {
  std::string vm;
  std::vector<std::string> disks;
  double start_s;
  long long count;
  double every_s;
  double ram_bytes;
  double max_bandwidth_Bps;
  double downtime_limit_s;
  double dirty_rate_Bps;
  double working_set_bytes;
  double io_buffers_bytes;
  long long max_iterations;
  double device_state_bytes;
  std::string policy;
  double lead_s;
  long long cap;
  double budget_s;
  double gap_estimate_s;
  long long window;
};

class QemuMigration : public Component {
public:
  static constexpr const char* type_name = "qemu.migration";
  static constexpr const char* summary =
      "QEMU live migration of a guest: pre-copy iterations, then vm_stop, the disks' drain (bounded by a drain "
      "policy), the stop-and-copy and the resume on the destination (shared storage).";
  using Params = QemuMigrationParams;
  static const ParamTable<Params>& param_table();

  QemuMigration(std::string name, const Params& p);
  bool accepts_requests() const override { return false; }
  void connect() override;
  void validate() override;
  void start(Simulation& sim) override;
  void on_event(int kind, Request* r) override;

  /** One migration, as reported. */
  struct Record {
    double start_s          = 0;
    int iterations          = 0;
    double sent_bytes       = 0;
    bool converged          = false;
    double io_read_rate_Bps = 0;                                       // measured in the last iteration
    double planned_stop_s   = std::numeric_limits<double>::infinity(); // when the policy's lead began counting
    double throttle_from_s  = std::numeric_limits<double>::infinity(); // the policy's window opened
    double stop_s = -1, paused_s = -1, drained_s = -1, resume_s = -1;
    double pending_bytes            = 0;
    double estimated_downtime_s     = 0;
    std::uint64_t in_flight_at_stop = 0, held_in_avail_at_stop = 0, in_driver_at_stop = 0;
    std::uint64_t completed_in_lead = 0, completed_before_lead = 0;
    std::uint64_t completed_at_stop = 0, completed_at_resume = 0; // the run's completions by then
    std::uint64_t guest_events_in_downtime = 0; // submissions and completions the guest handled while paused
  };
  const std::vector<Record>& migrations() const { return records_; }

private:
  /** One disk under migration: its drain policy and what the migration counts of its requests. */
  class DiskGate final : public VirtioBlkGate {
  public:
    DiskGate(QemuMigration& m, VirtioBlk& disk, std::unique_ptr<DrainPolicy> policy)
        : m_(m), disk_(disk), policy_(std::move(policy))
    {
    }
    bool admit(const VirtioBlk& disk, std::uint64_t in_qemu) override;
    void submitted(const VirtioBlk& disk, const Request& r) override;
    void completed(const VirtioBlk& disk, const Request& r, std::uint64_t in_qemu) override;
    void delivered(const VirtioBlk& disk, const Request& r) override;
    VirtioBlk& disk() { return disk_; }

  private:
    QemuMigration& m_;
    VirtioBlk& disk_;
    std::unique_ptr<DrainPolicy> policy_;
  };
  enum Kind { begin = 0, iteration_end = 1, check_paused = 2, resume = 3 };
  double now() const;
  void start_iteration();
  void stop_vm();
  void drained();
  std::uint64_t in_qemu() const;
  json report() const;

  Params p_;
  PrecopyParams precopy_;
  GuestVm* vm_     = nullptr;
  Simulation* sim_ = nullptr;
  std::vector<std::unique_ptr<DiskGate>> gates_;
  std::vector<Record> records_;
  // the migration in progress
  enum class Phase { idle, precopy, stopped, transfer } phase_ = Phase::idle;
  double pending_                                              = 0;
  double iteration_s_                                          = 0;
  double read_mark_                                            = 0; // read bytes at the start of the measuring period
  double read_mark_s_                                          = 0;
  double io_rate_Bps_                                          = 0; // last measured rate of the disks' reads
  double planned_stop_                                         = std::numeric_limits<double>::infinity();
  // counts over the whole run (not restarted by the warm-up: the records are the run's)
  std::uint64_t submitted_ = 0, completed_ = 0, delivered_ = 0;
  double read_bytes_          = 0;
  double reads_in_guest_      = 0; // read bytes submitted and not yet taken back by the guest
  double peak_reads_in_guest_ = 0;
  std::deque<double> completion_times_; // the last 2 x lead seconds of completions
};

} // namespace pvsim
