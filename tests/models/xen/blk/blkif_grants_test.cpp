/* Specification of a blkif ring's grant references: xen-blkfront's free list (get_free_grant(), blkif_completion():
 * persistent grants back at the head, dropped ones without a reference at the tail) and xen-blkback's per-ring tree of
 * persistent grants, capped at max_pgrants = 1056 (xen_blkbk_map(), add_persistent_gnt()). */
#include "models/xen/blk/blkif_grants.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace pvsim::xen;

namespace {
/** One ring: the frontend's free list and the backend's tree, and the requests in flight between them. */
struct Ring {
  BlkfrontGrantPool pool;
  PersistentGrantTree tree;
  std::vector<BlkifShadowGrants> in_flight;

  explicit Ring(std::size_t entries, unsigned max_pgrants = blkback_max_persistent_grants)
      : pool(entries), tree(max_pgrants)
  {
  }
  /** blkfront submits a request, blkback maps its grants. */
  PersistentGrantTree::MapResult submit(unsigned segments, unsigned indirect_pages = 0)
  {
    in_flight.push_back(pool.take(segments, indirect_pages));
    return tree.map(in_flight.back(), true);
  }
  /** Every request in flight completes, in submission order. */
  void complete_all()
  {
    for (const auto& g : in_flight)
      pool.give_back(g, [this](GrantRef ref) { return tree.holds(ref); });
    in_flight.clear();
  }
  /** A round: `requests` requests of 256 segments (one indirect page each) in flight together, then completed. */
  PersistentGrantTree::MapResult round_of_indirect_requests(unsigned requests)
  {
    PersistentGrantTree::MapResult sum;
    for (unsigned i = 0; i < requests; ++i) {
      auto m = submit(256, 1);
      sum.hits += m.hits;
      sum.mapped += m.mapped;
      sum.kept += m.kept;
      sum.unmapped += m.unmapped;
    }
    complete_all();
    return sum;
  }
};

std::set<GrantRef> refs(const BlkifShadowGrants& g)
{
  std::set<GrantRef> s(g.data.begin(), g.data.end());
  s.insert(g.indirect.begin(), g.indirect.end());
  return s;
}
} // namespace

// ---- blkfront's free list ----

TEST(BlkfrontGrants, TheDefaultRingsListHoldsAsManyGrantsAsBlkbackKeepsPersistently)
{
  // 32 slots x (32 segments + 1 indirect page): where max_pgrants' 1056 comes from.
  EXPECT_EQ(blkfront_grants_per_ring(32, 32), 1056u);
  EXPECT_EQ(blkfront_grants_per_ring(11, 32), 32u * 12); // INDIRECT_GREFS(11) rounds up to one page
  EXPECT_EQ(blkfront_grants_per_ring(256, 512), 512u * 257);
}

TEST(BlkfrontGrants, AFreshListClaimsANewReferenceForEveryGrant)
{
  BlkfrontGrantPool pool(12);
  BlkifShadowGrants g = pool.take(11, 0);
  EXPECT_EQ(g.fresh, 11u);
  EXPECT_EQ(refs(g).size(), 11u);
  EXPECT_TRUE(g.indirect.empty());
}

TEST(BlkfrontGrants, AnIndirectRequestTakesEachIndirectPagesGrantBeforeItsSegments)
{
  BlkfrontGrantPool pool(1000);
  BlkifShadowGrants g = pool.take(600, 2);
  ASSERT_EQ(g.indirect.size(), 2u);
  ASSERT_EQ(g.data.size(), 600u);
  EXPECT_EQ(g.indirect[0], 1u); // first from the list
  EXPECT_EQ(g.data[0], 2u);     // then the 512 segments it describes
  EXPECT_EQ(g.data[511], 513u);
  EXPECT_EQ(g.indirect[1], 514u); // then the second page
  EXPECT_EQ(g.data[512], 515u);
  EXPECT_EQ(g.fresh, 602u);
}

TEST(BlkfrontGrants, AGrantTheBackendKeepsIsReusedFirstWithItsReference)
{
  BlkfrontGrantPool pool(8);
  BlkifShadowGrants a = pool.take(3, 0);
  pool.give_back(a, [](GrantRef) { return true; });
  EXPECT_EQ(pool.free_persistent(), 3u);
  EXPECT_EQ(pool.head(), a.data.back()); // list_add(): the last one given back is at the head
  BlkifShadowGrants b = pool.take(3, 0);
  EXPECT_EQ(b.fresh, 0u);
  EXPECT_EQ(refs(b), refs(a));
}

TEST(BlkfrontGrants, AGrantTheBackendDroppedLosesItsReferenceAndWaitsAtTheTail)
{
  BlkfrontGrantPool pool(4);
  BlkifShadowGrants a = pool.take(2, 0); // 2 left, without references
  GrantRef kept = a.data[0], dropped = a.data[1];
  pool.give_back(a, [kept](GrantRef ref) { return ref == kept; });
  EXPECT_EQ(pool.free_grants(), 4u);
  EXPECT_EQ(pool.free_persistent(), 1u);
  BlkifShadowGrants b = pool.take(2, 0);
  EXPECT_EQ(b.data[0], kept);    // the persistent one first
  EXPECT_NE(b.data[1], dropped); // then an entry without a reference: a new one is claimed
  EXPECT_EQ(b.fresh, 1u);
}

// ---- blkback's persistent grants ----

