/* pvsim: XenStore path arithmetic, shared by the tree, its `xenstore-ls -f` dumps and the readers of device
 * directories (internal).
 *
 * Models: xenstored's absolute paths, "/" or "/a/b", as text: the characters a path may hold, joining a child's
 * name, the parent, ancestry, and splitting into components; and where libxl puts a device's two directories.
 * Leaves out: validating a whole path (XenStore::is_valid_path), relative paths. */
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen::detail {

/** Whether `c` may stand in a path: xenstored's valid characters for node names (is_valid_nodename, valid_chars),
 * and '/'. */
inline bool is_path_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '@' || c == '/';
}

/** The pieces of `text`, from `from` on, between separators `sep`; a last separator starts no empty piece. */
inline std::vector<std::string_view> split_at(std::string_view text, char sep, std::size_t from)
{
  std::vector<std::string_view> pieces;
  std::size_t pos = from;
  while (pos < text.size()) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string_view::npos)
      end = text.size();
    pieces.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return pieces;
}

/** The components of an absolute path, after its leading '/'. */
inline std::vector<std::string_view> split_path(std::string_view path)
{
  return split_at(path, '/', 1);
}

/** `dir`/`name`, with one '/' between them. */
inline std::string child_path(std::string_view dir, std::string_view name)
{
  std::string p(dir);
  if (p.empty() || p.back() != '/')
    p += '/';
  p += name;
  return p;
}

/** The parent directory; "/" for the root and its children. */
inline std::string parent_of(std::string_view path)
{
  std::size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos)
    return "/";
  return std::string(path.substr(0, slash));
}

/** True when `ancestor` is `path` or one of its ancestors. */
inline bool is_at_or_below(std::string_view path, std::string_view ancestor)
{
  if (ancestor == "/")
    return true;
  if (path.size() < ancestor.size() || path.substr(0, ancestor.size()) != ancestor)
    return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

/** libxl__device_frontend_path(): the directory of device `devid` of kind `kind` ("vbd", "vif") in domain
 * `frontend_domid`, /local/domain/<frontend_domid>/device/<kind>/<devid>. */
inline std::string device_frontend_path(unsigned frontend_domid, std::string_view kind, unsigned devid)
{
  return "/local/domain/" + std::to_string(frontend_domid) + "/device/" + std::string(kind) + "/" +
         std::to_string(devid);
}

/** libxl__device_backend_path(): its backend's directory in domain `backend_domid`,
 * /local/domain/<backend_domid>/backend/<kind>/<frontend_domid>/<devid>. */
inline std::string device_backend_path(unsigned backend_domid, std::string_view kind, unsigned frontend_domid,
                                       unsigned devid)
{
  return "/local/domain/" + std::to_string(backend_domid) + "/backend/" + std::string(kind) + "/" +
         std::to_string(frontend_domid) + "/" + std::to_string(devid);
}

} // namespace pvsim::xen::detail
