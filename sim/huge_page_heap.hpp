/* The heap on transparent huge pages, for a wide simulation.
 *
 * A wide simulation (hundreds of guests, each with its vCPUs, rings, tags, backend and statistics) touches a few
 * cache lines in each of tens of megabytes of heap on every request. On 4 KiB pages that is thousands of pages, more
 * than the CPU's TLB reaches, so many of those touches also pay a page walk. glibc's malloc asks the kernel for
 * transparent huge pages (2 MiB) for everything it grows, sbrk or mmap, when the process starts with the tunable
 * glibc.malloc.hugetlb=1 (glibc 2.35 and later; an older glibc ignores it; the kernel's THP setting must be
 * "madvise" or "always", as Debian's is). Measured with bench/ on 256 guests of 4 vCPUs (about 70 MB resident):
 * some 6 % less wall time per request; nothing at 4 guests.
 *
 * A tunable is read only when a process starts, so `pvsim run` re-executes itself once, with the same arguments,
 * when the scenario it has just parsed is estimated to need more than huge_page_heap_above_bytes; a narrow scenario
 * does not pay the second start-up (some 50 ms). The results do not depend on where the heap lies.
 * PVSIM_NO_HUGE_PAGES=1 turns this off; a GLIBC_TUNABLES that already names glibc.malloc.hugetlb is left as it is. */
#pragma once

namespace pvsim {

/** The estimated memory (ResourceEstimate::memory_bytes, the process's own base included) above which a run is worth
 * a re-execution on huge pages: about 100 guests of 4 vCPUs, or 250 queues of one guest (bench/). */
constexpr double huge_page_heap_above_bytes = 48.0 * 1024 * 1024;

/** Whether a run of this estimated memory is wide enough to be worth the heap on huge pages: the one place that
 * compares an estimate with huge_page_heap_above_bytes (pvsim run and bench/ ask it). */
constexpr bool huge_page_heap_wanted(double estimated_memory_bytes)
{
  return estimated_memory_bytes > huge_page_heap_above_bytes;
}

/** Whether this process started with glibc.malloc.hugetlb=1 (or 2) in GLIBC_TUNABLES and the kernel's THP mode is not
 * "never": its malloc asks for huge pages and gets them. */
bool huge_page_heap_on();

/** Whether the choice is made already: PVSIM_NO_HUGE_PAGES is set, or GLIBC_TUNABLES names glibc.malloc.hugetlb. */
bool huge_page_heap_settled();

/** Re-executes this program (/proc/self/exe, with the arguments of /proc/self/cmdline) with glibc.malloc.hugetlb=1
 * added to GLIBC_TUNABLES, unless huge_page_heap_settled() or the kernel's THP mode is "never". Returns only when it
 * did not (also when the exec fails: the run then goes on with small pages). Call it before the program has written
 * anything. */
void exec_with_huge_page_heap();

} // namespace pvsim
