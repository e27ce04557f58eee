/* Specification of how block I/O maps onto blkif requests: segments, indirect pages, grants, ring slots, splitting
 * and blkfront's tag set depth (xen/include/public/io/blkif.h, drivers/block/xen-blkfront.c, xen-blkback/common.h). */
#include "models/xen/blk/segments.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace pvsim::xen;

namespace {
constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
} // namespace

// ---- Segments ----

TEST(BlkifSegments, APageAlignedFourKilobyteBlockIsOneSegment)
{
  EXPECT_EQ(blkif_segments(4 * KiB), 1u);
}

TEST(BlkifSegments, ASectorIsOneSegment)
{
  EXPECT_EQ(blkif_segments(512), 1u);
}

TEST(BlkifSegments, AFourKilobyteBlockStraddlingAPageBoundaryIsTwoSegments)
{
  EXPECT_EQ(blkif_segments(4 * KiB, 512), 2u);
}

TEST(BlkifSegments, AFlushCarriesNoSegment)
{
  EXPECT_EQ(blkif_segments(0), 0u);
}

TEST(BlkifSegments, AnOffsetMustLieInsideThePage)
{
  EXPECT_THROW(blkif_segments(512, 4096), std::invalid_argument);
}

TEST(BlkifSegments, OneMegabyteIs256Segments)
{
  EXPECT_EQ(blkif_segments(1 * MiB), 256u);
}

// ---- Direct and indirect requests ----

TEST(BlkifRequestLayout, ElevenSegmentsFitTheRequestItself)
{
  BlkifRequestLayout l = blkif_request_layout_for_bytes(44 * KiB);
  EXPECT_EQ(l.segments, 11u);
  EXPECT_FALSE(l.indirect);
  EXPECT_EQ(l.indirect_pages, 0u);
  EXPECT_EQ(l.grants, 11u);
}

TEST(BlkifRequestLayout, TwelveSegmentsNeedOneIndirectPage)
{
  BlkifRequestLayout l = blkif_request_layout_for_bytes(48 * KiB);
  EXPECT_TRUE(l.indirect);
  EXPECT_EQ(l.indirect_pages, 1u);
  EXPECT_EQ(l.grants, 13u); // 12 data pages + the indirect page
}

TEST(BlkifRequestLayout, ASegmentDescriptorIsEightBytesSoAnIndirectPageHolds512)
{
  EXPECT_EQ(blkif_segment_descriptor_bytes, 8u);
  EXPECT_EQ(blkif_segments_per_indirect_page, 512u);
  EXPECT_EQ(blkif_request_layout(512).indirect_pages, 1u);
  EXPECT_EQ(blkif_request_layout(513).indirect_pages, 2u);
}

TEST(BlkifRequestLayout, BlkbacksMaximumOf256SegmentsTakesOneIndirectPage)
{
  BlkifRequestLayout l = blkif_request_layout(blkback_max_indirect_segments);
  EXPECT_EQ(l.indirect_pages, 1u);
  EXPECT_EQ(l.grants, 257u);
}

TEST(BlkifRequestLayout, TheProtocolStopsAtEightIndirectPages)
{
  EXPECT_EQ(blkif_request_layout(4096).indirect_pages, 8u);
  EXPECT_THROW(blkif_request_layout(4097), std::invalid_argument);
}

TEST(BlkifRequestLayout, EveryRequestTakesExactlyOneRingSlot)
{
  for (unsigned segs : {0u, 1u, 11u, 12u, 256u, 4096u})
    EXPECT_EQ(blkif_request_layout(segs).ring_slots, 1u) << segs << " segments";
}

// ---- Negotiated limit ----

TEST(BlkifSegmentLimit, TheFrontendsDefaultOf32CapsTheBackendsOffer)
{
  EXPECT_EQ(blkfront_negotiated_indirect_segments(256), 32u);
  EXPECT_EQ(blkfront_negotiated_indirect_segments(256, 256), 256u);
  EXPECT_EQ(blkfront_negotiated_indirect_segments(256, 1024), 256u);
}

TEST(BlkifSegmentLimit, ABackendWithoutIndirectDescriptorsLeavesElevenSegments)
{
  unsigned n = blkfront_negotiated_indirect_segments(0); // no feature-max-indirect-segments key
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(blkif_segment_limit(n), 11u);
}

