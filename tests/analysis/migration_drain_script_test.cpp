/* analysis/migration_drain.py, the sweep of scenarios/qemu-migration-drain.json: one point per image latency x iodepth
 * x policy x seed, a CSV row each and the figure. On the shipped slow image (here 50 ms) with 256 requests outstanding,
 * QEMU's own behaviour (policy none) misses the 300 ms downtime limit and both bounded drains keep under it. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

using namespace pvsim::test;

TEST(MigrationDrainScript, SweepsThePoliciesAndWritesTheCsvAndTheFigure)
{
  TempDir dir;
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/migration_drain.py -o " + dir.file("out") +
                       " --latency 50ms --iodepth 128 --seeds 1 -j 2 --pvsim " + pvsim_binary());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream csv(read_file(dir.file("out/migration_drain.csv")));
  std::string header, line;
  std::getline(csv, header);
  ASSERT_EQ(header.rfind("latency,iodepth,policy,seed,", 0), 0u) << header;
  std::map<std::string, std::string> over_limit; // policy -> "0" or "1"
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');)
      f.push_back(x);
    ASSERT_EQ(f.size(), 16u) << line;
    over_limit[f[2]] = f[13];
    std::cout << f[2] << ": downtime " << f[5] << " ms (estimate " << f[4] << " ms), drain " << f[6] << " ms, " << f[8]
              << " in flight at the stop\n";
  }
  ASSERT_EQ(over_limit.size(), 3u);
  EXPECT_EQ(over_limit["none"], "1");
  EXPECT_EQ(over_limit["depth-cap"], "0");
  EXPECT_EQ(over_limit["deadline"], "0");
  EXPECT_EQ(read_file(dir.file("out/migration_drain.png")).substr(1, 3), "PNG");
}
