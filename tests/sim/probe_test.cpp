/* Specification of sim/probe.hpp: typed events from a model to the collectors connected to it. */
#include "sim/probe.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace pvsim;

TEST(Probe, EveryCollectorSeesEachEventInTheOrderItConnected)
{
  Probe<int> p;
  std::vector<int> seen;
  EXPECT_FALSE(p.connected());
  p.emit(1); // nobody listens: nothing happens
  p.connect([&seen](const int& v) { seen.push_back(10 + v); });
  p.connect([&seen](const int& v) { seen.push_back(20 + v); });
  EXPECT_TRUE(p.connected());
  p.emit(2);
  EXPECT_EQ(seen, (std::vector<int>{12, 22}));
}

TEST(Probe, AnEmptySlotLeavesTheProbeUnobserved)
{
  Probe<int> p;
  p.connect(Probe<int>::Slot{});
  EXPECT_FALSE(p.connected());
  p.emit(1); // and emitting does not call the empty function
}
