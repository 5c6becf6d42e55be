// The multiprocessing tests start spawn and forkserver children: fresh images of this
// program, which freeze_support() turns into the child before GoogleTest sees them.
#include <gtest/gtest.h>

#include "pyconc/multiprocessing.hpp"

int main(int argc, char** argv) {
  pyconc::multiprocessing::freeze_support();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