TEST(BlkifSegmentLimit, AnOfferAtOrBelowElevenMeansNoIndirectDescriptors)
{
  EXPECT_EQ(blkfront_negotiated_indirect_segments(11), 0u);
  EXPECT_EQ(blkfront_negotiated_indirect_segments(12), 12u);
}

TEST(BlkifSegmentLimit, AFrontendParameterBelowElevenIsRaisedToEleven)
{
  EXPECT_EQ(blkfront_negotiated_indirect_segments(256, 4), 0u); // min(256, 11) = 11: no indirect
}

TEST(BlkifSegmentLimit, TheLimitOfANegotiatedDeviceIsItsSegmentsPerRequest)
{
  BlkifNegotiation n;
  EXPECT_EQ(blkif_segment_limit(n), 11u);
  n.max_indirect_segments = 32;
  EXPECT_EQ(blkif_segment_limit(n), 32u);
}

// ---- Splitting ----

TEST(BlkfrontSplitting, A128KilobyteIoFitsOneIndirectRequestOf32Segments)
{
  EXPECT_EQ(blkfront_requests_for(128 * KiB, 32), 1u);
  EXPECT_FALSE(blkfront_must_split(128 * KiB, 32));
}

TEST(BlkfrontSplitting, WithoutIndirectDescriptors128KilobytesBecomeThreeRequests)
{
  EXPECT_EQ(blkfront_requests_for(128 * KiB, 11), 3u); // 11 + 11 + 10 pages
  EXPECT_TRUE(blkfront_must_split(128 * KiB, 11));
}

TEST(BlkfrontSplitting, OneMegabyteBecomesEightRequestsAtTheDefaultLimit)
{
  EXPECT_EQ(blkfront_requests_for(1 * MiB, blkfront_negotiated_indirect_segments(256)), 8u);
  EXPECT_EQ(blkfront_requests_for(1 * MiB, 256), 1u);
}

TEST(BlkfrontSplitting, AnUnalignedBufferCanCostAnExtraRequest)
{
  EXPECT_EQ(blkfront_requests_for(44 * KiB, 11), 1u);
  EXPECT_EQ(blkfront_requests_for(44 * KiB, 11, 512), 2u); // 12 pages
}

TEST(BlkfrontSplitting, AFlushIsOneRequest)
{
  EXPECT_EQ(blkfront_requests_for(0, 11), 1u);
  EXPECT_FALSE(blkfront_must_split(0, 11));
}

TEST(BlkfrontSplitting, AZeroLimitIsRejected)
{
  EXPECT_THROW(blkfront_requests_for(4 * KiB, 0), std::invalid_argument);
}

// ---- Tag set depth ----

TEST(BlkfrontQueueDepth, EachHardwareQueueGetsOneTagPerRingSlot)
{
  EXPECT_EQ(blkfront_queue_depth(0, 0), 32u);
  EXPECT_EQ(blkfront_queue_depth(2, 0), 128u);
  EXPECT_EQ(blkfront_queue_depth(4, 0), 512u);
}

TEST(BlkfrontQueueDepth, IndirectDescriptorsDoNotChangeTheDepthWithFourKilobytePages)
{
  EXPECT_FALSE(blkfront_has_extra_req());
  EXPECT_EQ(blkfront_queue_depth(0, 32), blkfront_queue_depth(0, 0));
  EXPECT_EQ(blkfront_max_slots_per_request(0), 1u);
}

TEST(BlkfrontQueueDepth, SixtyFourKilobytePagesWithoutIndirectHalveTheDepth)
{
  EXPECT_TRUE(blkfront_has_extra_req(64 * KiB));
  EXPECT_EQ(blkfront_max_slots_per_request(0, 64 * KiB), 2u);
  EXPECT_EQ(blkfront_queue_depth(0, 0, 64 * KiB), 16u);
  EXPECT_EQ(blkfront_queue_depth(0, 32, 64 * KiB), 32u);
}

TEST(BlkfrontQueueDepth, SixteenKilobytePagesStillFitElevenSegments)
{
  EXPECT_FALSE(blkfront_has_extra_req(16 * KiB));
  EXPECT_EQ(blkfront_queue_depth(0, 0, 16 * KiB), 32u);
}