TEST(PersistentGrants, BelowTheCapEveryReuseIsAHit)
{
  Ring ring(32 * 257);
  auto first = ring.round_of_indirect_requests(4); // 4 x 257 = 1028 grants in flight, below 1056
  EXPECT_EQ(first.mapped, 1028u);
  EXPECT_EQ(first.kept, 1028u);
  EXPECT_EQ(first.unmapped, 0u);
  for (int round = 0; round < 3; ++round) {
    auto again = ring.round_of_indirect_requests(4);
    EXPECT_EQ(again.hits, 1028u);
    EXPECT_EQ(again.mapped, 0u);
  }
  EXPECT_EQ(ring.tree.size(), 1028u);
  EXPECT_FALSE(ring.tree.overflowed());
}

TEST(PersistentGrants, After1056PersistentGrantsBlkbackMapsAndUnmapsPerRequest)
{
  Ring ring(32 * 257);
  auto first = ring.round_of_indirect_requests(5); // 5 x 257 = 1285 grants in flight
  EXPECT_EQ(first.kept, 1056u);
  EXPECT_EQ(first.unmapped, 1285u - 1056u);
  EXPECT_TRUE(ring.tree.overflowed());
  for (int round = 0; round < 3; ++round) {
    // The frontend reuses the 1056 persistent grants first; the 229 others get new references every time, and the
    // backend, its tree full, maps them for the request and unmaps them after it.
    auto again = ring.round_of_indirect_requests(5);
    EXPECT_EQ(again.hits, 1056u);
    EXPECT_EQ(again.mapped, 229u);
    EXPECT_EQ(again.kept, 0u);
    EXPECT_EQ(again.unmapped, 229u);
  }
  EXPECT_EQ(ring.tree.size(), 1056u);
  EXPECT_EQ(ring.tree.stat_unmaps().get(), 4u * 229);
}

TEST(PersistentGrants, AtDepthOneLifoReuseKeepsOneRequestsReferences)
{
  Ring ring(blkfront_grants_per_ring(32, 32));
  auto first                    = ring.submit(11);
  std::set<GrantRef> first_refs = refs(ring.in_flight.front());
  ring.complete_all();
  EXPECT_EQ(first.mapped, 11u);
  for (int i = 0; i < 100; ++i) {
    auto m = ring.submit(11);
    EXPECT_EQ(refs(ring.in_flight.front()), first_refs);
    EXPECT_EQ(m.hits, 11u);
    ring.complete_all();
  }
  EXPECT_EQ(ring.tree.size(), 11u); // of the 1056 grants in the list, the backend only ever saw 11
  EXPECT_EQ(ring.tree.stat_maps().get(), 11u);
}

TEST(PersistentGrants, TheCapIsCountedPerTree)
{
  Ring a(32 * 257), b(32 * 257);
  a.round_of_indirect_requests(4);
  b.round_of_indirect_requests(4); // 2 x 1028 grants persistent in all, above 1056, each ring below it
  EXPECT_EQ(a.tree.size(), 1028u);
  EXPECT_EQ(b.tree.size(), 1028u);
  EXPECT_EQ(a.tree.stat_unmaps().get() + b.tree.stat_unmaps().get(), 0u);
}

TEST(PersistentGrants, ADeviceWideBudgetIsSharedByItsRingsTrees)
{
  // pgrants_pool "device" (the multi-queue series before its v4 patch 10): the same two rings as above, one budget of
  // 1056 for both. The first ring keeps its 1028 grants; the second gets the 28 left, and the rest of its grants are
  // mapped and unmapped per request, every round.
  Ring a(32 * 257), b(32 * 257);
  std::size_t device = 0;
  a.tree.share_budget(&device);
  b.tree.share_budget(&device);
  a.round_of_indirect_requests(4);
  auto first = b.round_of_indirect_requests(4);
  EXPECT_EQ(device, 1056u);
  EXPECT_EQ(a.tree.size(), 1028u);
  EXPECT_EQ(b.tree.size(), 28u);
  EXPECT_EQ(first.kept, 28u);
  EXPECT_EQ(first.unmapped, 1028u - 28u);
  auto again = b.round_of_indirect_requests(4);
  EXPECT_EQ(again.hits, 28u);
  EXPECT_EQ(again.unmapped, 1000u);
  EXPECT_EQ(a.round_of_indirect_requests(4).unmapped, 0u); // the first ring's grants all stay persistent
}

TEST(PersistentGrants, WithoutPersistentGrantsEveryGrantIsMappedAndUnmapped)
{
  BlkfrontGrantPool pool(64);
  PersistentGrantTree tree;
  for (int i = 0; i < 3; ++i) {
    BlkifShadowGrants g = pool.take(17, 1);
    auto m              = tree.map(g, false);
    EXPECT_EQ(m.hits, 0u);
    EXPECT_EQ(m.mapped, 18u);
    EXPECT_EQ(m.unmapped, 18u);
    pool.give_back(g, [&tree](GrantRef ref) { return tree.holds(ref); });
    EXPECT_EQ(g.fresh, 18u); // and the frontend grants every page anew
  }
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_FALSE(tree.overflowed());
}

TEST(PersistentGrants, ACapOfZeroKeepsNothing)
{
  Ring ring(64, 0);
  auto m = ring.submit(5);
  EXPECT_EQ(m.mapped, 5u);
  EXPECT_EQ(m.unmapped, 5u);
  EXPECT_EQ(ring.tree.size(), 0u);
}
