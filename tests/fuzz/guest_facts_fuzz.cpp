/* Fuzz target of the guest description reader (analysis/readers/guest_facts.hpp) and of VMM detection on what it
 * read. Seeds: the real device.txt and the labs' guest-info.txt of ../shared/traces. */
#include "analysis/calibration/vmm_detect.hpp"
#include "analysis/readers/guest_facts.hpp"
#include "tests/fuzz/fuzz_target.hpp"

using namespace pvsim;
using pvsim::fuzz::expect_clean;

PVSIM_FUZZ_TARGET(guest_facts, "shared/traces:device.txt", "shared/traces:guest-info.txt")
{
  expect_clean([&] { calibration::detect_vmm(readers::parse_guest_facts(std::string(input), "fuzz-device.txt")); });
}
