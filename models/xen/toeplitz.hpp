/* pvsim: receive-side steering of Xen PV network queues: the Toeplitz hash, its indirection table, and the
 * queue choices of Linux netfront and netback.
 *
 * Models: the Toeplitz hash bit for bit (XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ in xen/include/public/io/netif.h,
 * the same function as Microsoft RSS), over the four netif hash types (IPv4 and IPv6 addresses, with or without
 * TCP ports, all in network byte order), a mapping table of at most 128 entries (XEN_NETBK_MAX_HASH_MAPPING_SIZE,
 * xen-netback/common.h) as netback's xenvif_select_queue() uses it, and netfront's xennet_select_queue().
 * Leaves out: how Linux computes skb_get_hash() itself (flow dissector + siphash: callers pass the hash), the
 * control-ring messages that carry key and table, IP options and extension headers. */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pvsim::xen {

/** XEN_NETBK_MAX_HASH_KEY_SIZE (xen-netback/common.h): 40 bytes, enough for a 36-byte IPv6 4-tuple. */
constexpr std::size_t toeplitz_key_size = 40;
using ToeplitzKey = std::array<std::uint8_t, toeplitz_key_size>;

/** The key of Microsoft's "Verifying the RSS Hash Calculation" suite (also Intel 82599 datasheet 7.1.2.8.3). */
const ToeplitzKey& microsoft_rss_key();

/** The Toeplitz hash of `input` under `key`: for every input bit set, xor in the 32 key bits starting at that
 * bit position. Key bits past the end of the key count as 0 (as xen_netif_toeplitz_hash() in netif.h does). */
std::uint32_t toeplitz_hash(std::span<const std::uint8_t> key, std::span<const std::uint8_t> input);

using Ipv4Address = std::array<std::uint8_t, 4>;
using Ipv6Address = std::array<std::uint8_t, 16>;

/** Dotted quad ("66.9.149.187") and RFC 4291 text ("3ffe:2501:200:3::1"), via inet_pton. */
std::optional<Ipv4Address> parse_ipv4(std::string_view text);
std::optional<Ipv6Address> parse_ipv6(std::string_view text);

/** The netif hash types (XEN_NETIF_CTRL_HASH_TYPE_*): which header fields feed the hash. */
enum class NetifHashType { ipv4, ipv4_tcp, ipv6, ipv6_tcp };

/** Hash input buffers, laid out as netif.h defines them: source address, destination address, then source port
 * and destination port for the _tcp types, every field in network byte order. Ports are host-order numbers. */
std::vector<std::uint8_t> hash_input_ipv4(const Ipv4Address& src, const Ipv4Address& dst);
std::vector<std::uint8_t> hash_input_ipv4_tcp(const Ipv4Address& src, const Ipv4Address& dst, std::uint16_t sport,
                                              std::uint16_t dport);
std::vector<std::uint8_t> hash_input_ipv6(const Ipv6Address& src, const Ipv6Address& dst);
std::vector<std::uint8_t> hash_input_ipv6_tcp(const Ipv6Address& src, const Ipv6Address& dst, std::uint16_t sport,
                                              std::uint16_t dport);

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
unsigned netback_select_queue(std::uint32_t toeplitz_hash_value, unsigned num_queues,
                              const RssIndirectionTable* table);

} // namespace pvsim::xen
