#include "analysis/commands/python_driver.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <limits.h>
#include <unistd.h>

namespace pvsim {

std::string own_binary()
{
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return "pvsim";
  return std::string(buf, static_cast<std::size_t>(n));
}

int exec_python_driver(const std::string& script, const std::vector<std::string>& args)
{
  const std::string python = "/usr/bin/python3";
  const std::string driver = std::string(PVSIM_SOURCE_DIR) + "/" + script; // the tree pvsim was built from
  std::vector<std::string> all{python, driver};
  all.insert(all.end(), args.begin(), args.end());
  all.insert(all.end(), {"--pvsim", own_binary()});
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  ::execv(python.c_str(), argv.data());
  std::cerr << "pvsim: error: cannot run " << python << " " << driver << ": " << std::strerror(errno) << "\n";
  return 1;
}

} // namespace pvsim
