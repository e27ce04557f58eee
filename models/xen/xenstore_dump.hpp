/* pvsim: `xenstore-ls -f` dumps of a XenStore tree: printing and parsing them.
 *
 * Models: the output of tools/xs-clients/xenstore_client.c (do_ls with -f, sanitise_value): one
 * `<full path> = "<sanitised value>"` line per node, depth first, values cut to the terminal's width; parsing undoes
 * it (unsanitise_value) and copes with what terminals and captures do to long lines.
 * Leaves out: the listing without -f (indented names), permissions (parsed from `-p` output and dropped). */
#pragma once

#include "models/xen/xenstore.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen {

/** xenstore-ls' sanitise_value(): printable ASCII other than '\' as it is, else \t \n \r \\, \ooo below 010 and
 * \xHH for the rest. Note that '"' is printed as it is. */
std::string sanitise_value(std::string_view raw);
/** xenstore-write's unsanitise_value(): the inverse, plus `\<c>` for any other c giving c (so `\"` is '"'). */
std::string unsanitise_value(std::string_view printed);

/** One problem met while parsing a dump; parsing goes on. `line` counts from 1. */
struct DumpWarning {
  std::size_t line;
  std::string what;
};

/** A parsed `xenstore-ls -f` capture. */
struct XenStoreDump {
  XenStore tree;
  /** The paths the listings started below, in the order met: a dump of `xenstore-ls -f /local/domain/0/backend/vbd`
   * followed by one of `/local/domain/1/device/vbd` has these two roots. */
  std::vector<std::string> roots;
  std::vector<DumpWarning> warnings;
  /** Number of physical lines that were joined to a previous one (terminal wrapping). */
  std::size_t joined_lines = 0;

  /** The dump as xenstore-ls printed it: ls_f(root) for each root. Equal to the input for an undamaged capture. */
  std::string print(const LsOptions& options = {}) const;
};

/** Parses `xenstore-ls -f` output (also with -p permissions). Tolerates CRLF line ends, blank lines, stray lines
 * (shell prompts, console noise: skipped with a warning), lines wrapped by a narrow terminal (joined back: a
 * physical line as long as the longest one that does not end an entry continues on the next line), values cut by
 * xenstore-ls itself (`\..."`, kept as truncated), unreadable nodes (`path:`), a last line cut by the capture, and
 * escaped or unescaped quotes inside values. Never throws for bad content. */
XenStoreDump parse_xenstore_ls_f(std::string_view text);

/** Reads a dump file. Throws pvsim::InputError when the file cannot be read. */
XenStoreDump read_xenstore_ls_f_file(const std::string& file_name);

} // namespace pvsim::xen
