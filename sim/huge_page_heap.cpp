#include "sim/huge_page_heap.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace pvsim {

namespace {

/** The kernel gives transparent huge pages to a process that asks (THP "always" or "madvise", not "never"). */
bool kernel_has_huge_pages()
{
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  return std::getline(in, modes) and modes.find("[never]") == std::string::npos;
}

} // namespace

bool huge_page_heap_on()
{
  if (not kernel_has_huge_pages())
    return false;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables == nullptr)
    return false;
  std::string t(tunables);
  return t.find("glibc.malloc.hugetlb=1") != std::string::npos or t.find("glibc.malloc.hugetlb=2") != std::string::npos;
}

bool huge_page_heap_settled()
{
  if (std::getenv("PVSIM_NO_HUGE_PAGES") != nullptr)
    return true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr and std::string(tunables).find("glibc.malloc.hugetlb") != std::string::npos;
}

void exec_with_huge_page_heap()
{
  if (huge_page_heap_settled() or not kernel_has_huge_pages())
    return;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.empty())
    return;
  std::vector<char*> argv;
  for (std::size_t at = 0; at < all.size();) { // NUL-separated, NUL-terminated
    std::size_t end = all.find('\0', at);
    if (end == std::string::npos)
      return;
    argv.push_back(all.data() + at);
    at = end + 1;
  }
  argv.push_back(nullptr);
  const char* env      = std::getenv("GLIBC_TUNABLES");
  bool had             = env != nullptr;
  std::string old      = had ? env : ""; // a copy: setenv may replace the string getenv pointed to
  std::string tunables = (old.empty() ? std::string() : old + ":") + "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0)
    return;
  execv("/proc/self/exe", argv.data());
  // The exec failed (no /proc?): go on as before, and leave the environment of any child as it was.
  if (had)
    setenv("GLIBC_TUNABLES", old.c_str(), 1);
  else
    unsetenv("GLIBC_TUNABLES");
}

} // namespace pvsim
