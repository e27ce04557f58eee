/* pvsim: a JSON value together with where it came from (file and JSON pointer), for precise error messages. */
#pragma once

#include "sim/input_error.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace pvsim {

using json = nlohmann::json;

/** nlohmann's message without its "[json.exception.<kind>.<id>] " prefix, for an error message a user reads. */
inline std::string json_error_text(const json::exception& e)
{
  std::string what = e.what();
  auto pos         = what.find("] ");
  return pos == std::string::npos ? what : what.substr(pos + 2);
}

class JsonNode {
public:
  JsonNode(const json& value, std::string file, std::string pointer)
      : value_(&value), file_(std::move(file)), pointer_(std::move(pointer))
  {
  }

  const json& value() const { return *value_; }
  const std::string& file() const { return file_; }
  /** JSON pointer of this value ("" for the document root). */
  const std::string& pointer() const { return pointer_; }
  std::string where() const { return pointer_.empty() ? std::string("/") : pointer_; }

  JsonNode child(const std::string& key) const { return {value_->at(key), file_, pointer_ + "/" + pointer_token(key)}; }
  JsonNode at(std::size_t index) const { return {value_->at(index), file_, pointer_ + "/" + std::to_string(index)}; }

  [[noreturn]] void fail(const std::string& what) const { throw InputError(file_, where(), what); }

  /** "an object", "a string", ... for messages. */
  static std::string describe(const json& v);

  const JsonNode& expect_object() const
  {
    if (not value_->is_object())
      fail("expected an object, got " + describe(*value_));
    return *this;
  }

  /** `what` names the elements for the message ("expected an array of counts, got a string"); empty: "an array". */
  const JsonNode& expect_array(const std::string& what = "") const
  {
    if (not value_->is_array())
      fail("expected an array" + (what.empty() ? std::string() : " of " + what) + ", got " + describe(*value_));
    return *this;
  }

private:
  const json* value_;
  std::string file_;
  std::string pointer_;
};

inline std::string JsonNode::describe(const json& v)
{
  switch (v.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::object:
    return "an object";
  case json::value_t::array:
    return "an array";
  case json::value_t::string:
    return "the string \"" + v.get<std::string>() + "\"";
  case json::value_t::boolean:
    return v.get<bool>() ? "true" : "false";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float:
    return "the number " + v.dump();
  default:
    return "an unsupported value";
  }
}

} // namespace pvsim
