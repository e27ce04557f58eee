/* pvsim: `pvsim calibrate`: fits the parameters of the virtio-blk stack model (job.fio → blk_mq → virtio.blk →
 * qemu.iothread → device.parallel on a guest.vm, or, when the guest description beside the traces shows a
 * Firecracker guest, virtio.blk served by firecracker.vmm: device.json "stack" says which and why) from fio json+
 * results of real runs, and writes them as a versioned
 * JSON file ("device.json") with the scenario fragment they imply. Any mix of rw, engines, depths and job counts is
 * accepted; each run gives what it can, and what nothing could fit is listed under "not_fitted".
 *
 * How each parameter is estimated, per direction (read: read/randread runs and the read side of mixed runs; write
 * likewise):
 * - cpu_per_io: fio's CPU seconds per I/O, (usr_cpu + sys_cpu) / 100 × job_runtime / ios, per run.
 * - submit_cpu (job.fio): the slat mean of the async run (libaio, io_uring...) with the most requests in flight: there
 *   the device is busy, kicks are suppressed (EVENT_IDX) and slat is the submission path alone.
 * - kick_cpu (virtio.blk, the VM exit of a notification): slat mean of the async iodepth-1 runs (every request kicks)
 *   minus submit_cpu. Without a deep run the two cannot be told apart: submit_cpu takes the other direction's,
 *   measured at depth on the same guest (writes with only iodepth-1 runs take the reads'), else job.fio's default,
 *   and the kick takes the rest of the slat (what depth removes; likewise complete_cpu and wakeup_cpu, the rest of
 *   fio's CPU per I/O at iodepth 1).
 * - complete_cpu (job.fio): cpu_per_io − slat at the deepest async run (completions reaped in batches).
 * - wakeup_cpu (job.fio, paid when a completion finds the thread asleep in io_getevents): cpu_per_io − slat −
 *   complete_cpu at iodepth 1,
 *   where every completion is its own interrupt and fio sleeps between them. virtio.blk's restart_cpu (kblockd's
 *   kworker waking up to run a queue stopped on a full ring) gets the same value: this guest's cost of waking a
 *   sleeping thread.
 * - service (device.parallel read_service / write_service): the iodepth-1 runs' clat histograms (json+ bins, merged
 *   over the runs; async engines preferred), each bin shifted down by the model's fixed costs on the completion path
 *   (wakeup_cpu, complete_cpu and the virtio.blk / qemu.iothread costs written in the fragment; for sync engines also
 *   the submission), as an empirical distribution over the bins.
 * - request_cpu (virtio.blk, on the thread that serves the virtqueue): at saturation that one thread (QEMU's
 *   IOThread, Firecracker's VMM thread) is the bottleneck, so 1 / X_sat = its time per request:
 *   request_cpu = 1 / X_sat − iocb_cpu − used_cpu (the other per-request costs of that thread, model defaults), X_sat
 *   the highest mean IOPS of a configuration (its repeats averaged) among the runs with the most requests in flight
 *   (the deepest quarter of the depths offered): not the best repeat, which lies above what the configuration gives
 *   (the shared traces' qd64: 108.6 k best, 102.0 k the mean of five); needs a run with at least 8 requests in
 *   flight. The device itself gets as many channels as tags: on the virtio-vm-1q
 *   traces the block layer's D→C time shows ~10 requests in the device at qd16 while the IOPS curve bends like a
 *   single server's (X(N) = N / (R1 + (N − 1) / X_sat)), not like a device with a few channels.
 * - preemption (cpu.host preempt_rate / preempt_duration, on the vCPUs' pool and the virtqueue thread's): the
 *   iodepth-1 clat above 10x the median are requests whose completion path lost its CPU for a few milliseconds;
 *   rate = their share / the median clat (the time a completion is exposed), per CPU-second of the stack's threads;
 *   durations = latency − median (empirical). Fitted on reads when there are any; the other direction keeps in its
 *   service the share of its tail this rate does not explain. Not fitted when the tail holds more than 1 % of the
 *   latencies (then it is the service's own, as on an emulated host) or fewer than 10. The service distribution
 *   leaves out the tail preemption explains, and request_cpu divides 1 / X_sat by (1 + rate × mean duration).
 * - Baselines (mva, bound interpolation): R1 = 1 / (IOPS per thread at iodepth 1), S = mean service, Z = R1 − S
 *   (think time of MVA), c = round(Xmax × S) (Little's law: MVA's own servers), Xmax = the best saturated run's
 *   IOPS (their first fit, kept: pvsim's choice of the mean does not weaken them).
 * The Firecracker stack differs in two places: the latency the model's CPU costs do not explain becomes the VMM
 * thread's wakeup_latency (the host's page cache serves the requests: no device time), and the VMM thread's CPU per
 * request (request_cpu + sync_io_cpu) comes from the saturated configuration through the pass ping-pong of Firecracker
 * >= 1.13 (one cycle of N requests = N (VMM + guest CPU per request) + the once-per-cycle latencies: direction_fit.cpp
 * fit_vmm), then, when calibrate runs from the pvsim binary, is refined by simulating that configuration a few
 * times, with its repeats' mean load, against their mean IOPS (sync_io_cpu += 1/X_measured - 1/X_simulated). Without a
 * run of 8 or more in flight it keeps the source-based default. The guest (vCPUs, hardware queues, tags) is not in
 * fio's output: it is written as "assumed" (2 vCPUs, 1 queue, 128 tags, the virtio-vm-1q traces' machine) and can be
 * edited in the file. The scenario fragment holds the reads' costs (the writes' when there is no read); with both
 * directions fitted, its "write" entry gives a write-only run the writes' guest CPU costs and, on Firecracker, a
 * write's host time beyond a read's as time the Sync engine's VMM thread is held in the write (firecracker.vmm's
 * sync_write_wait, a sleep in the write syscall after the copy, and the wake-up from it; components_for()); the
 * thread's wake-up latency and CPU per request stay the reads'. The guest's idle-vCPU latencies
 * (guest.vm halt_wake_latency, busy_kick_latency) are measured, not fitted: taken from a vcpu_wake.json beside the
 * traces when the capture wrote one (vcpu_wake.hpp), else 0; the iodepth-1 service is not shifted by the halts and
 * kicks they add (README "Idle vCPUs"). */
