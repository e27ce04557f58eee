#include "analysis/commands/sweep_command.hpp"

#include "analysis/commands/python_driver.hpp"

#include <vector>

namespace pvsim {

int sweep_command(const SweepOptions& options)
{
  std::vector<std::string> args{options.file};
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
  return exec_python_driver("analysis/sweep_driver.py", args);
}

} // namespace pvsim
