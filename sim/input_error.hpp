/* pvsim: errors in user input (scenarios, traces, command line).
 *
 * Every problem with what the user gave us is an InputError: it names the file, the JSON pointer (or line)
 * and what was expected. The command line turns it into one message and exit code 2. */
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace pvsim {

class InputError : public std::runtime_error {
public:
  InputError(std::string file, std::string where, std::string what);
  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  const std::string& detail() const { return detail_; }

private:
  std::string file_;
  std::string where_;
  std::string detail_;
};

/** Levenshtein distance, used for "did you mean" suggestions. */
std::size_t edit_distance(const std::string& a, const std::string& b);

/** The closest candidate to `word`, or "" when nothing is close enough to be a likely misspelling. */
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/** " (did you mean 'x'?)" or "". */
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/** Escapes one JSON pointer reference token (RFC 6901). */
std::string pointer_token(const std::string& key);

} // namespace pvsim
