/* pvsim: the wiring graph (who feeds whom), as a Boost.Graph.
 *
 * Vertices are components, edges their ports (target, next, ...). The graph is checked before anything runs:
 * every reference names an existing component (request-path references: one that accepts requests; resource
 * references, such as the CPUs a thread runs on, are checked by the model that holds them), every job reaches a
 * component where a
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
  struct Edge {
    std::string port;
    bool resource = false; // a resource reference (CPUs, VM), not a hop of the request path
  };
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, std::size_t, Edge>;

  /** Resolves every port of `components` and checks the graph; throws InputError naming file and pointer. */
  Wiring(const std::vector<std::unique_ptr<Component>>& components, const std::string& file);

  const Graph& graph() const { return graph_; }
  void write_dot(std::ostream& out, const std::string& title) const;

private:
  std::size_t request_out_degree(std::size_t v) const;
  void check_cycles() const;
  void check_reachability() const;
  [[noreturn]] void fail_at(std::size_t v, const std::string& key, const std::string& what) const;

  const std::vector<std::unique_ptr<Component>>& components_;
  std::string file_;
  Graph graph_;
};

} // namespace pvsim
