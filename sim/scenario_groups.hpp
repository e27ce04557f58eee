/* pvsim: component groups, the scenario's way of saying "N copies of this set of components" (N disks with their
 * jobs and devices, N guests on a host), so that a count is one --set away: `--set groups.disk.count=16`.
 *
 *   "groups": {"disk": {"count": 4, "components": {"fio{i}": {..., "target": "vd{i}"}, "vd{i}": {...}}}}
 *
 * Each group is expanded into `count` copies before the components are read: in each component's name and in every
 * string inside it (keys excepted), "{i}" becomes the copy's index (0 to count-1) and "{n}" the count. The copies join
 * "components"; a name made twice (a name without "{i}" in a group of several, or one already in "components") is an
 * error naming both places. Errors in a copy's parameters name the template's JSON path in the file.
 *
 * Copies can differ (a noisy neighbour, a parameter over the copies):
 *   "vary":   {"fio{i}.iodepth": [1, 4, 16]}             copy i takes value i modulo their number;
 *   "copies": {"0": {"fio{i}": {"rate_iops": 0}},         an RFC 7386 merge patch of those copies' components
 *              "2-3,7": {"vif{i}": null,                  (null removes a parameter, or a component from them),
 *                        "backup{i}": {"type": ...}}}     a component the template lacks is added to them.
 * Applied in that order, before "{i}" is replaced (a patch may use it too). An error in a value that "vary" or
 * "copies" set names that entry's path, not the template's. */
#pragma once

#include "sim/json_node.hpp"

#include <map>
#include <string>

namespace pvsim {

/** Expands doc["groups"] (if any) into doc["components"] and removes "groups". `origins` receives, for every
 * component made from a template, the JSON pointer of the template ("/groups/disk/components/vd{i}"); `patched`, for
 * every copy that "vary" or "copies" changed, which parameter each of their entries set. Throws
 * InputError naming `file` and the JSON path for a malformed group. */
void expand_groups(json& doc, const std::string& file, std::map<std::string, std::string>& origins,
                   std::map<std::string, std::map<std::string, std::string>>* patched = nullptr);

/** For an error at `where` inside a copy made from `origin`: the pointer of the "vary" or "copies" entry that set the
 * parameter at fault (`keys`: parameter -> pointer, from expand_groups' `patched`), else `where`. */
std::string patched_pointer(const std::string& where, const std::string& origin,
                            const std::map<std::string, std::string>& keys);

/** "{i}" -> index, "{n}" -> count in `text`. */
std::string substitute_group_index(const std::string& text, long long index, long long count);

} // namespace pvsim
