#include "sim/stop.hpp"

namespace pvsim::detail {
volatile std::sig_atomic_t stop_signal = 0;
}
