/* pvsim: reading a whole input file at once, for the readers that parse their file in one piece (internal).
 *
 * Models: nothing of the formats; the bytes of the file, unchanged (binary mode: no line-end translation).
 * Leaves out: compressed files (GzLineReader in fio_log.hpp reads those line by line). */
#pragma once

#include "sim/input_error.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace pvsim::readers {

/** The content of `path`; pvsim::InputError(path, "", "cannot open the <what>") when it cannot be opened. */
inline std::string read_text_file(const std::string& path, const std::string& what)
{
  std::ifstream in(path, std::ios::binary);
  if (not in)
    throw InputError(path, "", "cannot open the " + what);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace pvsim::readers
