// Setting up a process's iceoryx runtime for a benchmark (header only: only the programs built
// with iceoryx include it). A process can set one up once, so each side of an iceoryx pass runs
// in a process of its own (see run_in_child_process).
#pragma once

#include <unistd.h>

#include <string>

#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"

namespace ringfile::bench {

inline void init_iceoryx_runtime(const char* role) {
  // Its debug lines (segments registered, ...) would bury the benchmark's progress.
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                           iox::log::LogLevelOutput::kHideLogLevel);
  const std::string name = std::string("ringfile-bench-") + role + "-" + std::to_string(::getpid());
  iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
}

}  // namespace ringfile::bench
