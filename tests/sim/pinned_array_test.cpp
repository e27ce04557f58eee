/* Specification of sim/pinned_array.hpp: objects that never move, side by side in one block. */
#include "sim/pinned_array.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using namespace pvsim;

namespace {

/** Neither copyable nor movable, like a ring whose address collectors keep; records its destruction. */
struct Pinned {
  Pinned(int v, std::vector<int>* log) : value(v), destroyed(log) {}
  Pinned(const Pinned&)            = delete;
  Pinned& operator=(const Pinned&) = delete;
  ~Pinned() { destroyed->push_back(value); }
  int value;
  std::vector<int>* destroyed;
};

struct alignas(64) Line {
  char byte = 0;
};

} // namespace

TEST(PinnedArray, ElementsLieSideBySideInTheOrderBuilt)
{
  std::vector<int> log;
  PinnedArray<Pinned> a;
  a.reset(3);
  for (int i = 0; i < 3; ++i)
    a.emplace_back(10 * i, &log);
  ASSERT_EQ(a.size(), 3u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].value, 10 * static_cast<int>(i));
    EXPECT_EQ(&a[i], &a[0] + i); // one block: element i at a fixed offset, no pointer in between
  }
}

TEST(PinnedArray, TakingTheArrayOverMovesNoElement)
{
  std::vector<int> log;
  PinnedArray<Pinned> a;
  a.reset(2);
  Pinned* first = &a.emplace_back(1, &log);
  a.emplace_back(2, &log);
  PinnedArray<Pinned> b = std::move(a);
  EXPECT_EQ(&b[0], first);
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(log.empty()); // nothing was destroyed (nor copied: Pinned cannot be)
}

TEST(PinnedArray, BuildingPastTheReservedCountIsALogicError)
{
  std::vector<int> log;
  PinnedArray<Pinned> a;
  a.reset(1);
  a.emplace_back(1, &log);
  EXPECT_THROW(a.emplace_back(2, &log), std::logic_error);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_THROW(a.at(1), std::out_of_range);
}

TEST(PinnedArray, ElementsAreDestroyedLastBuiltFirst)
{
  std::vector<int> log;
  {
    PinnedArray<Pinned> a;
    a.reset(3);
    for (int i = 1; i <= 3; ++i)
      a.emplace_back(i, &log);
  }
  EXPECT_EQ(log, (std::vector<int>{3, 2, 1}));
  PinnedArray<Pinned> r;
  r.reset(1);
  r.emplace_back(7, &log);
  r.reset(0); // a reset destroys what was built
  EXPECT_EQ(log.back(), 7);
  EXPECT_TRUE(r.empty());
}

TEST(PinnedArray, AnOverAlignedElementKeepsItsAlignment)
{
  PinnedArray<Line> a;
  a.reset(3);
  for (int i = 0; i < 3; ++i)
    a.emplace_back();
  for (const Line& l : a)
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&l) % 64, 0u); // a CpuThread starts on its own cache line
}
