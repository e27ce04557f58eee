/* pvsim: one --hold-out expression of `pvsim validate`: key=value, key!=value, key>value or key<value over a run's
 * configuration (leave_out.hpp): rw, engine, direction and tag compare as text (= and != only); iodepth, numjobs,
 * files and bs as numbers (bs also as a size: 4k, 4KiB). */
#pragma once

#include "analysis/calibration/leave_out.hpp"

#include <string>

namespace pvsim::validation {

class HoldOut {
public:
  /** Parses the expression; InputError naming --hold-out for an unknown key (with a suggestion), a missing
   * operator, a comparison a text key does not have or a value that is not a number where one is expected. */
  explicit HoldOut(const std::string& text);
  bool matches(const RunConfig& run) const;
  const std::string& text() const { return text_; }
  const std::string& key() const { return key_; }
  const std::string& op() const { return op_; }

private:
  std::string text_;
  std::string key_;
  std::string op_; // "=", "!=", ">", "<"
  std::string value_;
  double number_ = 0; // the value of a numeric key
  bool numeric_  = false;
};

} // namespace pvsim::validation
