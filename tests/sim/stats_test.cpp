/* Specification of the engine-owned statistics (sim/stats.hpp): what each kind restarts to and how a StatSet
 * writes a component's results. */
#include "sim/stats.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using nlohmann::json;

TEST(Stats, EveryWindowedKindRestartsToItsEmptyValueAndInfoIsKept)
{
  StatSet set;
  Counter c;
  Sum s;
  Maximum m;
  Level l;
  Tally t;
  set.add("/c", c, "requests", "");
  set.add("/s", s, "s", "");
  set.add("/m", m, "requests", "");
  set.add("/l", l, "requests", "");
  set.add("/t", t, "requests", "");
  set.info(
      "/i", [] { return json(7); }, "");
  ++c;
  c += 4;
  s += 2.5;
  m.sample(9);
  l.set(0.0, 3);
  t.sample(32);
  set.restart(1.0);
  json out;
  set.write(out, StatWindow{1.0, 2.0});
  EXPECT_EQ(out["c"], 0);
  EXPECT_EQ(out["s"], 0.0);
  EXPECT_EQ(out["m"], 0.0);
  EXPECT_EQ(out["t"], json::object());
  EXPECT_DOUBLE_EQ(out["l"].get<double>(), 3.0) << "a level keeps its value across the restart: its mean is 3";
  EXPECT_EQ(out["i"], 7);
}

TEST(Stats, ALevelIsTheTimeAverageOverTheWindowOnly)
{
  Level l;
  l.set(0.0, 10); // 10 during the warm-up
  l.restart(1.0);
  l.set(1.5, 0); // 10 from 1.0 to 1.5, 0 from 1.5 to 2.0
  StatSet set;
  set.add("/l", l, "", "");
  json out;
  set.write(out, StatWindow{1.0, 2.0});
  EXPECT_DOUBLE_EQ(out["l"].get<double>(), 5.0);
}

TEST(Stats, PointersBuildTheNestedLayoutWithArraysForIndices)
{
  StatSet set;
  Counter a, b;
  a += 1;
  b += 2;
  set.add("/rings/0/notified", a, "requests", "");
  set.add("/rings/1/notified", b, "requests", "");
  set.formula(
      "/rate", [&](const StatWindow& w) { return w.per_second(static_cast<double>(a.get() + b.get())); }, "/s", "");
  json out = json::object();
  set.write(out, StatWindow{0.0, 2.0});
  ASSERT_TRUE(out["rings"].is_array());
  EXPECT_EQ(out["rings"][1]["notified"], 2);
  EXPECT_DOUBLE_EQ(out["rate"].get<double>(), 1.5);
}

TEST(Stats, ATrackedStatisticRestartsButIsNotWritten)
{
  StatSet set;
  Sum busy;
  busy += 3;
  set.track(busy);
  set.restart(0);
  json out = json::object();
  set.write(out, StatWindow{0.0, 1.0});
  EXPECT_EQ(busy.get(), 0.0);
  EXPECT_TRUE(out.empty());
}

TEST(Stats, APeakRestartsAtTheLevelItHoldsWhenTheWindowStarts)
{
  Peak in_flight;
  in_flight.set(7);
  in_flight.set(5);
  in_flight.restart(1.0); // 5 in flight when the window starts
  EXPECT_EQ(in_flight.value(StatWindow{1.0, 2.0}), 5u) << "a level that never moves peaks at its value";
  in_flight.set(6);
  in_flight.set(2);
  EXPECT_EQ(in_flight.value(StatWindow{1.0, 2.0}), 6u);
}

TEST(Stats, ACounterOrASumIsItsValueAloneWithNoVtablePointer)
{
  // Thousands of them sit in the objects a request touches (rings, threads, tags): every byte is paid in cache.
  static_assert(sizeof(Counter) == sizeof(std::uint64_t));
  static_assert(sizeof(Sum) == sizeof(double));
  static_assert(not std::is_polymorphic_v<Counter> and not std::is_polymorphic_v<Level>);
  StatSet set;
  Counter c;
  Formula f([&c](const StatWindow& w) { return json(w.per_second(static_cast<double>(c.get()))); });
  set.add("/c", c, "requests", "");
  set.add("/rate", f, "requests/s", "");
  c += 6;
  json out;
  set.write(out, StatWindow{0.0, 2.0});
  EXPECT_EQ(out["c"], 6) << "the set still reaches each statistic as its own kind";
  EXPECT_DOUBLE_EQ(out["rate"].get<double>(), 3.0);
  EXPECT_EQ(set.entries()[0].stat.kind(), Stat::Kind::counter);
  EXPECT_EQ(set.entries()[1].stat.kind(), Stat::Kind::formula);
}
