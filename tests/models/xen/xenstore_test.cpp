/* Specification of the XenStore tree model. */
#include "models/xen/xenstore.hpp"

#include "sim/input_error.hpp"

#include <gtest/gtest.h>

using namespace pvsim::xen;

TEST(XenStore, ReadsBackWhatWasWritten)
{
  XenStore s;
  s.write("/local/domain/1/name", "guest");
  EXPECT_EQ(s.read("/local/domain/1/name"), "guest");
}

TEST(XenStore, MissingNodesReadAsNothing)
{
  XenStore s;
  EXPECT_FALSE(s.read("/local/domain/7/name"));
  EXPECT_FALSE(s.exists("/local"));
}

TEST(XenStore, WritingCreatesMissingAncestorsWithEmptyValues)
{
  XenStore s;
  s.write("/local/domain/0/backend/vbd/1/51712/state", "1");
  EXPECT_EQ(s.read("/local/domain/0/backend/vbd/1"), "");
  EXPECT_EQ(s.read("/local"), "");
  EXPECT_EQ(s.size(), 8u);
}

TEST(XenStore, ListsChildrenInCreationOrderNotSorted)
{
  XenStore s;
  s.write("/d/frontend", "x");
  s.write("/d/params", "y");
  s.write("/d/backend-id", "0");
  EXPECT_EQ(s.list("/d"), (std::vector<std::string>{"frontend", "params", "backend-id"}));
}

TEST(XenStore, RewritingANodeKeepsItsPlace)
{
  XenStore s;
  s.write("/d/state", "1");
  s.write("/d/dev", "xvda");
  s.write("/d/state", "4");
  EXPECT_EQ(s.list("/d"), (std::vector<std::string>{"state", "dev"}));
  EXPECT_EQ(s.read("/d/state"), "4");
}

TEST(XenStore, RemovingANodeTakesItsSubtree)
{
  XenStore s;
  s.write("/d/queue-0/ring-ref", "8");
  s.write("/d/queue-1/ring-ref", "9");
  EXPECT_TRUE(s.remove("/d/queue-0"));
  EXPECT_FALSE(s.exists("/d/queue-0/ring-ref"));
  EXPECT_EQ(s.list("/d"), (std::vector<std::string>{"queue-1"}));
}

TEST(XenStore, RemovingWhatIsNotThereReportsIt)
{
  XenStore s;
  EXPECT_FALSE(s.remove("/nothing/here"));
  EXPECT_FALSE(s.remove("/"));
}

TEST(XenStore, ARecreatedNodeGoesLast)
{
  XenStore s;
  s.write("/d/a", "1");
  s.write("/d/b", "2");
  s.remove("/d/a");
  s.write("/d/a", "3");
  EXPECT_EQ(s.list("/d"), (std::vector<std::string>{"b", "a"}));
}

TEST(XenStore, ReadsUnsignedLikeXenbusReadUnsigned)
{
  XenStore s;
  s.write("/d/n", "4");
  s.write("/d/junk", "four");
  s.write("/d/suffix", "16abc");
  EXPECT_EQ(s.read_unsigned("/d/n", 1), 4u);
  EXPECT_EQ(s.read_unsigned("/d/junk", 1), 1u);
  EXPECT_EQ(s.read_unsigned("/d/missing", 1), 1u);
  EXPECT_EQ(s.read_unsigned("/d/suffix", 0), 16u);
}

TEST(XenStore, RejectsInvalidPaths)
{
  XenStore s;
  EXPECT_THROW(s.write("relative/path", "x"), pvsim::InputError);
  EXPECT_THROW(s.write("/a//b", "x"), pvsim::InputError);
  EXPECT_THROW(s.write("/a b", "x"), pvsim::InputError);
  EXPECT_FALSE(XenStore::is_valid_path("/a/"));
  EXPECT_TRUE(XenStore::is_valid_path("/local/domain/0/backend/vbd/1/51712/queue-0"));
  EXPECT_TRUE(XenStore::is_valid_path("/"));
}

TEST(XenStore, CopiesAreIndependent)
{
  XenStore a;
  a.write("/d/x", "1");
  XenStore b = a;
  b.write("/d/x", "2");
  EXPECT_EQ(a.read("/d/x"), "1");
  EXPECT_EQ(b.read("/d/x"), "2");
}