#pragma once

#include "analysis/calibration/run_facts.hpp"
#include "sim/json_node.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::calibration {

/** Fits every parameter from the runs; returns the device.json document. Throws InputError when no run has I/O.
 * `stack`: "auto" (the VMM the guest description beside the traces points to, device.json "stack" says why),
 * "qemu" or "firecracker". `fio_loop`: job.fio's loop the stack simulates the runs with, refinement included
 * ("batched", the default, or "fio": README "fio's loop"); written to the scenario fragment when not the default. */
json calibrate(const std::vector<std::string>& trace_files, const std::string& stack = "auto",
               const std::string& fio_loop = "batched");

/** The job.fio loop a device.json's stack simulates (its scenario fragment's fio.loop; "batched" when unset). */
std::string fio_loop_of(const json& device);

/** The pvsim binary calibrate runs to refine its closed forms by simulation: the CLI names itself here, whatever its
 * file is called. Unset (a test binary calling calibrate in-process cannot run a scenario), calibrate says in
 * device.json that it did not refine. */
void set_simulator_exe(const std::string& path);

/** Reads a device.json written by calibrate, checking its format and version (InputError otherwise). */
json read_device_file(const std::string& path);

/** The scenario fragment's components a run of this direction ("read" or "write") is simulated with: the fragment's
 * own (the reads' costs, or the writes' when no read was fitted), with its "write" overrides for a write run when
 * the calibration fitted both directions (the guest's CPU costs and, on Firecracker, the write's host time). */
json components_for(const json& device, const std::string& direction);

/** The scenario (a complete scenario document) that reproduces one run with the calibrated stack. */
json scenario_for_run(const json& device, const RunFacts& run, double duration_s, double warmup_s, std::uint64_t seed);

} // namespace pvsim::calibration
