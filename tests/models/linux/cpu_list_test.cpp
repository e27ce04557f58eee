/* Specification of CPU lists as Linux prints them (cpulist ranges, blk-mq's sysfs cpu_list) and as pvsim reads them
 * back from recorded guests. */
#include "models/linux/cpu_list.hpp"

#include <gtest/gtest.h>

using namespace pvsim;

TEST(CpuList, CpuListsFormatAsLinuxRanges)
{
  EXPECT_EQ(format_cpu_list({8, 0, 1, 2, 3}), "0-3,8");
  EXPECT_EQ(format_cpu_list({0, 2, 3}), "0,2-3");
  EXPECT_EQ(format_cpu_list({5}), "5");
  EXPECT_EQ(format_cpu_list({}), "");
}

TEST(CpuList, MqCpuListsFormatAsBlkMqSysfsPrintsThem)
{
  EXPECT_EQ(format_mq_cpu_list({0, 1, 2, 3}), "0, 1, 2, 3");
  EXPECT_EQ(format_mq_cpu_list({1}), "1");
}

TEST(CpuList, ParsesBothCpuListFormats)
{
  EXPECT_EQ(parse_cpu_list("0-3,8"), (std::vector<int>{0, 1, 2, 3, 8}));
  EXPECT_EQ(parse_cpu_list("0, 1, 2, 3"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  EXPECT_FALSE(parse_cpu_list("0-"));
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("0,,1"));
  EXPECT_FALSE(parse_cpu_list("cpu0"));
}
