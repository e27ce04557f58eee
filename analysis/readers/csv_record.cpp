/* pvsim: one CSV record's fields (see csv_record.hpp). */
#include "analysis/readers/csv_record.hpp"

namespace pvsim::readers {

void split_csv(std::string_view line, std::vector<std::string_view>& out, std::deque<std::string>& storage)
{
  out.clear();
  storage.clear();
  std::size_t i = 0;
  while (true) {
    if (i < line.size() and line[i] == '"') {
      std::string& v = storage.emplace_back();
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() and line[i + 1] == '"') {
            v += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        v += line[i++];
      }
      out.emplace_back(v);
      std::size_t comma = line.find(',', i);
      if (comma == std::string_view::npos)
        break;
      i = comma + 1;
      continue;
    }
    std::size_t comma = line.find(',', i);
    out.push_back(line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i));
    if (comma == std::string_view::npos)
      break;
    i = comma + 1;
  }
}

} // namespace pvsim::readers
