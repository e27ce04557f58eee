#include "analysis/commands/sweep_command.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <limits.h>
#include <unistd.h>
#include <vector>

namespace pvsim {

namespace {

/** This binary's absolute path: each point runs the same pvsim. */
std::string own_binary()
{
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return "pvsim";
  return std::string(buf, static_cast<std::size_t>(n));
}

} // namespace

int sweep_command(const SweepOptions& options)
{
  const std::string python = "/usr/bin/python3";
  const std::string driver =
      std::string(PVSIM_SOURCE_DIR) + "/analysis/sweep_driver.py"; // the tree pvsim was built from
  std::vector<std::string> args{python, driver, options.file, "--pvsim", own_binary()};
  if (not options.output.empty())
    args.insert(args.end(), {"-o", options.output});
  if (not options.backend.empty())
    args.insert(args.end(), {"--backend", options.backend});
  if (options.jobs)
    args.insert(args.end(), {"-j", std::to_string(*options.jobs)});
  if (options.chunk)
    args.insert(args.end(), {"--chunk", std::to_string(*options.chunk)});
  if (not options.sshloginfile.empty())
    args.insert(args.end(), {"--sshloginfile", options.sshloginfile});
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  ::execv(python.c_str(), argv.data());
  std::cerr << "pvsim: error: cannot run " << python << " " << driver << ": " << std::strerror(errno) << "\n";
  return 1;
}

} // namespace pvsim
