#pragma once
// Silences brook's default logger for the whole test binary (set BROOK_TEST_LOGS=1 to see
// the logs): including this header registers the gtest environment that does it.
#include <gtest/gtest.h>

#include <brook/logger.hpp>
#include <cstdlib>

namespace brook_test_support {

struct quiet_logs : ::testing::Environment {
  void SetUp() override {
    if (!std::getenv("BROOK_TEST_LOGS"))
      brook::set_log_levels("off");
  }
};

inline const auto* quiet_logs_env = ::testing::AddGlobalTestEnvironment(new quiet_logs);

}  // namespace brook_test_support
