/* pvsim: the XenStore key tree, as C xenstored keeps it.
 *
 * Models: a tree of nodes, each with a value (any bytes) and its children in creation order (C xenstored appends a
 * new child to its parent's list and keeps its place when the value is rewritten; the xen-lab-tcg dumps show exactly
 * that order). A write creates missing ancestors with an empty value (create_node); a remove takes the whole subtree.
 * Reads follow the Linux xenbus helpers (xenbus_read_unsigned()). The `xenstore-ls -f` printer and the marks a parsed
 * dump leaves on nodes are declared here, as members, and defined with the dump parser in xenstore_dump.cpp.
 * Leaves out: permissions, transactions, watches, quotas, relative paths. */
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

  struct Node; // xenstore_node.hpp; public only for the printer in xenstore_dump.cpp

private:
  const Node* find(std::string_view path) const;
  Node* find(std::string_view path);
  Node* find_or_create(std::string_view path);

  std::unique_ptr<Node> root_;
};

/** How a reader of a negotiated tree (blkif, netif) treats an inconsistent one. Strict: an error. Lenient: read as a
 * single queue, with a note saying why. */
enum class ExtractMode { strict, lenient };

} // namespace pvsim::xen
