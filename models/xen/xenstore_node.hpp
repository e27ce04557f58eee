/* pvsim: one node of the XenStore tree (internal: xenstore.cpp and xenstore_dump.cpp).
 *
 * Models: a C xenstored node: its name, its value (any bytes) and its children in creation order; and how a parsed
 * dump showed its value (in full, cut by xenstore-ls to `\...`, or unreadable), so that printing it again gives
 * back the line.
 * Leaves out: permissions, generation counts, transactions. */
#pragma once

#include "models/xen/xenstore.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen {

struct XenStore::Node {
  enum class Shown { full, truncated, unreadable };

  std::string name;
  std::string value;
  Shown shown = Shown::full;
  std::string printed_prefix; // for Shown::truncated: the sanitised text xenstore-ls printed before `\...`
  std::vector<std::unique_ptr<Node>> children;

  Node* child(std::string_view n) const
  {
    for (auto const& c : children)
      if (c->name == n)
        return c.get();
    return nullptr;
  }

  std::unique_ptr<Node> clone() const
  {
    auto copy            = std::make_unique<Node>();
    copy->name           = name;
    copy->value          = value;
    copy->shown          = shown;
    copy->printed_prefix = printed_prefix;
    for (auto const& c : children)
      copy->children.push_back(c->clone());
    return copy;
  }

  std::size_t count() const
  {
    std::size_t n = children.size();
    for (auto const& c : children)
      n += c->count();
    return n;
  }
};

} // namespace pvsim::xen
