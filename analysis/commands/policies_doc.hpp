/* pvsim: the `pvsim models` section on the named alternatives inside models (AIO engines, AIO sizing policies,
 * drain policies, blk-mq queue map policies), read from their registries. */
#pragma once

#include <string>

namespace pvsim {

/** One block per registry: each name with its summary and the parameters it reads. */
std::string policies_documentation();

} // namespace pvsim
