/* pvsim: Linux /proc/interrupts snapshots, and the per-queue interrupts of paravirtual devices found in them.
 *
 * A snapshot is the header of CPU columns ("CPU0 CPU1 ...") and one line per interrupt: its number or name ("26:",
 * "NMI:"), one count per CPU, then the chip and the action names ("xen-dyn-lateeoi -event blkif",
 * "PCI-MSI 65537-edge virtio0-req.0"). Lines with fewer counts than CPUs (ERR:, MIS:) are kept with what they have.
 * Excerpts without the header (a grep of some lines) are accepted: the first line's counts give the CPU count.
 * Two snapshots of one boot give, per interrupt, the interrupts each CPU took in between: the vCPU a queue's event
 * channel or MSI-X vector is bound to is the one that took them.
 *
 * Queue interrupts recognised (per device, in queue order):
 * - xen-blkfront: action "blkif" (Linux 6.1 names every ring's channel so; later kernels "<disk>-<queue>"), one
 *   per ring, allocated in ring order, so ascending interrupt numbers are queues 0, 1, ...
 * - virtio-blk: "virtio<N>-req.<q>" (vp_find_vqs_msix names vectors after the virtqueues "req.<q>").
 * - xen-netfront: "vif<handle>-q<q>-tx" and "-rx" (split channels), or "vif<handle>-q<q>" (one shared channel):
 *   netfront names its queues after the vif's handle ("vif%s-q%u"), not after the network interface.
 * Left out: the other lines' meaning (timers, IPIs...), and interrupts that moved between CPUs during a run are
 * reported as bound to the CPU that took most of them, with the share it took. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::readers {

struct IrqLine {
  std::string irq;                  // "26", "NMI"
  std::vector<std::uint64_t> count; // per CPU (may be shorter than the CPU count for ERR:/MIS:)
  std::string chip;                 // the text between the counts and the action name ("xen-dyn-lateeoi -event")
  std::string action;               // the last word: "blkif", "virtio0-req.1", "eth0-q0-tx"
  std::uint64_t total() const;
};

struct ProcInterrupts {
  std::string file;
  int cpus = 0;
  std::vector<IrqLine> lines;
  const IrqLine* find(const std::string& irq) const;
};

/** Parses /proc/interrupts text; `file` names it in errors (InputError with the line number). */
ProcInterrupts parse_proc_interrupts(const std::string& text, const std::string& file);
/** Reads and parses a file (InputError when it cannot be read or is not /proc/interrupts). */
ProcInterrupts read_proc_interrupts(const std::string& path);

/** One queue's interrupt: which line, and where its interrupts went between two snapshots (or since boot). */
struct QueueIrq {
  int queue = 0;
  std::string irq;
  std::string action;
  std::string direction;         // "" for block devices; "tx", "rx" or "txrx" (shared channel) for netfront
  int bound_cpu            = -1; // the CPU that took most interrupts; -1 when none was taken
  double bound_share       = 0;  // its share of them (1: all on one CPU)
  std::uint64_t interrupts = 0;
};

/** The per-queue interrupts of a device kind ("xen-blkfront", "virtio-blk", "xen-netfront") in `after`, counted
 * from `before` when given (the same boot: same lines). `name` selects the device when the kernel names it
 * (virtio: "virtio0"; netfront: "vif0"); otherwise (empty, or not present) the only one, or, when there are several
 * (and `ambiguous` is set), the one that took the most interrupts: the device the runs kept busy. */
std::vector<QueueIrq> queue_irqs(const std::string& kind, const ProcInterrupts& after, const ProcInterrupts* before,
                                 const std::string& name = "", bool* ambiguous = nullptr);

} // namespace pvsim::readers
