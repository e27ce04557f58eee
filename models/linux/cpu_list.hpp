/* pvsim: CPU lists as Linux prints them: the cpulist format ("%*pbl": "0-3,8", lib/vsprintf.c bitmap_list_string())
 * and blk-mq's sysfs cpu_list attribute ("0, 1, 2, 3", block/blk-mq-sysfs.c blk_mq_hw_sysfs_cpus_show()). */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim {

/** A CPU list in Linux's cpulist format ("%*pbl", /sys/devices/system/cpu/online): ranges, "0-3,8". */
std::string format_cpu_list(const std::vector<int>& cpus);
/** A CPU list as blk-mq's cpu_list attribute prints it (blk_mq_hw_sysfs_cpus_show()): "0, 1, 2, 3". */
std::string format_mq_cpu_list(const std::vector<int>& cpus);
/** Reads either format (and mixes: "0-2, 5"); nullopt when the text is not a CPU list. Sorted, duplicates removed. */
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

} // namespace pvsim
