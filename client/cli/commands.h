// vsr-client's one-shot commands: a key-value operation, or the cluster's status.
// Each prints its outcome and returns the exit code (exit_codes.h).
#pragma once

#include <string>

#include "vsr/client.h"

namespace vsr::client::cli {

// Runs `op` and prints the outcome: a get's value on stdout (raw bytes, plus a newline
// if stdout is a terminal); anything else that is not plain success on stderr.
int run_operation(const Options& options, const Op& op);

// Prints every replica's status board (straight from the segment).
int run_status(const std::string& cluster);

}  // namespace vsr::client::cli
