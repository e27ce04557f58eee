/* pvsim: splitting one CSV record into its fields (internal, for the readers of CSV files: block events, the traces'
 * summary.csv).
 *
 * Models: RFC 4180 fields, quoted ones with "" inside. Leaves out: records spanning lines (a newline inside quotes). */
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::readers {

/** Splits one CSV record into `out`; unquoted copies of quoted fields live in `storage` (a deque: its strings do not
 * move), so the views stay valid until the next call with the same storage. */
void split_csv(std::string_view line, std::vector<std::string_view>& out, std::deque<std::string>& storage);

} // namespace pvsim::readers
