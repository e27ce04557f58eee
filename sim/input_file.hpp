/* pvsim: reading a user's text file whole (a scenario, a fio result, a job file, /proc/interrupts), safely.
 *
 * Before reading, the file must be a regular file no larger than the caller's limit (a 10 GB file given by mistake
 * is refused at once instead of being read into memory), and its first 64 KiB must hold no NUL byte (a binary file
 * given by mistake is refused instead of being parsed into a confusing error). Each refusal is an InputError that
 * names the file and says what was expected. */
#pragma once

#include <cstdint>
#include <string>

namespace pvsim {

inline constexpr std::uint64_t MiB = 1024ull * 1024;

/** The content of `path`, a text file of at most `max_bytes`; `what` names it in errors ("fio result file"). */
std::string read_input_text(const std::string& path, const std::string& what, std::uint64_t max_bytes);

} // namespace pvsim
