/* Test support: where the xen-lab-tcg dumps and the synthetic netif dumps live, and reading them. */
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pvsim::xen::test {

inline std::string lab_dump_path(const std::string& run)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/xen-lab-tcg/" + run + "/xenstore-ls-f.txt";
}

inline std::string data_path(const std::string& name)
{
  return std::string(PVSIM_SOURCE_DIR) + "/tests/data/xen/" + name;
}

inline std::string read_text(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (not in)
    throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace pvsim::xen::test
