/* pvsim: the wiring graph (who feeds whom), as a Boost.Graph.
 *
 * Vertices are components, edges their ports (target, next, ...). The graph is checked before anything runs:
 * every reference names an existing component that accepts requests, every job reaches a component where a
 * request can end (a device), every component receives requests from some job, and the request path has no
 * cycle. It is exported as Graphviz DOT by `pvsim graph`. */
#pragma once

#include "sim/component.hpp"

#include <boost/graph/adjacency_list.hpp>

#include <iosfwd>
#include <memory>
#include <vector>

namespace pvsim {

class Wiring {
public:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, std::size_t, std::string>;

  /** Resolves every port of `components` and checks the graph; throws InputError naming file and pointer. */
  Wiring(const std::vector<std::unique_ptr<Component>>& components, const std::string& file);

  const Graph& graph() const { return graph_; }
  void write_dot(std::ostream& out, const std::string& title) const;

private:
  void check_cycles() const;
  void check_reachability() const;
  [[noreturn]] void fail_at(std::size_t v, const std::string& key, const std::string& what) const;

  const std::vector<std::unique_ptr<Component>>& components_;
  std::string file_;
  Graph graph_;
};

} // namespace pvsim
