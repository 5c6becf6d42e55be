// Python as a peer in a comparison: runs a script (written to a temporary file, since the
// multiprocessing start methods re-import __main__ from a file) and reads the one number it
// prints, timed inside the interpreter so its own start-up is not counted.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace bench {

// The number the script printed; -1 when it failed.
inline double run_python(const std::string& script) {
  const std::string path = "/tmp/pyconc-bench-" + std::to_string(::getpid()) + ".py";
  if (std::FILE* f = std::fopen(path.c_str(), "w")) {
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  std::FILE* pipe = popen(("python3 " + path).c_str(), "r");
  double value = -1;
  if (!pipe || std::fscanf(pipe, "%lf", &value) != 1) value = -1;
  if (pipe) pclose(pipe);
  std::remove(path.c_str());
  return value;
}

}  // namespace bench
