/* pvsim: the Toeplitz hash of receive-side scaling (Microsoft RSS), bit for bit, and its inputs.
 *
 * Models: the hash (XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ in xen/include/public/io/netif.h is the same function as
 * Microsoft RSS and as a NIC's RSS hash) over the four hash types (IPv4 and IPv6 addresses, with or without TCP
 * ports, all in network byte order), with Microsoft's verification key.
 * Leaves out: how Linux computes skb_get_hash() itself (flow dissector + siphash), IP options and extension headers.
 * The queue choices built on it (netback's mapping table, netfront's modulo) are in models/xen/net/netif_steering. */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pvsim::net {

/** XEN_NETBK_MAX_HASH_KEY_SIZE (xen-netback/common.h): 40 bytes, enough for a 36-byte IPv6 4-tuple. */
constexpr std::size_t toeplitz_key_size = 40;
using ToeplitzKey                       = std::array<std::uint8_t, toeplitz_key_size>;

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

} // namespace pvsim::net
