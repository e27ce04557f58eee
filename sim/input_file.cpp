#include "sim/input_file.hpp"

#include "sim/input_error.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace pvsim {

namespace {
std::string size_text(std::uint64_t bytes)
{
  char buf[32];
  if (bytes >= 1024 * MiB)
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * MiB));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / MiB);
  return buf;
}
} // namespace

std::string read_input_text(const std::string& path, const std::string& what, std::uint64_t max_bytes)
{
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec or not fs::exists(status))
    throw InputError(path, "", "cannot open the " + what + ": no such file");
  if (not fs::is_regular_file(status))
    throw InputError(path, "", "expected the " + what + " as a regular file (this is a directory or a device)");
  std::uint64_t size = fs::file_size(path, ec);
  if (not ec and size > max_bytes)
    throw InputError(path, "",
                     "the " + what + " is " + size_text(size) + ", more than the " + size_text(max_bytes) +
                         " pvsim reads whole: is it the right file?");
  std::ifstream in(path, std::ios::binary);
  if (not in)
    throw InputError(path, "", "cannot open the " + what);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto nul         = std::string_view(text).substr(0, 64 * 1024).find('\0');
  if (nul != std::string_view::npos)
    throw InputError(path, "byte " + std::to_string(nul), "the " + what + " looks binary (a NUL byte); expected text");
  return text;
}

} // namespace pvsim
