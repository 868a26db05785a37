// Human-readable output of a check: what vsr-check prints, and what a failing simulator or
// chaos run should print.
#pragma once

#include <ostream>
#include <string>

#include "check/check.h"
#include "check/history.h"

namespace vsr::check {

// One operation as "lines 12, 15  process 3  cas "k" "4" "1" -> fail": where it is in the file
// (or its OpId when built in memory), who ran it, what it did and how it ended.
std::string render(const History& history, OpId id);

// The verdict on its own line ("linearizable", "not linearizable", "unknown"), then for a
// failure the key, the deepest point of the search and the operations stuck there, and for
// unknown the reason.
void print_result(std::ostream& out, const History& history, const CheckResult& result);

}  // namespace vsr::check
