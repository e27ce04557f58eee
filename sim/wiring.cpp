#include "sim/wiring.hpp"

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/graphviz.hpp>

#include <map>
#include <ostream>

namespace pvsim {

void Wiring::fail_at(std::size_t v, const std::string& key, const std::string& what) const
{
  throw InputError(file_, "/components/" + pointer_token(components_[v]->name()) + (key.empty() ? "" : "/" + key),
                   what);
}

Wiring::Wiring(const std::vector<std::unique_ptr<Component>>& components, const std::string& file)
    : components_(components), file_(file), graph_(components.size())
{
  std::map<std::string, std::size_t> index;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < components.size(); ++i) {
    index[components[i]->name()] = i;
    names.push_back(components[i]->name());
    graph_[i] = i;
  }
  for (std::size_t i = 0; i < components.size(); ++i) {
    for (auto& port : components[i]->ports()) {
      if (port.target.empty()) {
        if (port.required)
          fail_at(i, "", "port '" + port.name + "' is not connected");
        continue;
      }
      auto it = index.find(port.target);
      if (it == index.end())
        fail_at(i, port.name, "no component named '" + port.target + "'" + did_you_mean(port.target, names));
      Component* target = components[it->second].get();
      if (port.resource) {
        port.resolved = target;
        boost::add_edge(i, it->second, Edge{port.name, true}, graph_);
        continue;
      }
      if (not target->accepts_requests())
        fail_at(i, port.name, "'" + port.target + "' (" + target->type() + ") does not accept requests");
      if (it->second == i)
        fail_at(i, port.name, "a component cannot feed itself");
      port.resolved = target;
      boost::add_edge(i, it->second, Edge{port.name, false}, graph_);
    }
  }
  check_cycles();
  check_reachability();
}

void Wiring::check_cycles() const
{
  // Depth-first search with colours; a back edge is a cycle, reported with its path.
  const std::size_t n = components_.size();
  std::vector<int> colour(n, 0);
  std::vector<std::size_t> parent(n, n);
  for (std::size_t s = 0; s < n; ++s) {
    if (colour[s])
      continue;
    std::vector<std::pair<std::size_t, Graph::out_edge_iterator>> stack;
    auto [b, e] = boost::out_edges(s, graph_);
    stack.emplace_back(s, b);
    colour[s] = 1;
    while (not stack.empty()) {
      auto& [v, it] = stack.back();
      auto end      = boost::out_edges(v, graph_).second;
      if (it == end) {
        colour[v] = 2;
        stack.pop_back();
        continue;
      }
      std::size_t w = boost::target(*it, graph_);
      Edge edge     = graph_[*it];
      ++it;
      if (edge.resource)
        continue;
      const std::string& port = edge.port;
      if (colour[w] == 1) {
        std::string path = components_[w]->name();
        for (std::size_t x = v; x != w and x != n; x = parent[x])
          path = components_[x]->name() + " → " + path;
        path = components_[w]->name() + " → " + path;
        fail_at(v, port, "the request path has a cycle: " + path);
      }
      if (colour[w] == 0) {
        colour[w] = 1;
        parent[w] = v;
        stack.emplace_back(w, boost::out_edges(w, graph_).first);
      }
    }
  }
}

void Wiring::check_reachability() const
{
  const std::size_t n = components_.size();
  std::vector<bool> fed(n, false);
  bool any_source = false;
  for (std::size_t s = 0; s < n; ++s) {
    if (not components_[s]->is_source())
      continue;
    any_source = true;
    // Walk everything downstream of this job; it must reach a component where requests can end.
    std::vector<std::size_t> todo{s};
    std::vector<bool> seen(n, false);
    bool ends = false;
    while (not todo.empty()) {
      std::size_t v = todo.back();
      todo.pop_back();
      if (seen[v])
        continue;
      seen[v]                   = true;
      fed[v]                    = true;
      std::size_t request_edges = 0;
      for (auto [b, e] = boost::out_edges(v, graph_); b != e; ++b)
        if (not graph_[*b].resource) {
          request_edges++;
          todo.push_back(boost::target(*b, graph_));
        }
      if (request_edges == 0) {
        if (not components_[v]->can_complete())
          fail_at(v, "",
                  "requests reach '" + components_[v]->name() + "' (" + components_[v]->type() +
                      ") but it has nowhere to send them: connect its output to a device");
        ends = true;
      }
    }
    if (not ends)
      fail_at(s, "", "the requests of job '" + components_[s]->name() + "' reach no device");
  }
  if (not any_source)
    throw InputError(file_, "/components", "no job: a scenario needs at least one source of requests");
  for (std::size_t v = 0; v < n; ++v)
    if (not fed[v] and components_[v]->accepts_requests())
      fail_at(v, "", "component '" + components_[v]->name() + "' receives no requests (dangling): no job leads to it");
}

std::size_t Wiring::request_out_degree(std::size_t v) const
{
  std::size_t n = 0;
  for (auto [b, e] = boost::out_edges(v, graph_); b != e; ++b)
    n += graph_[*b].resource ? 0 : 1;
  return n;
}

void Wiring::write_dot(std::ostream& out, const std::string& title) const
{
  auto vertex_writer = [this](std::ostream& o, std::size_t v) {
    const auto& c = *components_[v];
    o << "[label=\"" << c.name() << "\\n"
      << c.type() << "\", shape="
      << (c.is_source()                                     ? "ellipse"
          : not c.accepts_requests()                        ? "component"
          : c.can_complete() and request_out_degree(v) == 0 ? "cylinder"
                                                            : "box")
      << "]";
  };
  auto edge_writer = [this](std::ostream& o, Graph::edge_descriptor e) {
    o << "[label=\"" << graph_[e].port << "\"" << (graph_[e].resource ? ", style=dashed" : "") << "]";
  };
  auto graph_writer = [&title](std::ostream& o) {
    o << "label=\"" << title << "\";\nrankdir=LR;\nnode [fontname=\"Helvetica\"];\n";
  };
  boost::write_graphviz(out, graph_, vertex_writer, edge_writer, graph_writer);
}

} // namespace pvsim
