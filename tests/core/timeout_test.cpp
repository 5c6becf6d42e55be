#include <gtest/gtest.h>

#include <cmath>

#include "pyconc/timeout.hpp"

namespace {

using namespace std::chrono_literals;
using pyconc::Timeout;

TEST(Timeout, ForeverAndDurations) {
  Timeout never = pyconc::forever;
  EXPECT_TRUE(never.is_forever());
  EXPECT_TRUE(never.deadline().is_never());
  Timeout half = std::chrono::duration<double>(0.5);
  EXPECT_EQ(half.duration(), 500ms);
  Timeout minutes = std::chrono::minutes(2);
  EXPECT_EQ(minutes.duration(), 120s);
}

TEST(Timeout, NegativeAndZeroGiveExpiredDeadlines) {
  EXPECT_TRUE(Timeout(-3s).negative());
  EXPECT_TRUE(Timeout(-3s).deadline().expired());
  EXPECT_TRUE(Timeout(0s).is_zero_or_negative());
  EXPECT_TRUE(Timeout(0s).deadline().expired());
  EXPECT_FALSE(Timeout(10s).deadline().expired());
}

TEST(Timeout, HugeValuesSaturateAndReportOverflow) {
  Timeout huge = std::chrono::duration<double>(1e100);
  EXPECT_THROW(huge.check_overflow(), pyconc::OverflowError);
  EXPECT_NO_THROW(Timeout(pyconc::TIMEOUT_MAX).check_overflow());
  const auto d = Timeout(pyconc::TIMEOUT_MAX).deadline();
  EXPECT_FALSE(d.is_never());
  EXPECT_FALSE(d.expired());  // saturated, not wrapped into the past
}

TEST(Timeout, NaNIsValueError) {
  EXPECT_THROW(Timeout(std::chrono::duration<double>(std::nan(""))), pyconc::ValueError);
}

TEST(Deadline, RemainingShrinksAndClampsAtZero) {
  const auto d = pyconc::Deadline::after(50ms);
  EXPECT_LE(d.remaining(), 50ms);
  EXPECT_EQ(pyconc::Deadline::now().remaining(), 0ns);
}

}  // namespace
