// The current context of each thread, and entering one (Python's Context.run).
#include "pyconc/contextvars.hpp"

#include <atomic>

namespace pyconc::contextvars {

namespace detail {

namespace {
thread_local ContextData thread_root;
thread_local ContextData* thread_current = nullptr;
}  // namespace

ContextData& current() { return thread_current ? *thread_current : thread_root; }

std::uint64_t next_variable_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Entered::Entered(ContextData& context) : context_(&context), previous_(thread_current) {
  if (context.entered) throw RuntimeError("cannot enter context: <Context> is already entered");
  context.entered = true;
  thread_current = &context;
}

Entered::~Entered() {
  context_->entered = false;
  thread_current = previous_;
}

// Copy on write: a snapshot another context shares is never changed under it.
void set_value(std::uint64_t variable, std::any value) {
  ContextData& context = current();
  auto values = std::make_shared<Values>(*context.values);
  (*values)[variable] = std::move(value);
  context.values = std::move(values);
}

void erase_value(std::uint64_t variable) {
  ContextData& context = current();
  if (!context.values->count(variable)) return;
  auto values = std::make_shared<Values>(*context.values);
  values->erase(variable);
  context.values = std::move(values);
}

const std::any* find_value(std::uint64_t variable) {
  const Values& values = *current().values;
  const auto found = values.find(variable);
  return found == values.end() ? nullptr : &found->second;
}

}  // namespace detail

Context copy_context() {
  auto copy = std::make_shared<detail::ContextData>();
  copy->values = detail::current().values;
  return Context(std::move(copy));
}

}  // namespace pyconc::contextvars
