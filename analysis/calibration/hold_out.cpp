/* pvsim: one --hold-out expression (see hold_out.hpp). */
#include "analysis/calibration/hold_out.hpp"

#include "sim/input_error.hpp"
#include "sim/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace pvsim::validation {

namespace {

bool numeric_key(const std::string& key)
{
  return key == "iodepth" or key == "numjobs" or key == "files" or key == "bs";
}

std::string trim(const std::string& s)
{
  std::size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

double number_of(const RunConfig& run, const std::string& key)
{
  if (key == "iodepth")
    return run.iodepth;
  if (key == "numjobs")
    return run.numjobs;
  if (key == "files")
    return run.files;
  return static_cast<double>(run.bs);
}

std::string text_of(const RunConfig& run, const std::string& key)
{
  if (key == "rw")
    return run.rw;
  if (key == "engine")
    return run.engine;
  if (key == "direction")
    return run.direction;
  return run.tag;
}

} // namespace

HoldOut::HoldOut(const std::string& text) : text_(text)
{
  const std::string where = "--hold-out";
  std::size_t at          = text.find_first_of("!=<>");
  if (at == std::string::npos)
    throw InputError("", where,
                     "expected key=value, key!=value, key>value or key<value (e.g. numjobs>1), got \"" + text + "\"");
  if (text[at] == '!') {
    if (at + 1 >= text.size() or text[at + 1] != '=')
      throw InputError("", where, "\"" + text + "\": '!' must be followed by '=' (key!=value)");
    op_ = "!=";
  } else {
    op_ = std::string(1, text[at]);
  }
  key_             = trim(text.substr(0, at));
  value_           = trim(text.substr(at + op_.size()));
  const auto& keys = hold_out_keys();
  if (std::find(keys.begin(), keys.end(), key_) == keys.end()) {
    std::string list;
    for (const auto& k : keys)
      list += (list.empty() ? "" : ", ") + k;
    throw InputError("", where,
                     "\"" + text + "\": unknown key '" + key_ + "'" + did_you_mean(key_, keys) + "; the keys are " +
                         list);
  }
  if (numeric_key(key_)) {
    std::size_t used = 0;
    bool ok          = false;
    try {
      number_ = std::stod(value_, &used);
      ok      = used == value_.size();
    } catch (const std::exception&) {
      ok = false;
    }
    if (not ok and key_ == "bs")
      if (auto q = parse_quantity(Dimension::size, value_)) {
        number_ = *q;
        ok      = true;
      }
    if (not ok or not std::isfinite(number_))
      throw InputError("", where,
                       "\"" + text + "\": expected a number after " + key_ + op_ +
                           (key_ == "bs" ? " (bytes, or a size such as 4k)" : "") + ", got \"" + value_ + "\"");
    numeric_ = true;
  } else {
    if (op_ == ">" or op_ == "<")
      throw InputError("", where, "\"" + text + "\": " + key_ + " is text: only = and != compare it");
    if (value_.find_first_of("=<>!") != std::string::npos)
      throw InputError("", where, "\"" + text + "\": one operator per expression (repeat --hold-out to OR several)");
  }
}

bool HoldOut::matches(const RunConfig& run) const
{
  if (numeric_) {
    double v = number_of(run, key_);
    if (op_ == "=")
      return v == number_;
    if (op_ == "!=")
      return v != number_;
    return op_ == ">" ? v > number_ : v < number_;
  }
  bool equal = text_of(run, key_) == value_;
  return op_ == "=" ? equal : not equal;
}

} // namespace pvsim::validation
