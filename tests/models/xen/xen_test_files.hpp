/* Test support for the Xen protocol layer: where the xen-lab-tcg dumps and the synthetic netif dumps live, reading
 * them, splitting and wrapping their lines as terminals do, damaging a tree one node at a time, and catching the
 * error a reading throws. */
#pragma once

#include "models/xen/xenstore_dump.hpp"
#include "sim/input_error.hpp"

#include <cstddef>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

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

/** The lines of `text`, without their '\n' (a last line without one included). */
inline std::vector<std::string> lines_of(const std::string& text)
{
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos)
      nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

/** `text` as a terminal `columns` wide shows it: each line cut into pieces of `columns` characters, every piece
 * ended by `line_end`. */
inline std::string wrapped_at(const std::string& text, std::size_t columns, const std::string& line_end)
{
  std::string wrapped;
  for (const std::string& line : lines_of(text))
    for (std::size_t i = 0; i < line.size(); i += columns)
      wrapped += line.substr(i, columns) + line_end;
  return wrapped;
}

/** Calls `check(damaged, path)` with a copy of `tree` in which the node `path` was removed, then with one in which
 * its value was replaced by "garbage", for every node but those whose path is a prefix of `kept` (`kept` itself and
 * its ancestors, which must exist). */
template <typename Check>
void for_each_single_node_damage(const XenStore& tree, const std::string& kept, Check&& check)
{
  for (const std::string& line : lines_of(tree.ls_f())) {
    std::string path = line.substr(0, line.find(' '));
    if (kept.rfind(path, 0) == 0)
      continue;
    XenStore removed = tree;
    removed.remove(path);
    check(removed, path);
    XenStore garbled = tree;
    garbled.write(path, "garbage");
    check(garbled, path);
  }
}

/** The pvsim::InputError that `read()` throws; nullopt when it throws none. */
template <typename Read>
std::optional<pvsim::InputError> input_error_of(Read&& read)
{
  try {
    read();
  } catch (const pvsim::InputError& e) {
    return e;
  }
  return std::nullopt;
}

} // namespace pvsim::xen::test
