#include "models/xen/xenstore_dump.hpp"

#include "sim/input_file.hpp"

#include "models/xen/xenstore_node.hpp"
#include "models/xen/xenstore_path.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace pvsim::xen {

using detail::is_at_or_below;
using detail::is_path_char;
using detail::parent_of;
using detail::split_at;

void XenStore::mark_truncated(std::string_view path, std::string printed_prefix)
{
  Node* node           = find_or_create(path);
  node->shown          = Node::Shown::truncated;
  node->value          = unsanitise_value(printed_prefix);
  node->printed_prefix = std::move(printed_prefix);
}

void XenStore::mark_unreadable(std::string_view path)
{
  Node* node  = find_or_create(path);
  node->shown = Node::Shown::unreadable;
  node->value.clear();
  node->printed_prefix.clear();
}

bool XenStore::is_truncated(std::string_view path) const
{
  const Node* node = find(path);
  return node != nullptr && node->shown == Node::Shown::truncated;
}

namespace {

void print_node(const XenStore::Node& node, const std::string& full_path, const LsOptions& options, std::string& out);

void print_children(const XenStore::Node& node, const std::string& path, const LsOptions& options, std::string& out)
{
  for (auto const& c : node.children)
    print_node(*c, detail::child_path(path, c->name), options, out);
}

constexpr std::size_t tag_len = 8; // strlen(" = \"...\"") in xenstore_client.c

void print_node(const XenStore::Node& node, const std::string& full_path, const LsOptions& options, std::string& out)
{
  // With -f, do_ls prints the whole path and keeps the line width counter at 0, so only the value is ever cut.
  out += full_path;
  switch (node.shown) {
  case XenStore::Node::Shown::unreadable:
    out += ":\n";
    break;
  case XenStore::Node::Shown::truncated:
    out += " = \"" + node.printed_prefix + "\\...\"\n";
    break;
  case XenStore::Node::Shown::full: {
    std::string shown = sanitise_value(node.value);
    if (options.max_width < node.value.size() + tag_len) {
      // printf("%.*s", max_width - TAG_LEN, ...): a negative precision prints everything.
      std::size_t keep = options.max_width >= tag_len ? options.max_width - tag_len : shown.size();
      out += " = \"" + shown.substr(0, keep) + "\\...\"\n";
    } else {
      out += " = \"" + shown + "\"\n";
    }
    break;
  }
  }
  print_children(node, full_path, options, out);
}

} // namespace

std::string XenStore::ls_f(std::string_view path, const LsOptions& options) const
{
  std::string out;
  if (const Node* node = find(path))
    print_children(*node, std::string(path), options, out);
  return out;
}

std::string sanitise_value(std::string_view raw)
{
  static const char* const hex = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= ' ' && c <= '~' && c != '\\') {
      out += ch;
      continue;
    }
    out += '\\';
    switch (c) {
    case '\t':
      out += 't';
      break;
    case '\n':
      out += 'n';
      break;
    case '\r':
      out += 'r';
      break;
    case '\\':
      out += '\\';
      break;
    default:
      if (c < 010) { // three octal digits
        out += '0';
        out += '0';
        out += static_cast<char>('0' + c);
      } else {
        out += 'x';
        out += hex[c >> 4];
        out += hex[c & 0xf];
      }
    }
  }
  return out;
}

std::string unsanitise_value(std::string_view printed)
{
  auto hex_digit = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(printed.size());
  for (std::size_t i = 0; i < printed.size(); ++i) {
    char c = printed[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= printed.size())
      break; // a lone trailing backslash stands for nothing
    c = printed[i];
    switch (c) {
    case 't':
      out += '\t';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 'x': { // up to two hex digits
      int value = 0;
      int n     = 0;
      while (n < 2 && i + 1 < printed.size() && hex_digit(printed[i + 1]) >= 0) {
        value = value * 16 + hex_digit(printed[++i]);
        ++n;
      }
      out += n > 0 ? static_cast<char>(value) : 'x';
      break;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': { // up to three octal digits
      int value = c - '0';
      int n     = 1;
      while (n < 3 && i + 1 < printed.size() && printed[i + 1] >= '0' && printed[i + 1] <= '7') {
        value = value * 8 + (printed[++i] - '0');
        ++n;
      }
      out += static_cast<char>(value & 0xff);
      break;
    }
    default:
      out += c; // `\\`, `\"` and any other escaped character stand for themselves
    }
  }
  return out;
}

