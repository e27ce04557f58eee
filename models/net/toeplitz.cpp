#include "models/net/toeplitz.hpp"

#include <arpa/inet.h>

#include <stdexcept>
#include <string>

namespace pvsim::net {

const ToeplitzKey& microsoft_rss_key()
{
  static const ToeplitzKey key = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                  0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                  0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  return key;
}

namespace {

/** The 32 key bits starting at bit `bit` (bit 0 = most significant bit of key[0]); bits past the key are 0. */
std::uint32_t key_window(std::span<const std::uint8_t> key, std::size_t bit)
{
  std::size_t byte  = bit / 8;
  unsigned shift    = static_cast<unsigned>(bit % 8);
  std::uint64_t acc = 0;
  for (std::size_t k = 0; k < 5; ++k)
    acc = (acc << 8) | (byte + k < key.size() ? key[byte + k] : 0u);
  // acc holds 40 bits; the window is its bits [shift, shift + 32) counted from the top.
  return static_cast<std::uint32_t>((acc >> (8 - shift)) & 0xffffffffu);
}

/** An address of `family` (AF_INET, AF_INET6) in its textual form, as inet_pton() reads it. */
template <typename Address>
std::optional<Address> parse_address(int family, std::string_view text)
{
  Address a{};
  std::string s(text);
  if (inet_pton(family, s.c_str(), a.data()) != 1)
    return std::nullopt;
  return a;
}

/** Hash input of the addresses alone: source, then destination. */
template <std::size_t N>
std::vector<std::uint8_t> source_then_destination(const std::array<std::uint8_t, N>& src,
                                                  const std::array<std::uint8_t, N>& dst)
{
  std::vector<std::uint8_t> in(src.begin(), src.end());
  in.insert(in.end(), dst.begin(), dst.end());
  return in;
}

void append_port(std::vector<std::uint8_t>& out, std::uint16_t port)
{
  out.push_back(static_cast<std::uint8_t>(port >> 8));
  out.push_back(static_cast<std::uint8_t>(port & 0xff));
}

/** `addresses` followed by the source port, then the destination port (network byte order). */
std::vector<std::uint8_t> with_ports(std::vector<std::uint8_t> addresses, std::uint16_t sport, std::uint16_t dport)
{
  append_port(addresses, sport);
  append_port(addresses, dport);
  return addresses;
}

} // namespace

std::uint32_t toeplitz_hash(std::span<const std::uint8_t> key, std::span<const std::uint8_t> input)
{
  std::uint32_t result = 0;
  for (std::size_t i = 0; i < input.size(); ++i)
    for (unsigned b = 0; b < 8; ++b)
      if (input[i] & (0x80u >> b))
        result ^= key_window(key, i * 8 + b);
  return result;
}

std::optional<Ipv4Address> parse_ipv4(std::string_view text)
{
  return parse_address<Ipv4Address>(AF_INET, text);
}

std::optional<Ipv6Address> parse_ipv6(std::string_view text)
{
  return parse_address<Ipv6Address>(AF_INET6, text);
}

std::vector<std::uint8_t> hash_input_ipv4(const Ipv4Address& src, const Ipv4Address& dst)
{
  return source_then_destination(src, dst);
}

std::vector<std::uint8_t> hash_input_ipv4_tcp(const Ipv4Address& src, const Ipv4Address& dst, std::uint16_t sport,
                                              std::uint16_t dport)
{
  return with_ports(hash_input_ipv4(src, dst), sport, dport);
}

std::vector<std::uint8_t> hash_input_ipv6(const Ipv6Address& src, const Ipv6Address& dst)
{
  return source_then_destination(src, dst);
}

std::vector<std::uint8_t> hash_input_ipv6_tcp(const Ipv6Address& src, const Ipv6Address& dst, std::uint16_t sport,
                                              std::uint16_t dport)
{
  return with_ports(hash_input_ipv6(src, dst), sport, dport);
}

} // namespace pvsim::net
