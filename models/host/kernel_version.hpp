/* pvsim: the Linux version a guest (or dom0) runs, as a scenario choice (guest.vm's "kernel"). Defaults that
 * changed across kernels read it and follow that version's source (the blk-mq default map: blk_mq_map_eras.cpp;
 * virtio-blk's map by transport: virtio_blk.cpp; Xen frontends' event-channel placement: evtchn_placement.hpp).
 * Supported: 3.13 (blk-mq's first release) to 6.18 (the recorded Firecracker guest of ../shared/traces). */
#pragma once

#include <string>
#include <vector>

namespace pvsim {

struct KernelVersion {
  int major = 6;
  int minor = 18;
  bool before(int maj, int min) const { return major < maj or (major == maj and minor < min); }
};

/** Every supported version, oldest first ("3.13", ..., "6.18"). */
const std::vector<std::string>& supported_kernels();
/** "6.1" -> {6, 1}; only for a supported version (std::invalid_argument otherwise). */
KernelVersion parse_kernel(const std::string& text);

} // namespace pvsim
