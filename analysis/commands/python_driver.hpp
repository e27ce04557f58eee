/* pvsim: commands whose work is process orchestration, CSV and matplotlib (sweep, interference) hand over to a
 * Python driver in analysis/, run with /usr/bin/python3 (the Python that sees Debian's matplotlib) from the source
 * tree pvsim was built from, with this binary as the pvsim that the driver runs. */
#pragma once

#include <string>
#include <vector>

namespace pvsim {

/** This binary's absolute path ("pvsim" when /proc/self/exe cannot be read). */
std::string own_binary();

/** Replaces this process by `/usr/bin/python3 <source tree>/<script> args... --pvsim <this binary>` (signals such as
 * Ctrl-C go straight to it); returns only when it cannot be started (exit status 1, the reason on stderr). */
int exec_python_driver(const std::string& script, const std::vector<std::string>& args);

} // namespace pvsim
