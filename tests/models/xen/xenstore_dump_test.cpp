/* Specification of `xenstore-ls -f` dumps: printing a tree, sanitising values, and parsing the real xen-lab-tcg
 * dumps and what terminals and captures do to long lines. */
#include "models/xen/xenstore_dump.hpp"
#include "tests/models/xen/xen_test_files.hpp"

#include "sim/input_error.hpp"

#include <gtest/gtest.h>

using namespace pvsim::xen;
using pvsim::xen::test::lab_dump_path;
using pvsim::xen::test::read_text;
using pvsim::xen::test::wrapped_at;

TEST(XenStoreDump, RealOneQueueDumpPrintsBackExactly)
{
  std::string text  = read_text(lab_dump_path("blkfront-max-queues-1"));
  XenStoreDump dump = parse_xenstore_ls_f(text);
  EXPECT_TRUE(dump.warnings.empty());
  EXPECT_EQ(dump.print(), text);
}

TEST(XenStoreDump, RealFourQueueDumpPrintsBackExactly)
{
  std::string text  = read_text(lab_dump_path("blkfront-max-queues-4"));
  XenStoreDump dump = parse_xenstore_ls_f(text);
  EXPECT_TRUE(dump.warnings.empty());
  EXPECT_EQ(dump.print(), text);
}

TEST(XenStoreDump, RealDumpIsTwoListingsBackendThenFrontend)
{
  XenStoreDump dump = read_xenstore_ls_f_file(lab_dump_path("blkfront-max-queues-4"));
  EXPECT_EQ(dump.roots, (std::vector<std::string>{"/local/domain/0/backend/vbd", "/local/domain/2/device/vbd"}));
}

TEST(XenStoreDump, RealDumpValuesAreReadable)
{
  XenStoreDump dump = read_xenstore_ls_f_file(lab_dump_path("blkfront-max-queues-4"));
  EXPECT_EQ(dump.tree.read("/local/domain/0/backend/vbd/2/51712/frontend"), "/local/domain/2/device/vbd/51712");
  EXPECT_EQ(dump.tree.read("/local/domain/2/device/vbd/51712/queue-3/event-channel"), "30");
  EXPECT_EQ(dump.tree.read("/local/domain/0/backend/vbd/2"), "");
}

TEST(XenStoreDump, MissingFileIsAnInputError)
{
  EXPECT_THROW(read_xenstore_ls_f_file("/nonexistent/xenstore-ls-f.txt"), pvsim::InputError);
}

TEST(XenStoreDump, EmptyValuesAreKept)
{
  XenStoreDump dump = parse_xenstore_ls_f("/a = \"\"\n/a/b = \"\"\n");
  EXPECT_EQ(dump.tree.read("/a/b"), "");
  EXPECT_TRUE(dump.warnings.empty());
}

TEST(XenStoreDump, UnescapedQuotesInsideAValueAreKept)
{
  // xenstore-ls prints '"' as it is: the value runs to the last quote of the line.
  XenStoreDump dump = parse_xenstore_ls_f("/vm/name = \"say \"hi\" now\"\n");
  EXPECT_EQ(dump.tree.read("/vm/name"), "say \"hi\" now");
  EXPECT_EQ(dump.print(), "/vm/name = \"say \"hi\" now\"\n");
}

TEST(XenStoreDump, EscapedQuotesInsideAValueAreUnescaped)
{
  XenStoreDump dump = parse_xenstore_ls_f("/vm/name = \"say \\\"hi\\\"\"\n");
  EXPECT_EQ(dump.tree.read("/vm/name"), "say \"hi\"");
}

TEST(XenStoreDump, EscapeSequencesAreDecoded)
{
  XenStoreDump dump = parse_xenstore_ls_f("/v = \"tab\\tnl\\nbs\\\\oct\\001hex\\x7f\"\n");
  EXPECT_EQ(dump.tree.read("/v"), std::string("tab\tnl\nbs\\oct\x01hex\x7f"));
}

