#include "models/host/kernel_version.hpp"

#include <algorithm>
#include <stdexcept>

namespace pvsim {

const std::vector<std::string>& supported_kernels()
{
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    auto series = [&out](int major, int first, int last) {
      for (int m = first; m <= last; ++m)
        out.push_back(std::to_string(major) + "." + std::to_string(m));
    };
    series(3, 13, 19);
    series(4, 0, 20);
    series(5, 0, 19);
    series(6, 0, 18);
    return out;
  }();
  return v;
}

KernelVersion parse_kernel(const std::string& text)
{
  const auto& all = supported_kernels();
  if (std::find(all.begin(), all.end(), text) == all.end())
    throw std::invalid_argument("unsupported kernel version " + text);
  auto dot = text.find('.');
  return {std::stoi(text.substr(0, dot)), std::stoi(text.substr(dot + 1))};
}

} // namespace pvsim
