/* pvsim: receive-side steering of Xen PV network queues: netback's hash-to-queue mapping table and the queue
 * choices of Linux netfront and netback, on the Toeplitz hash (models/net/toeplitz).
 *
 * Models: a mapping table of at most 128 entries (XEN_NETBK_MAX_HASH_MAPPING_SIZE, xen-netback/common.h) as
 * netback's xenvif_select_queue() uses it, and netfront's xennet_select_queue().
 * Leaves out: the control-ring messages that carry key and table. */
#pragma once

#include "models/net/toeplitz.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pvsim::xen {

// The netif hash is the RSS Toeplitz hash: Xen code names it from here.
using net::hash_input_ipv4;
using net::hash_input_ipv4_tcp;
using net::hash_input_ipv6;
using net::hash_input_ipv6_tcp;
using net::Ipv4Address;
using net::Ipv6Address;
using net::microsoft_rss_key;
using net::parse_ipv4;
using net::parse_ipv6;
using net::toeplitz_hash;
using net::ToeplitzKey;

/** The hash-to-queue mapping table netback keeps per vif (vif->hash.mapping). */
class RssIndirectionTable {
public:
  /** XEN_NETBK_MAX_HASH_MAPPING_SIZE. */
  static constexpr std::size_t max_size = 128;

  /** A table of `size` entries (1..128) filled round robin over `num_queues` queues, entry i -> i % num_queues,
   * the layout of Linux ethtool_rxfh_indir_default() that frontends usually send. Note that netback itself
   * zeroes the table on XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE (every hash to queue 0) until the frontend sends
   * a mapping. Throws std::invalid_argument for size 0 or above 128, or no queue. */
  explicit RssIndirectionTable(unsigned num_queues, std::size_t size = max_size);

  std::size_t size() const { return table_.size(); }
  unsigned num_queues() const { return num_queues_; }
  unsigned at(std::size_t index) const { return table_.at(index); }
  /** Sets one entry. False (table unchanged) when the index is out of range or the queue does not exist, as
   * xenvif_set_hash_mapping() rejects with XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER. */
  bool set(std::size_t index, unsigned queue);
  /** netback xenvif_select_queue(): mapping[hash % size]. */
  unsigned queue_for_hash(std::uint32_t hash) const { return table_[hash % table_.size()]; }

private:
  unsigned num_queues_;
  std::vector<unsigned> table_;
};

/** Linux netfront xennet_select_queue(): queue 0 with one queue, else skb_get_hash(skb) % num_queues (a plain
 * modulo, not reciprocal_scale()). Returns 0 for num_queues 0. */
unsigned netfront_select_queue(std::uint32_t skb_hash, unsigned num_queues);

/** Linux netback xenvif_select_queue() when the frontend set the Toeplitz algorithm: with a mapping table the
 * table's entry, without one (size 0) hash % num_queues. */
unsigned netback_select_queue(std::uint32_t toeplitz_hash_value, unsigned num_queues, const RssIndirectionTable* table);

} // namespace pvsim::xen