TEST(XenStoreDump, CrlfLineEndsAreAccepted)
{
  XenStoreDump dump = parse_xenstore_ls_f("/a = \"1\"\r\n/a/b = \"2\"\r\n");
  EXPECT_EQ(dump.tree.read("/a/b"), "2");
  EXPECT_TRUE(dump.warnings.empty());
}

TEST(XenStoreDump, ValuesCutByXenstoreLsAreKeptAsTruncated)
{
  std::string text  = "/d/frontend = \"/local/domain/1/device\\...\"\n/d/state = \"4\"\n";
  XenStoreDump dump = parse_xenstore_ls_f(text);
  EXPECT_TRUE(dump.tree.is_truncated("/d/frontend"));
  EXPECT_EQ(dump.tree.read("/d/frontend"), "/local/domain/1/device");
  EXPECT_EQ(dump.tree.read("/d/state"), "4");
  EXPECT_EQ(dump.warnings.size(), 1u);
  EXPECT_EQ(dump.print(), text);
}

TEST(XenStoreDump, AnEscapedBackslashBeforeDotsIsNotACut)
{
  XenStoreDump dump = parse_xenstore_ls_f("/d/v = \"a\\\\...\"\n");
  EXPECT_FALSE(dump.tree.is_truncated("/d/v"));
  EXPECT_EQ(dump.tree.read("/d/v"), "a\\...");
}

TEST(XenStoreDump, LinesWrappedByANarrowTerminalAreJoined)
{
  // A 24-column capture of two long entries and a short one.
  std::string whole = "/local/domain/1/device/vbd/51712/backend = \"/local/domain/0/backend/vbd/1/51712\"\n"
                      "/local/domain/1/device/vbd/51712/state = \"4\"\n";
  XenStoreDump dump = parse_xenstore_ls_f(wrapped_at(whole, 24, "\n"));
  EXPECT_EQ(dump.tree.read("/local/domain/1/device/vbd/51712/backend"), "/local/domain/0/backend/vbd/1/51712");
  EXPECT_EQ(dump.tree.read("/local/domain/1/device/vbd/51712/state"), "4");
  EXPECT_GT(dump.joined_lines, 0u);
  EXPECT_TRUE(dump.warnings.empty());
  EXPECT_EQ(dump.print(), whole);
}

TEST(XenStoreDump, AWrapRightBeforeASlashIsJoined)
{
  std::string wrapped = "/a = \"\"\n"
                        "/a/path = \"/local/doma\n" // 20 columns
                        "in/0/backend/vbd/1/5\n"    // 20 columns
                        "1712\"\n"
                        "/a/other = \"/xxxxxxxxx\n" // 20 columns, the wrap falls before a '/'
                        "/yy\"\n";
  XenStoreDump dump = parse_xenstore_ls_f(wrapped);
  EXPECT_EQ(dump.tree.read("/a/path"), "/local/domain/0/backend/vbd/1/51712");
  EXPECT_EQ(dump.tree.read("/a/other"), "/xxxxxxxxx/yy");
  EXPECT_FALSE(dump.tree.exists("/yy"));
}

TEST(XenStoreDump, ALastLineCutByTheCaptureIsKeptAsTruncated)
{
  XenStoreDump dump = parse_xenstore_ls_f("/d/state = \"4\"\n/d/frontend = \"/local/dom");
  EXPECT_EQ(dump.tree.read("/d/state"), "4");
  EXPECT_TRUE(dump.tree.is_truncated("/d/frontend"));
  EXPECT_EQ(dump.tree.read("/d/frontend"), "/local/dom");
  EXPECT_EQ(dump.warnings.size(), 1u);
}

TEST(XenStoreDump, ALineCutInsideItsPathIsSkippedWithAWarning)
{
  XenStoreDump dump = parse_xenstore_ls_f("/d/state = \"4\"\n/d/fron");
  EXPECT_FALSE(dump.tree.exists("/d/fron"));
  ASSERT_EQ(dump.warnings.size(), 1u);
  EXPECT_EQ(dump.warnings[0].line, 2u);
}

