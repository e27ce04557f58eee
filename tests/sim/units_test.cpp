#include "sim/quantity.hpp"
#include "sim/units.hpp"

#include <gtest/gtest.h>

using namespace pvsim;

TEST(Units, DurationsAcceptTheUsualUnits)
{
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::duration, "20us"), 20e-6);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::duration, "1.5 ms"), 1.5e-3);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::duration, "100ns"), 100e-9);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::duration, "2s"), 2.0);
}

TEST(Units, SizesFollowFioBinaryShorthandAndSIPrefixes)
{
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::size, "4KiB"), 4096);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::size, "4k"), 4096); // fio: kb_base=1024
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::size, "4KB"), 4000);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::size, "1MiB"), 1048576);
}

TEST(Units, FrequenciesAndBandwidths)
{
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::frequency, "2.5GHz"), 2.5e9);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::bandwidth, "10Gbit/s"), 1.25e9);
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::bandwidth, "100MB/s"), 1e8);
}

TEST(Units, AStringWithoutUnitOrWithAnUnknownUnitIsRejected)
{
  EXPECT_FALSE(parse_quantity(Dimension::duration, "20"));
  EXPECT_FALSE(parse_quantity(Dimension::duration, "20 parsecs"));
  EXPECT_FALSE(parse_quantity(Dimension::duration, "us"));
  EXPECT_FALSE(parse_quantity(Dimension::size, "4us"));
}

TEST(Units, NegativeValuesParseSoThatRangeChecksCanNameThem)
{
  EXPECT_DOUBLE_EQ(*parse_quantity(Dimension::duration, "-3us"), -3e-6);
}

TEST(Units, AKeyMayCarryTheUnitInstead)
{
  json j = {{"latency_us", 20}};
  JsonNode n(j, "f.json", "");
  EXPECT_DOUBLE_EQ(*read_quantity(n, "latency", Dimension::duration, nullptr), 20e-6);
}

TEST(Units, BothFormsAtOnceAreAnError)
{
  json j = {{"latency_us", 20}, {"latency", "20us"}};
  JsonNode n(j, "f.json", "/x");
  EXPECT_THROW(read_quantity(n, "latency", Dimension::duration, nullptr), InputError);
}

TEST(Units, ABareNumberUnderTheUnitlessKeyIsAmbiguous)
{
  json j = {{"latency", 20}};
  JsonNode n(j, "f.json", "/x");
  try {
    read_quantity(n, "latency", Dimension::duration, nullptr);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/x/latency");
    EXPECT_NE(std::string(e.what()).find("latency_s"), std::string::npos) << e.what();
  }
}
