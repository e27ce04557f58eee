#include "analysis/runner/process_runs.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace pvsim {

namespace {
pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const std::string& log)
{
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (not log.empty()) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
    }
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}
} // namespace

std::vector<int> run_processes(const ProcessRuns& how, const std::vector<std::vector<std::string>>& args,
                               const std::vector<std::string>& logs)
{
  std::vector<int> status(args.size(), -1);
  std::size_t next = 0, done = 0;
  std::map<pid_t, std::size_t> live;
  auto limit = static_cast<std::size_t>(std::max(1, how.parallel));
  while (next < args.size() or not live.empty()) {
    while (next < args.size() and live.size() < limit) {
      live[spawn(how.exe, args[next], logs.empty() ? std::string() : logs[next])] = next;
      ++next;
    }
    int st    = 0;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0)
      break;
    auto it = live.find(pid);
    if (it == live.end())
      continue;
    status[it->second] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    live.erase(it);
    ++done;
    if (how.progress)
      std::fprintf(stderr, "\r%s: %zu/%zu runs", how.label.c_str(), done, args.size());
  }
  if (how.progress)
    std::fprintf(stderr, "\n");
  return status;
}

std::string first_error_line(const std::string& log)
{
  std::ifstream in(log);
  std::string line, first;
  while (std::getline(in, line)) {
    if (first.empty())
      first = line;
    if (line.find("error") != std::string::npos)
      return line;
  }
  return first;
}

std::string make_temp_dir(const std::string& prefix)
{
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot create a temporary directory");
  return tmpl;
}

} // namespace pvsim