TEST(XenStoreDump, StrayLinesAreSkippedWithAWarning)
{
  XenStoreDump dump =
      parse_xenstore_ls_f("root@dom0:~# xenstore-ls -f /d\n/d/state = \"4\"\n\n[  12.3] blkfront: xvda\n");
  EXPECT_EQ(dump.tree.read("/d/state"), "4");
  EXPECT_EQ(dump.warnings.size(), 2u);
  EXPECT_EQ(dump.warnings[0].line, 1u);
}

TEST(XenStoreDump, UnreadableNodesArePrintedBackAsSuch)
{
  std::string text  = "/d/secret:\n/d/state = \"4\"\n";
  XenStoreDump dump = parse_xenstore_ls_f(text);
  EXPECT_TRUE(dump.tree.exists("/d/secret"));
  EXPECT_FALSE(dump.tree.read("/d/secret"));
  EXPECT_EQ(dump.print(), text);
}

TEST(XenStoreDump, PermissionsFromDashPAreDropped)
{
  XenStoreDump dump = parse_xenstore_ls_f("/d/state = \"4\"   (n0,r1)\n/d/name = \"x\"   (b2)\n");
  EXPECT_EQ(dump.tree.read("/d/state"), "4");
  EXPECT_EQ(dump.tree.read("/d/name"), "x");
  EXPECT_TRUE(dump.warnings.empty());
}

TEST(XenStoreDump, InvalidPathsAreSkippedWithAWarning)
{
  XenStoreDump dump = parse_xenstore_ls_f("/d//x = \"1\"\n/d/y = \"2\"\n");
  EXPECT_FALSE(dump.tree.exists("/d/x"));
  EXPECT_EQ(dump.tree.read("/d/y"), "2");
  EXPECT_EQ(dump.warnings.size(), 1u);
}

TEST(XenStoreDump, AFullTreeDumpHasTheRootAsItsListing)
{
  XenStoreDump dump = parse_xenstore_ls_f("/local = \"\"\n/local/domain = \"\"\n/tool = \"\"\n");
  EXPECT_EQ(dump.roots, (std::vector<std::string>{"/"}));
}

TEST(XenStoreDump, GarbageNeverThrows)
{
  std::string garbage;
  for (int i = 0; i < 2000; ++i)
    garbage += static_cast<char>((i * 7919) % 256);
  EXPECT_NO_THROW(parse_xenstore_ls_f(garbage));
  EXPECT_NO_THROW(parse_xenstore_ls_f(""));
  EXPECT_NO_THROW(parse_xenstore_ls_f("/"));
  EXPECT_NO_THROW(parse_xenstore_ls_f("/ = \"x\"\n"));
  EXPECT_NO_THROW(parse_xenstore_ls_f("\" = \"\n/a = \n/b =\n/c \"\n"));
}

TEST(XenStoreDump, ARealDumpWrappedAt60ColumnsParsesBackToTheSameTree)
{
  std::string text  = read_text(lab_dump_path("blkfront-max-queues-4"));
  XenStoreDump dump = parse_xenstore_ls_f(wrapped_at(text, 60, "\r\n"));
  EXPECT_TRUE(dump.warnings.empty());
  EXPECT_EQ(dump.print(), text);
}

TEST(XenStoreDump, ARealDumpPrintedOnANarrowTerminalRoundTrips)
{
  XenStoreDump dump = read_xenstore_ls_f_file(lab_dump_path("blkfront-max-queues-4"));
  LsOptions narrow;
  narrow.max_width   = 20; // `stty cols 22`: every value longer than 12 characters is cut
  std::string shown  = dump.print(narrow);
  XenStoreDump again = parse_xenstore_ls_f(shown);
  EXPECT_TRUE(again.tree.is_truncated("/local/domain/0/backend/vbd/2/51712/frontend"));
  EXPECT_EQ(again.tree.read("/local/domain/0/backend/vbd/2/51712/frontend"), "/local/domai");
  EXPECT_EQ(again.tree.read("/local/domain/0/backend/vbd/2/51712/sectors"), "2097152");
  EXPECT_EQ(again.print(), shown);
}

