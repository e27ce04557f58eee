/* Fuzz target of the bundle reader (`pvsim validate --bundle`, `pvsim detect DIR`): a manifest.json written into a
 * scratch bundle directory and read as a bundle, then what validate and detect derive from it (the guest of each run,
 * the structure check, the VMM guess). Files the manifest names must exist in the directory (only manifest.json and a
 * few empty folders do), so most mutations stop there with a clean error; the seeds' own shapes get further. Seeds:
 * the manifests of the test bundles and of the real runs. */
#include "analysis/calibration/bundle.hpp"
#include "analysis/calibration/bundle_structure.hpp"
#include "analysis/calibration/vmm_detect.hpp"
#include "tests/fuzz/fuzz_target.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace pvsim;
using pvsim::fuzz::expect_clean;

namespace {
/** The scratch bundle directory of this process, with the folders a capture writes; removed at exit. */
struct ScratchBundle {
  std::string dir;
  ScratchBundle()
  {
    auto d = std::filesystem::path(fuzz::scratch_dir()) / ("pvsim-fuzz-bundle-" + std::to_string(::getpid()));
    for (const char* sub : {"fio", "interrupts", "logs", "sysfs", "system"})
      std::filesystem::create_directories(d / sub);
    dir = d.string();
  }
  ~ScratchBundle()
  {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const std::string& bundle_dir()
{
  static const ScratchBundle scratch;
  return scratch.dir;
}
} // namespace

PVSIM_FUZZ_TARGET(bundle, "tests/data:manifest.json")
{
  std::ofstream(bundle_dir() + "/manifest.json", std::ios::binary | std::ios::trunc)
      .write(input.data(), static_cast<std::streamsize>(input.size()));
  expect_clean([&] {
    bundle::Bundle b = bundle::read_bundle(bundle_dir());
    std::vector<std::string> notes;
    for (const auto& run : b.runs)
      bundle::guest_for_run(b, run, nlohmann::json::object(), notes);
    bundle::check_structure(b);
    calibration::detect_vmm(b);
  });
}
