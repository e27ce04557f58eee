#include "models/xen/xenstore.hpp"

#include "models/xen/xenstore_node.hpp"
#include "models/xen/xenstore_path.hpp"
#include "sim/input_error.hpp"

#include <algorithm>

namespace pvsim::xen {

using detail::is_path_char;
using detail::parent_of;
using detail::split_path;

XenStore::XenStore() : root_(std::make_unique<Node>()) {}
XenStore::~XenStore()                              = default;
XenStore::XenStore(XenStore&&) noexcept            = default;
XenStore& XenStore::operator=(XenStore&&) noexcept = default;
XenStore::XenStore(const XenStore& other) : root_(other.root_->clone()) {}
XenStore& XenStore::operator=(const XenStore& other)
{
  if (this != &other)
    root_ = other.root_->clone();
  return *this;
}

bool XenStore::is_valid_path(std::string_view path)
{
  if (path == "/")
    return true;
  if (path.empty() || path.front() != '/' || path.back() == '/')
    return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (not is_path_char(path[i]))
      return false;
    if (i > 0 && path[i] == '/' && path[i - 1] == '/')
      return false;
  }
  return true;
}

const XenStore::Node* XenStore::find(std::string_view path) const
{
  if (not is_valid_path(path))
    return nullptr;
  const Node* node = root_.get();
  for (auto part : split_path(path)) {
    node = node->child(part);
    if (node == nullptr)
      return nullptr;
  }
  return node;
}

XenStore::Node* XenStore::find(std::string_view path)
{
  return const_cast<Node*>(static_cast<const XenStore*>(this)->find(path));
}

XenStore::Node* XenStore::find_or_create(std::string_view path)
{
  if (not is_valid_path(path))
    throw InputError("xenstore", std::string(path),
                     "not a valid XenStore path (absolute, components of [A-Za-z0-9_@-])");
  Node* node = root_.get();
  for (auto part : split_path(path)) {
    Node* next = node->child(part);
    if (next == nullptr) {
      auto created  = std::make_unique<Node>();
      created->name = std::string(part);
      next          = created.get();
      node->children.push_back(std::move(created));
    }
    node = next;
  }
  return node;
}

void XenStore::write(std::string_view path, std::string_view value)
{
  Node* node = find_or_create(path);
  node->value.assign(value.data(), value.size());
  node->shown = Node::Shown::full;
  node->printed_prefix.clear();
}

void XenStore::mkdir(std::string_view path)
{
  find_or_create(path);
}

std::optional<std::string> XenStore::read(std::string_view path) const
{
  const Node* node = find(path);
  if (node == nullptr || node->shown == Node::Shown::unreadable)
    return std::nullopt;
  return node->value;
}

std::optional<unsigned long long> XenStore::scan_unsigned(std::string_view path) const
{
  auto value = read(path);
  if (not value)
    return std::nullopt;
  std::size_t i = 0;
  while (i < value->size() && ((*value)[i] == ' ' || (*value)[i] == '\t' || (*value)[i] == '\n'))
    ++i;
  if (i < value->size() && (*value)[i] == '+')
    ++i;
  if (i >= value->size() || (*value)[i] < '0' || (*value)[i] > '9')
    return std::nullopt;
  unsigned long long result = 0;
  for (; i < value->size() && (*value)[i] >= '0' && (*value)[i] <= '9'; ++i) {
    unsigned long long digit = static_cast<unsigned long long>((*value)[i] - '0');
    if (result > (UINT64_MAX - digit) / 10)
      return std::nullopt; // out of range: scanf would fail with ERANGE semantics we do not model
    result = result * 10 + digit;
  }
  return result;
}

unsigned long long XenStore::read_unsigned(std::string_view path, unsigned long long default_value) const
{
  return scan_unsigned(path).value_or(default_value);
}

bool XenStore::exists(std::string_view path) const
{
  return find(path) != nullptr;
}

std::vector<std::string> XenStore::list(std::string_view path) const
{
  std::vector<std::string> names;
  if (const Node* node = find(path))
    for (auto const& c : node->children)
      names.push_back(c->name);
  return names;
}

bool XenStore::remove(std::string_view path)
{
  if (path == "/" || not is_valid_path(path))
    return false;
  Node* parent = find(parent_of(path));
  if (parent == nullptr)
    return false;
  std::string_view name = path.substr(path.rfind('/') + 1);
  auto it =
      std::find_if(parent->children.begin(), parent->children.end(), [name](auto const& c) { return c->name == name; });
  if (it == parent->children.end())
    return false;
  parent->children.erase(it);
  return true;
}

std::size_t XenStore::size() const
{
  return root_->count();
}

} // namespace pvsim::xen
