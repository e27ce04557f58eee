/* Specification of the Toeplitz hash and of PV network queue steering.
 *
 * Expected hashes: Microsoft, "Verifying the RSS Hash Calculation" (learn.microsoft.com, windows-hardware/drivers/
 * network/verifying-the-rss-hash-calculation), the same suite as Intel's 82599 datasheet section 7.1.2.8.3, as
 * reproduced in DPDK app/test/test_thash.c (v4_tbl, v6_tbl) and FreeBSD's RSS test harness. The suite lists
 * destination before source; the hash input is source first. */
#include "models/xen/net/netif_steering.hpp"

#include <gtest/gtest.h>

#include <set>
#include <span>

using namespace pvsim::xen;

namespace {

/** One line of the suite, IPv4 or IPv6: the packet as listed (destination first) and its two expected hashes. */
struct RssVector {
  const char* dst;
  std::uint16_t dport;
  const char* src;
  std::uint16_t sport;
  std::uint32_t hash_2tuple; // addresses only
  std::uint32_t hash_4tuple; // addresses and TCP ports
};

const RssVector ipv4_suite[] = {
    {"161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2, 0x51ccc178},
    {"65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a, 0xc626b0ea},
    {"12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de, 0x5c2b394a},
    {"209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xafc7327f},
    {"202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5, 0x10e828a2},
};

const RssVector ipv6_suite[] = {
    {"3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2cc18cd5, 0x40207d3d},
    {"ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0f0c461c, 0xdde51bbf},
    {"fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, 0x4b61e985, 0x02d1feef},
};

std::uint32_t hash(const std::vector<std::uint8_t>& input)
{
  return toeplitz_hash(microsoft_rss_key(), input);
}

/** For every vector of `suite`: the hash input `input_of(vector)` is `input_bytes` long and hashes, under the
 * Microsoft key, to the vector's `expected` hash. */
template <typename InputOf>
void expect_suite_hashes(std::span<const RssVector> suite, std::size_t input_bytes, std::uint32_t RssVector::*expected,
                         InputOf input_of)
{
  for (const auto& v : suite) {
    SCOPED_TRACE(v.src);
    auto in = input_of(v);
    EXPECT_EQ(in.size(), input_bytes);
    EXPECT_EQ(hash(in), v.*expected);
  }
}

} // namespace

TEST(Toeplitz, MicrosoftKeyIsTheVerificationSuiteKey)
{
  const auto& key = microsoft_rss_key();
  EXPECT_EQ(key.size(), 40u);
  EXPECT_EQ(key.front(), 0x6d);
  EXPECT_EQ(key[19], 0xcb);
  EXPECT_EQ(key.back(), 0xfa);
}

TEST(Toeplitz, Ipv4AddressesOnlyMatchTheVerificationSuite)
{
  expect_suite_hashes(ipv4_suite, 8, &RssVector::hash_2tuple,
                      [](const RssVector& v) { return hash_input_ipv4(*parse_ipv4(v.src), *parse_ipv4(v.dst)); });
}

TEST(Toeplitz, Ipv4WithTcpPortsMatchesTheVerificationSuite)
{
  expect_suite_hashes(ipv4_suite, 12, &RssVector::hash_4tuple, [](const RssVector& v) {
    return hash_input_ipv4_tcp(*parse_ipv4(v.src), *parse_ipv4(v.dst), v.sport, v.dport);
  });
}

TEST(Toeplitz, Ipv6AddressesOnlyMatchTheVerificationSuite)
{
  expect_suite_hashes(ipv6_suite, 32, &RssVector::hash_2tuple,
                      [](const RssVector& v) { return hash_input_ipv6(*parse_ipv6(v.src), *parse_ipv6(v.dst)); });
}

TEST(Toeplitz, Ipv6WithTcpPortsMatchesTheVerificationSuite)
{
  expect_suite_hashes(ipv6_suite, 36, &RssVector::hash_4tuple, [](const RssVector& v) {
    return hash_input_ipv6_tcp(*parse_ipv6(v.src), *parse_ipv6(v.dst), v.sport, v.dport);
  });
}

TEST(Toeplitz, PortsAreHashedInNetworkByteOrder)
{
  auto in = hash_input_ipv4_tcp(*parse_ipv4("1.2.3.4"), *parse_ipv4("5.6.7.8"), 0x1234, 0xabcd);
  std::vector<std::uint8_t> expected = {1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x34, 0xab, 0xcd};
  EXPECT_EQ(in, expected);
}

TEST(Toeplitz, EmptyInputHashesToZero)
{
  EXPECT_EQ(toeplitz_hash(microsoft_rss_key(), std::vector<std::uint8_t>{}), 0u);
}

TEST(Toeplitz, KeyBitsPastTheKeyCountAsZero)
{
  // One key byte: only the first 8 bits of each window can be set.
  std::vector<std::uint8_t> key = {0xff};
  std::vector<std::uint8_t> in  = {0x80};
  EXPECT_EQ(toeplitz_hash(key, in), 0xff000000u);
}

TEST(Toeplitz, MalformedAddressesAreRejected)
{
  EXPECT_FALSE(parse_ipv4("256.1.1.1"));
  EXPECT_FALSE(parse_ipv4("1.2.3"));
  EXPECT_FALSE(parse_ipv6("3ffe::1::2"));
}

TEST(IndirectionTable, DefaultsToRoundRobinOver128Entries)
{
  RssIndirectionTable table(4);
  EXPECT_EQ(table.size(), 128u);
  for (std::size_t i = 0; i < table.size(); ++i)
    EXPECT_EQ(table.at(i), i % 4);
}

TEST(IndirectionTable, MapsAHashThroughHashModuloSize)
{
  RssIndirectionTable table(4);
  ASSERT_TRUE(table.set(0x51ccc178u % 128, 3));
  EXPECT_EQ(table.queue_for_hash(0x51ccc178u), 3u);
}

TEST(IndirectionTable, RejectsEntriesForQueuesThatDoNotExist)
{
  RssIndirectionTable table(2, 64);
  EXPECT_FALSE(table.set(5, 2));
  EXPECT_FALSE(table.set(64, 0));
  EXPECT_EQ(table.at(5), 1u);
}

TEST(IndirectionTable, RejectsSizesAboveNetbacksMaximum)
{
  EXPECT_THROW(RssIndirectionTable(4, 129), std::invalid_argument);
  EXPECT_THROW(RssIndirectionTable(4, 0), std::invalid_argument);
  EXPECT_THROW(RssIndirectionTable(0), std::invalid_argument);
}

TEST(NetfrontSteering, OneQueueTakesEverything)
{
  EXPECT_EQ(netfront_select_queue(0xdeadbeef, 1), 0u);
  EXPECT_EQ(netfront_select_queue(0xdeadbeef, 0), 0u);
}

TEST(NetfrontSteering, IsThePlainModuloOfTheSkbHash)
{
  // xennet_select_queue(): hash % num_queues. reciprocal_scale() would give (5 * 3) >> 32 = 0 here.
  EXPECT_EQ(netfront_select_queue(5, 3), 2u);
  EXPECT_EQ(netfront_select_queue(0xdeadbeef, 4), 3u);
}

TEST(NetfrontSteering, SpreadsFlowsOverAllQueues)
{
  std::set<unsigned> used;
  for (const auto& v : ipv4_suite)
    used.insert(netfront_select_queue(v.hash_4tuple, 4));
  for (unsigned q : used)
    EXPECT_LT(q, 4u);
  EXPECT_GE(used.size(), 2u);
}

TEST(NetbackSteering, UsesTheMappingTableWhenThereIsOne)
{
  RssIndirectionTable table(4, 8);
  for (std::size_t i = 0; i < 8; ++i)
    ASSERT_TRUE(table.set(i, 2));
  EXPECT_EQ(netback_select_queue(0x51ccc178u, 4, &table), 2u);
}

TEST(NetbackSteering, WithoutATableTakesTheHashModuloTheQueues)
{
  EXPECT_EQ(netback_select_queue(0x51ccc178u, 4, nullptr), 0x51ccc178u % 4);
  EXPECT_EQ(netback_select_queue(0x51ccc178u, 0, nullptr), 0u);
}
