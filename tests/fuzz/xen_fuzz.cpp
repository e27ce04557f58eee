/* Fuzz target of the XenStore dump reader: a `xenstore-ls -f` capture parsed, then read as devices by
 * `pvsim from-xenstore` (the blkif and netif keys, their consistency). Seeds: the dumps of the tests and of ../shared.
 */
#include "analysis/xen/xen_tools.hpp"
#include "models/xen/xenstore_dump.hpp"
#include "tests/fuzz/fuzz_target.hpp"

using namespace pvsim;
using pvsim::fuzz::expect_clean;

PVSIM_FUZZ_TARGET(xenstore_dump, "tests/data/xen:.txt", "shared/traces:xenstore")
{
  expect_clean([&] { xen::parse_xenstore_ls_f(input); });
  std::string path = fuzz::scratch_file(input, ".xenstore.txt");
  expect_clean([&] { from_xenstore(path, std::nullopt); });
}