std::string XenStoreDump::print(const LsOptions& options) const
{
  std::string out;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    bool covered = false;
    for (std::size_t j = 0; j < i; ++j)
      covered = covered || is_at_or_below(roots[i], roots[j]);
    if (not covered)
      out += tree.ls_f(roots[i], options);
  }
  return out;
}

namespace {

/** One `xenstore-ls -f` entry, as read from a (logical) line. */
struct Entry {
  enum class Kind { value, truncated, unreadable, cut } kind = Kind::value;
  std::string path;
  std::string text; // printed (sanitised) value text, without quotes and without the `\...` marker
};

/** Strips a `-p` permissions suffix (`"   (n0,r1)`), leaving the closing quote. */
std::string_view strip_permissions(std::string_view rest)
{
  if (rest.empty() || rest.back() != ')')
    return rest;
  std::size_t open = rest.rfind('(');
  if (open == std::string_view::npos || open < 3)
    return rest;
  std::string_view perms = rest.substr(open + 1, rest.size() - open - 2);
  if (perms.empty())
    return rest;
  bool expect_letter = true;
  for (char c : perms) {
    if (expect_letter) {
      if (c != 'n' && c != 'r' && c != 'w' && c != 'b')
        return rest;
      expect_letter = false;
    } else if (c == ',') {
      expect_letter = true;
    } else if (c < '0' || c > '9') {
      return rest;
    }
  }
  // Before "(": two spaces from fputs("  (") and, with -f, one more from putchar(' ').
  std::size_t q = open;
  while (q > 0 && rest[q - 1] == ' ')
    --q;
  if (q == 0 || rest[q - 1] != '"' || open - q < 2)
    return rest;
  return rest.substr(0, q);
}

/** Parses one logical line. nullopt when it is no entry at all. */
std::optional<Entry> parse_entry(std::string_view line)
{
  while (not line.empty() && (line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  if (line.empty() || line.front() != '/')
    return std::nullopt;
  std::size_t end = 0;
  while (end < line.size() && is_path_char(line[end]))
    ++end;
  Entry e;
  e.path                = std::string(line.substr(0, end));
  std::string_view rest = line.substr(end);
  if (rest == ":") {
    e.kind = Entry::Kind::unreadable;
    return e;
  }
  if (rest.empty()) {
    e.kind = Entry::Kind::cut;
    return e;
  }
  constexpr std::string_view eq = " = \"";
  if (rest.substr(0, eq.size()) != eq) {
    // " =" or " = " alone: the line was cut inside the separator.
    if (eq.substr(0, rest.size()) == rest) {
      e.kind = Entry::Kind::cut;
      return e;
    }
    return std::nullopt;
  }
  rest = strip_permissions(rest.substr(eq.size()));
  if (rest.empty() || rest.back() != '"') {
    e.kind = Entry::Kind::cut;
    e.text = std::string(rest);
    return e;
  }
  rest.remove_suffix(1);
  constexpr std::string_view marker = "\\...";
  if (rest.size() >= marker.size() && rest.substr(rest.size() - marker.size()) == marker) {
    std::size_t backslashes = 0;
    for (std::size_t i = rest.size() - marker.size() + 1; i > 0 && rest[i - 1] == '\\'; --i)
      ++backslashes;
    if (backslashes % 2 == 1) { // the marker's backslash is not itself escaped
      e.kind = Entry::Kind::truncated;
      e.text = std::string(rest.substr(0, rest.size() - marker.size()));
      return e;
    }
  }
  e.text = std::string(rest);
  return e;
}

bool is_complete_entry(std::string_view line)
{
  auto e = parse_entry(line);
  return e && e->kind != Entry::Kind::cut && XenStore::is_valid_path(e->path);
}

std::vector<std::string_view> physical_lines(std::string_view text)
{
  auto lines = split_at(text, '\n', 0);
  for (auto& line : lines)
    if (not line.empty() && line.back() == '\r')
      line.remove_suffix(1);
  return lines;
}

bool is_blank(std::string_view s)
{
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

} // namespace

XenStoreDump parse_xenstore_ls_f(std::string_view text)
{
  XenStoreDump dump;
  auto lines = physical_lines(text);
  // A terminal wraps at its width, so wrapped pieces are as long as the longest line. One line that long proves
  // nothing (it may just be the longest entry), two or more are taken as the wrap width.
  std::size_t wrap_width = 0;
  for (auto l : lines)
    wrap_width = std::max(wrap_width, l.size());
  if (std::count_if(lines.begin(), lines.end(), [wrap_width](auto l) { return l.size() == wrap_width; }) < 2)
    wrap_width = SIZE_MAX;

  std::vector<std::string> listed; // paths met, in order, for the root bookkeeping
  auto was_listed = [&listed](const std::string& p) {
    return std::find(listed.begin(), listed.end(), p) != listed.end();
  };
  auto warn = [&dump](std::size_t line, std::string what) { dump.warnings.push_back({line, std::move(what)}); };

  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_blank(lines[i]))
      continue;
    std::size_t first_line = i + 1;
    std::string logical(lines[i]);
    std::size_t last_piece = lines[i].size();
    // Join what a narrow terminal wrapped: see the header for the rule.
    while (i + 1 < lines.size() && not is_blank(lines[i + 1])) {
      std::string_view next = lines[i + 1];
      bool complete         = is_complete_entry(logical);
      bool next_is_entry    = next.front() == '/' && is_complete_entry(next);
      bool at_wrap_width    = last_piece == wrap_width;
      bool join;
      if (complete)
        join = at_wrap_width && not next_is_entry && next.front() != '/';
      else
        join = at_wrap_width || next.front() != '/';
      if (not join)
        break;
      logical += next;
      last_piece = next.size();
      ++dump.joined_lines;
      ++i;
    }

    auto entry = parse_entry(logical);
    if (not entry) {
      warn(first_line, "not a `xenstore-ls -f` line, skipped: " + logical.substr(0, 80));
      continue;
    }
    if (not XenStore::is_valid_path(entry->path)) {
      warn(first_line, "invalid XenStore path '" + entry->path + "', line skipped");
      continue;
    }
    if (entry->kind == Entry::Kind::cut && entry->text.empty() && logical.find(" = \"") == std::string::npos) {
      warn(first_line, "line cut before its value, skipped: " + logical.substr(0, 80));
      continue;
    }

    // Roots: a path whose parent was neither listed nor inside a known listing starts a new listing.
    std::string parent = parent_of(entry->path);
    if (not was_listed(parent)) {
      bool inside = std::any_of(dump.roots.begin(), dump.roots.end(),
                                [&parent](const std::string& r) { return is_at_or_below(parent, r); });
      if (not inside)
        dump.roots.push_back(parent);
      else if (std::find(dump.roots.begin(), dump.roots.end(), parent) == dump.roots.end())
        warn(first_line, "parent '" + parent + "' of '" + entry->path + "' was not listed before it");
    }
    if (was_listed(entry->path))
      warn(first_line, "'" + entry->path + "' listed twice; the later value wins");
    else
      listed.push_back(entry->path);

    switch (entry->kind) {
    case Entry::Kind::value:
      dump.tree.write(entry->path, unsanitise_value(entry->text));
      break;
    case Entry::Kind::truncated:
      dump.tree.mark_truncated(entry->path, entry->text);
      warn(first_line,
           "value of '" + entry->path + "' was cut by xenstore-ls (narrow terminal); only its start is known");
      break;
    case Entry::Kind::unreadable:
      dump.tree.mark_unreadable(entry->path);
      warn(first_line, "value of '" + entry->path + "' was unreadable when dumped");
      break;
    case Entry::Kind::cut:
      dump.tree.mark_truncated(entry->path, entry->text);
      warn(first_line,
           "line of '" + entry->path + "' ends without its closing quote (capture cut); value kept as truncated");
      break;
    }
  }
  return dump;
}

XenStoreDump read_xenstore_ls_f_file(const std::string& file_name)
{
  // Whole-file reading refuses a missing, special, binary or oversized file (sim/input_file.hpp); a real dump of
  // even a large host is a few MiB.
  XenStoreDump dump = parse_xenstore_ls_f(read_input_text(file_name, "xenstore-ls dump", 64 * MiB));
  if (dump.roots.empty()) {
    std::string why = dump.warnings.empty()
                          ? "the file is empty"
                          : "line " + std::to_string(dump.warnings.front().line) + ": " + dump.warnings.front().what;
    throw InputError(file_name, "", "not a `xenstore-ls -f` dump (no line of the form /path = \"value\"): " + why);
  }
  return dump;
}

} // namespace pvsim::xen
