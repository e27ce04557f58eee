/* pvsim: sizes of Xen shared I/O rings (xen/include/public/io/ring.h).
 *
 * Models: __CONST_RING_SIZE(): the entries left after the 64-byte shared-ring header (four RING_IDX, then padding),
 * divided by the entry size (a union of request and response), rounded down to a power of two (__RD32).
 * Leaves out: the producer/consumer indexes and event thresholds themselves (the simulation core's business). */
#pragma once

#include <cstddef>

namespace pvsim::xen {

/** XEN_PAGE_SIZE: grants and ring pages are always 4 KiB. */
constexpr std::size_t xen_page_size = 4096;
/** offsetof(struct *_sring, ring): req_prod, req_event, rsp_prod, rsp_event and 48 bytes of padding. */
constexpr std::size_t sring_header_bytes = 64;

/** Largest power of two not above x (0 for 0), as __RD32 rounds. */
constexpr std::size_t round_down_pow2(std::size_t x)
{
  std::size_t p = 1;
  if (x == 0)
    return 0;
  while (p <= x / 2)
    p *= 2;
  return p;
}

/** __CONST_RING_SIZE for a ring of `ring_bytes` with entries of `entry_bytes`. */
constexpr std::size_t const_ring_size(std::size_t ring_bytes, std::size_t entry_bytes)
{
  return ring_bytes <= sring_header_bytes || entry_bytes == 0
             ? 0
             : round_down_pow2((ring_bytes - sring_header_bytes) / entry_bytes);
}

/** sizeof(union blkif_sring_entry) in the native x86_64 ABI: struct blkif_request is 112 bytes (operation,
 * nr_segments, handle, 4 bytes of padding, id, sector_number, 11 segments of 8 bytes), the response 16. */
constexpr std::size_t blkif_entry_bytes = 112;
/** netif tx slot: struct netif_tx_request, 12 bytes ("Ring slot size is 12 octets", netif.h). */
constexpr std::size_t netif_tx_entry_bytes = 12;
/** netif rx slot: 8 bytes ("Ring slot size is 8 octets", netif.h). */
constexpr std::size_t netif_rx_entry_bytes = 8;

/** BLK_RING_SIZE (xen-blkfront.c) for a ring of 2^order pages: 32, 64, 128, 256, 512 for orders 0..4. */
constexpr unsigned blkif_ring_slots(unsigned ring_page_order)
{
  return static_cast<unsigned>(const_ring_size(xen_page_size << ring_page_order, blkif_entry_bytes));
}
/** NET_TX_RING_SIZE and NET_RX_RING_SIZE (xen-netfront.c): one page each, 256 slots. */
constexpr unsigned netif_tx_ring_slots = static_cast<unsigned>(const_ring_size(xen_page_size, netif_tx_entry_bytes));
constexpr unsigned netif_rx_ring_slots = static_cast<unsigned>(const_ring_size(xen_page_size, netif_rx_entry_bytes));

static_assert(blkif_ring_slots(0) == 32 && blkif_ring_slots(4) == 512);
static_assert(netif_tx_ring_slots == 256 && netif_rx_ring_slots == 256);

} // namespace pvsim::xen