TEST(XenStoreDump, ARealDumpCutAtAnyByteNeverThrows)
{
  std::string text = read_text(lab_dump_path("blkfront-max-queues-1"));
  for (std::size_t cut = 0; cut <= text.size(); cut += 7)
    EXPECT_NO_THROW(parse_xenstore_ls_f(std::string_view(text).substr(0, cut))) << cut;
}

TEST(XenStoreLs, PrintsOneLinePerNodeBelowThePathDepthFirst)
{
  XenStore s;
  s.write("/local/domain/1/device/vbd/51712/state", "4");
  s.write("/local/domain/1/device/vbd/51712/queue-0/ring-ref", "8");
  s.write("/local/domain/1/device/vbd/51712/feature-persistent", "1");
  EXPECT_EQ(s.ls_f("/local/domain/1/device/vbd"), "/local/domain/1/device/vbd/51712 = \"\"\n"
                                                  "/local/domain/1/device/vbd/51712/state = \"4\"\n"
                                                  "/local/domain/1/device/vbd/51712/queue-0 = \"\"\n"
                                                  "/local/domain/1/device/vbd/51712/queue-0/ring-ref = \"8\"\n"
                                                  "/local/domain/1/device/vbd/51712/feature-persistent = \"1\"\n");
}

TEST(XenStoreLs, FromTheRootPrintsEveryNode)
{
  XenStore s;
  s.write("/tool/xenstored", "");
  s.write("/local/domain/0/name", "Domain-0");
  EXPECT_EQ(s.ls_f(), "/tool = \"\"\n/tool/xenstored = \"\"\n/local = \"\"\n/local/domain = \"\"\n"
                      "/local/domain/0 = \"\"\n/local/domain/0/name = \"Domain-0\"\n");
}

TEST(XenStoreLs, PrintsNothingForAMissingPath)
{
  XenStore s;
  EXPECT_EQ(s.ls_f("/local/domain/9"), "");
}

TEST(XenStoreLs, EscapesLikeSanitiseValueButLeavesQuotesAlone)
{
  XenStore s;
  s.write("/v", "a\"b\\c\td\ne\rf\x01g\x7fh");
  EXPECT_EQ(s.ls_f(), "/v = \"a\"b\\\\c\\td\\ne\\rf\\001g\\x7fh\"\n");
}

TEST(XenStoreLs, CutsLongValuesAtANarrowTerminalWidth)
{
  XenStore s;
  s.write("/local/domain/0/backend/vbd/1/51712/frontend", "/local/domain/1/device/vbd/51712");
  LsOptions narrow;
  narrow.max_width = 30; // keeps 30 - 8 = 22 characters of the value
  EXPECT_EQ(s.ls_f("/local/domain/0/backend/vbd/1/51712", narrow),
            "/local/domain/0/backend/vbd/1/51712/frontend = \"/local/domain/1/device\\...\"\n");
}

TEST(XenStoreLs, KeepsShortValuesWholeAtANarrowTerminalWidth)
{
  XenStore s;
  s.write("/d/state", "4");
  LsOptions narrow;
  narrow.max_width = 30;
  EXPECT_EQ(s.ls_f("/d", narrow), "/d/state = \"4\"\n");
}

TEST(Sanitise, UnsanitiseUndoesSanitiseForEveryByte)
{
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  EXPECT_EQ(unsanitise_value(sanitise_value(all)), all);
}

TEST(Sanitise, UnsanitiseAcceptsEscapedQuotes)
{
  EXPECT_EQ(unsanitise_value("say \\\"hi\\\""), "say \"hi\"");
}

TEST(Sanitise, UnsanitiseDropsALoneTrailingBackslash)
{
  EXPECT_EQ(unsanitise_value("abc\\"), "abc");
}
