/* pvsim: the XenStore key tree, as C xenstored keeps it and as `xenstore-ls -f` prints it.
 *
 * Models: a tree of nodes, each with a value (any bytes) and its children in creation order (C xenstored appends a
 * new child to its parent's list and keeps its place when the value is rewritten; the xen-lab-tcg dumps show exactly
 * that order). A write creates missing ancestors with an empty value; a remove takes the whole subtree. Printing
 * follows tools/xs-clients/xenstore_client.c (do_ls, sanitise_value), parsing undoes it (unsanitise_value) and copes
 * with what terminals and captures do to long lines.
 * Leaves out: permissions (parsed from `-p` output and dropped), transactions, watches, quotas, relative paths. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen {

/** Options of the `xenstore-ls -f` printer. */
struct LsOptions {
  /** xenstore-ls' max_width: unlimited when stdout is not a terminal (INT_MAX/2 with -f), else the terminal's
   * columns minus 2. A value longer than max_width - 8 is cut to max_width - 8 sanitised characters and ends in
   * `\...` (do_ls, TAG " = \"...\""). */
  std::size_t max_width = SIZE_MAX / 4;
};

class XenStore {
public:
  XenStore();
  ~XenStore();
  XenStore(const XenStore& other);
  XenStore& operator=(const XenStore& other);
  XenStore(XenStore&&) noexcept;
  XenStore& operator=(XenStore&&) noexcept;

  /** True for an absolute xenstored path: "/" or "/a/b" made of [A-Za-z0-9_@-] components (xenstored's
   * is_valid_nodename), without empty components or a trailing slash. */
  static bool is_valid_path(std::string_view path);

  /** Writes `value` at `path`, creating missing ancestors with "" (xenstored create_node). Rewriting a node keeps
   * its place among its siblings. Throws pvsim::InputError for an invalid path. */
  void write(std::string_view path, std::string_view value);
  /** Creates the node with "" if it does not exist (xs_mkdir); an existing node is left as it is. */
  void mkdir(std::string_view path);
  /** The value, or nullopt when the node does not exist (or its value was unreadable in a parsed dump). */
  std::optional<std::string> read(std::string_view path) const;
  /** Like Linux xenbus_read_unsigned(): the value scanned as "%u" (leading blanks, decimal digits, anything after
   * them ignored), or `default_value` when the node is missing or does not start with a number. */
  unsigned long long read_unsigned(std::string_view path, unsigned long long default_value) const;
  /** Same without a default: nullopt when missing or not a number. */
  std::optional<unsigned long long> scan_unsigned(std::string_view path) const;
  bool exists(std::string_view path) const;
  /** Names of the children, in xenstored's order (xs_directory); empty when the node does not exist. */
  std::vector<std::string> list(std::string_view path) const;
  /** Removes the node and its subtree (xs_rm). False when it did not exist. The root cannot be removed. */
  bool remove(std::string_view path);
  /** Number of nodes, the root excluded. */
  std::size_t size() const;

  /** What `xenstore-ls -f <path>` prints: one `<full path> = "<sanitised value>"` line per node below `path`
   * (not `path` itself), depth first, children in xenstored's order. "" when `path` does not exist. */
  std::string ls_f(std::string_view path = "/", const LsOptions& options = {}) const;

  /** Marks a node as seen only through a damaged dump line: its value was cut (`\...`) or unreadable (`path:`).
   * The printer reproduces such lines as they were. Used by the dump parser. */
  void mark_truncated(std::string_view path, std::string printed_prefix);
  void mark_unreadable(std::string_view path);
  /** True when the node's value is known only partly (cut by xenstore-ls or by the capture). */
  bool is_truncated(std::string_view path) const;

  struct Node; // implementation detail, public only for the printer in xenstore.cpp

private:
  const Node* find(std::string_view path) const;
  Node* find(std::string_view path);
  Node* find_or_create(std::string_view path);

  std::unique_ptr<Node> root_;
};

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

/** How a reader of a negotiated tree (blkif, netif) treats an inconsistent one. Strict: an error. Lenient: read as a
 * single queue, with a note saying why. */
enum class ExtractMode { strict, lenient };

} // namespace pvsim::xen
