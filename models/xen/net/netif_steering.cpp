#include "models/xen/net/netif_steering.hpp"

#include <stdexcept>

namespace pvsim::xen {

RssIndirectionTable::RssIndirectionTable(unsigned num_queues, std::size_t size) : num_queues_(num_queues)
{
  if (num_queues == 0)
    throw std::invalid_argument("RssIndirectionTable: needs at least one queue");
  if (size == 0 || size > max_size)
    throw std::invalid_argument("RssIndirectionTable: size must be 1.." + std::to_string(max_size) + ", not " +
                                std::to_string(size));
  table_.resize(size);
  for (std::size_t i = 0; i < size; ++i)
    table_[i] = static_cast<unsigned>(i % num_queues);
}

bool RssIndirectionTable::set(std::size_t index, unsigned queue)
{
  if (index >= table_.size() || queue >= num_queues_)
    return false;
  table_[index] = queue;
  return true;
}

unsigned netfront_select_queue(std::uint32_t skb_hash, unsigned num_queues)
{
  if (num_queues <= 1)
    return 0;
  return skb_hash % num_queues;
}

unsigned netback_select_queue(std::uint32_t toeplitz_hash_value, unsigned num_queues, const RssIndirectionTable* table)
{
  if (num_queues == 0)
    return 0; // xenvif_select_queue(): queues not set up, the packet will be dropped anyway
  if (table == nullptr || table->size() == 0)
    return toeplitz_hash_value % num_queues;
  return table->queue_for_hash(toeplitz_hash_value);
}

} // namespace pvsim::xen
