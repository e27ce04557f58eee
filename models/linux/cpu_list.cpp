#include "models/linux/cpu_list.hpp"

#include <algorithm>
#include <cctype>

namespace pvsim {

namespace {

std::vector<int> sorted_unique(std::vector<int> cpus)
{
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

} // namespace

std::string format_cpu_list(const std::vector<int>& cpus)
{
  std::vector<int> s = sorted_unique(cpus);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j + 1 < s.size() and s[j + 1] == s[j] + 1)
      ++j;
    if (not out.empty())
      out += ',';
    out += std::to_string(s[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(s[j]);
    }
    i = j + 1;
  }
  return out;
}

std::string format_mq_cpu_list(const std::vector<int>& cpus)
{
  std::string out;
  for (int c : sorted_unique(cpus)) {
    if (not out.empty())
      out += ", ";
    out += std::to_string(c);
  }
  return out;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text)
{
  auto trim = [](std::string_view s) {
    while (not s.empty() and std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    while (not s.empty() and std::isspace(static_cast<unsigned char>(s.back())))
      s.remove_suffix(1);
    return s;
  };
  auto number = [](std::string_view s) -> std::optional<int> {
    if (s.empty() or s.size() > 9 or
        not std::all_of(s.begin(), s.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
      return std::nullopt;
    return std::stoi(std::string(s));
  };
  std::vector<int> out;
  text = trim(text);
  if (text.empty())
    return out;
  while (true) {
    std::size_t comma     = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    std::size_t dash      = item.find('-');
    auto lo               = number(trim(item.substr(0, dash)));
    auto hi               = dash == std::string_view::npos ? lo : number(trim(item.substr(dash + 1)));
    if (not lo or not hi or *hi < *lo)
      return std::nullopt;
    for (int c = *lo; c <= *hi; ++c)
      out.push_back(c);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return sorted_unique(out);
}

} // namespace pvsim
