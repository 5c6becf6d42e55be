// pyconc/report.hpp — the one channel for everything pyconc itself writes to stderr.
//
// Python's threading.excepthook, "Future exception was never retrieved", "Exception in
// initializer" and "exception calling callback" all end up on sys.stderr; here they all go
// through one sink, each report as one call with the whole text (so reports from two
// threads never interleave). The default sink writes the text to stderr in one fputs and
// flushes. Replace it to log elsewhere, or to silence pyconc; an empty function restores
// the default. The sink may be called from any thread, concurrently.
//
//   auto previous = pyconc::set_report_sink([](std::string_view text) { my_log(text); });
//   ...
//   pyconc::set_report_sink(previous);
#pragma once

#include <functional>
#include <string_view>

namespace pyconc {

using ReportSink = std::function<void(std::string_view text)>;

// Installs `sink` (empty: the default, stderr); returns the one it replaces.
ReportSink set_report_sink(ReportSink sink);

// Sends one report (normally ending in a newline) to the installed sink. A sink that
// throws is ignored: reporting never turns into a second error.
void report(std::string_view text);

}  // namespace pyconc
