#include "pyconc/report.hpp"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "pyconc/os.hpp"
#include "detail/built_at_load.hpp"

namespace pyconc {

namespace {

void write_to_stderr(std::string_view text) {
  const std::string copy(text);  // fputs needs a terminated string; one call, no interleaving
  std::fputs(copy.c_str(), stderr);
  std::fflush(stderr);
}

// The sink is swapped under a mutex but called outside it, through a shared_ptr copy, so a
// slow or re-entrant sink never blocks set_report_sink() and reports run concurrently.
struct SinkSlot {
  std::mutex lock;
  std::shared_ptr<const ReportSink> sink = std::make_shared<const ReportSink>(write_to_stderr);
};

SinkSlot& slot() {
  static auto* s = [] {
    auto* created = new SinkSlot;  // never destroyed: daemon threads may report after main()
    os::detail::fork_protect(created->lock);
    return created;
  }();
  return *s;
}
PYCONC_BUILD_AT_LOAD(slot());

}  // namespace

ReportSink set_report_sink(ReportSink sink) {
  if (!sink) sink = write_to_stderr;
  auto replacement = std::make_shared<const ReportSink>(std::move(sink));
  SinkSlot& s = slot();
  std::scoped_lock hold(s.lock);
  ReportSink previous = *s.sink;
  s.sink = std::move(replacement);
  return previous;
}

void report(std::string_view text) {
  std::shared_ptr<const ReportSink> sink;
  {
    SinkSlot& s = slot();
    std::scoped_lock hold(s.lock);
    sink = s.sink;
  }
  try {
    (*sink)(text);
  } catch (...) {
    // A failing sink must not turn a report (often from a destructor) into a crash.
  }
}

}  // namespace pyconc
