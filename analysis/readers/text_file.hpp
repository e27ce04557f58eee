/* pvsim: reading a whole input file at once, for the readers that parse their file in one piece (internal).
 *
 * Models: nothing of the formats; the bytes of the file, unchanged (binary mode: no line-end translation).
 * Leaves out: compressed files (GzLineReader in fio_log.hpp reads those line by line). */
#pragma once

#include "sim/input_error.hpp"
#include "sim/input_file.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace pvsim::readers {

/** The content of `path`; pvsim::InputError(path, "", ...) when it cannot be opened, is not a regular file, is larger
 * than `max_bytes` (default 512 MiB: fio json+ results with every histogram are tens of MB) or looks binary. */
inline std::string read_text_file(const std::string& path, const std::string& what, std::uint64_t max_bytes = 512 * MiB)
{
  return read_input_text(path, what, max_bytes);
}

} // namespace pvsim::readers
