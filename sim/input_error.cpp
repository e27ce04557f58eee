#include "sim/input_error.hpp"

#include <algorithm>

namespace pvsim {

static std::string compose(const std::string& file, const std::string& where, const std::string& what)
{
  // A command-line option (no file, `where` is the option: "--kfold") names itself; other input without a file
  // (a scenario given as text) is "<input>".
  if (file.empty() and where.rfind("--", 0) == 0)
    return where + ": " + what;
  std::string msg = file.empty() ? std::string("<input>") : file;
  if (not where.empty())
    msg += ": " + where;
  return msg + ": " + what;
}

InputError::InputError(std::string file, std::string where, std::string what)
    : std::runtime_error(compose(file, where, what)), file_(std::move(file)), where_(std::move(where)),
      detail_(std::move(what))
{
}

std::size_t edit_distance(const std::string& a, const std::string& b)
{
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  std::vector<std::size_t> prev2(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j]            = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      // A swap of two neighbouring letters counts as one edit (optimal string alignment).
      if (i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates)
{
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best   = c;
    }
  }
  // A likely misspelling: at most a third of the letters differ (at least 1, at most 4), or two letters of a word
  // of five letters or more.
  std::size_t longest = std::max(word.size(), best.size());
  std::size_t limit   = std::clamp<std::size_t>(longest / 3, longest >= 5 ? 2 : 1, 4);
  return best_d <= limit ? best : std::string();
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates)
{
  std::string m = closest_match(word, candidates);
  return m.empty() ? std::string() : " (did you mean '" + m + "'?)";
}

std::string pointer_token(const std::string& key)
{
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

} // namespace pvsim
