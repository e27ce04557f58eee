#include "tests/fuzz/fuzz_target.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace pvsim::fuzz {

std::string scratch_dir()
{
  static const std::string dir = [] {
    std::filesystem::path shm("/dev/shm");
    return (std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path()).string();
  }();
  return dir;
}

std::string scratch_file(std::string_view input, const std::string& suffix)
{
  std::string path = scratch_dir() + "/pvsim-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(input.data(), static_cast<std::streamsize>(input.size()));
  return path;
}

} // namespace pvsim::fuzz
