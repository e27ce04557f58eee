/* Test support for the trace readers: where the shared traces and the synthetic fixtures live, and catching the
 * InputError a reader throws. */
#pragma once

#include "sim/input_error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pvsim::readers::test {

/** A file of the shared trace collection, `rel` below its traces/ directory. */
inline std::string trace(const std::string& rel)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/" + rel;
}

/** A synthetic fixture of tests/data/readers. */
inline std::string fixture(const std::string& name)
{
  return std::string(PVSIM_SOURCE_DIR) + "/tests/data/readers/" + name;
}

inline bool contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

/** The InputError `f()` throws; a test failure (and an empty error) when it throws none. */
template <typename F>
pvsim::InputError input_error_of(F&& f)
{
  try {
    f();
  } catch (const pvsim::InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return pvsim::InputError("", "", "");
}

} // namespace pvsim::readers::test
