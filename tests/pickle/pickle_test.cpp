// pyconc::pickle: round trips, type tags, errors, and exceptions that keep their type.
#include "pyconc/pickle.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "pyconc/futures/errors.hpp"
#include "pyconc/queue/errors.hpp"

namespace pickle = pyconc::pickle;

namespace {

struct Point {
  int x = 0;
  double y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(x, y, label);
  }
  bool operator==(const Point&) const = default;
};

struct NotSerializable {
  int x = 0;
};

template <class T>
T round_trip(const T& value) {
  return pickle::loads<T>(pickle::dumps(value));
}

PYCONC_DEFINE_ERROR(InventoryError, pyconc::Error);
class PlainCppError : public std::runtime_error {
 public:
  explicit PlainCppError(const std::string& m) : std::runtime_error(m) {}
};

// What may cross, decided at compile time.
static_assert(pickle::Picklable<int>);
static_assert(pickle::Picklable<std::string>);
static_assert(pickle::Picklable<std::vector<std::map<std::string, std::tuple<int, double>>>>);
static_assert(pickle::Picklable<Point>);
static_assert(!pickle::Picklable<int*>);
static_assert(!pickle::Picklable<NotSerializable>);
static_assert(!pickle::Picklable<void (*)(int)>);

TEST(Pickle, ValuesAndContainersRoundTrip) {
  EXPECT_EQ(round_trip(42), 42);
  EXPECT_EQ(round_trip(-1.5), -1.5);
  EXPECT_EQ(round_trip(std::string("데이터\0with nul", 18)), std::string("데이터\0with nul", 18));
  EXPECT_EQ(round_trip(std::string()), std::string());
  const std::vector<long> squares{1, 4, 9, 16};
  EXPECT_EQ(round_trip(squares), squares);
  const std::map<std::string, std::vector<int>> nested{{"a", {1}}, {"b", {}}, {"c", {2, 3}}};
  EXPECT_EQ(round_trip(nested), nested);
  const auto tuple = std::make_tuple(1, std::string("two"), 3.0);
  EXPECT_EQ(round_trip(tuple), tuple);
  EXPECT_EQ(round_trip(std::optional<int>()), std::nullopt);
  EXPECT_EQ(round_trip(std::optional<int>(7)), 7);
  const std::variant<int, std::string> v = std::string("s");
  EXPECT_EQ(round_trip(v), v);
  const Point p{3, 4.5, "p"};
  EXPECT_EQ(round_trip(p), p);
}

TEST(Pickle, LargeValueRoundTrips) {
  std::string big(16 << 20, 'x');
  big[12345] = 'y';
  EXPECT_EQ(round_trip(big), big);
}

TEST(Pickle, BytesOfAnotherTypeAreAnUnpicklingError) {
  const std::string bytes = pickle::dumps(std::string("text"));
  EXPECT_THROW(pickle::loads<int>(bytes), pickle::UnpicklingError);
  EXPECT_THROW(pickle::loads<std::vector<int>>(bytes), pickle::UnpicklingError);
}

TEST(Pickle, TruncatedBytesAreAnUnpicklingError) {
  const std::string bytes = pickle::dumps(std::vector<int>{1, 2, 3, 4});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_THROW(pickle::loads<std::vector<int>>(std::string_view(bytes).substr(0, cut)), pickle::UnpicklingError)
        << "cut at " << cut;
  EXPECT_THROW(pickle::loads<int>(""), pickle::UnpicklingError);
}

enum class Colour : short { red = 1, blue = 7 };

// Numbers and enums skip cereal's archive (kRawPickle): their bytes must still be exactly
// what the archive writes, so that either side may take either path.
template <class T>
std::string archived(const T& value) {
  std::ostringstream out;
  {
    cereal::BinaryOutputArchive archive(out);
    archive(pickle::detail::type_tag<T>(), value);
  }
  return out.str();
}

TEST(Pickle, NumbersAndEnumsHaveTheArchivesBytes) {
  EXPECT_EQ(pickle::dumps(42), archived(42));
  EXPECT_EQ(pickle::dumps(-3.25), archived(-3.25));
  EXPECT_EQ(pickle::dumps(true), archived(true));
  EXPECT_EQ(pickle::dumps(std::uint64_t{1} << 60), archived(std::uint64_t{1} << 60));
  EXPECT_EQ(pickle::dumps(Colour::blue), archived(Colour::blue));
  EXPECT_EQ(pickle::loads<Colour>(archived(Colour::blue)), Colour::blue);
  EXPECT_EQ(pickle::loads<double>(archived(-3.25)), -3.25);
  EXPECT_EQ(round_trip('x'), 'x');
  const std::string bytes = pickle::dumps(1234567);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_THROW(pickle::loads<int>(std::string_view(bytes).substr(0, cut)), pickle::UnpicklingError) << "cut at " << cut;
  EXPECT_THROW(pickle::loads<long>(pickle::dumps(1)), pickle::UnpicklingError);  // an int is not a long
  EXPECT_THROW(pickle::loads<int>(pickle::dumps(1u)), pickle::UnpicklingError);
}

struct ThrowsOnSave {
  template <class Archive>
  void serialize(Archive&) {
    throw std::runtime_error("refuses");
  }
};

TEST(Pickle, ASerializeThatThrowsIsAPicklingError) {
  try {
    pickle::dumps(ThrowsOnSave{});
    FAIL() << "no PicklingError";
  } catch (const pickle::PicklingError& e) {
    EXPECT_NE(std::string(e.what()).find("refuses"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ThrowsOnSave"), std::string::npos) << e.what();
  }
}

template <class E>
void expect_crosses_as(std::exception_ptr original, const std::string& message) {
  const auto back = pickle::loads_exception(pickle::dumps_exception(original));
  try {
    std::rethrow_exception(back);
  } catch (const E& e) {
    EXPECT_EQ(e.what(), message);
  } catch (const std::exception& e) {
    FAIL() << "arrived as another type: " << e.what();
  }
}

TEST(PickleExceptions, PyconcAndStandardExceptionsKeepTheirType) {
  expect_crosses_as<pyconc::ValueError>(std::make_exception_ptr(pyconc::ValueError("bad")), "bad");
  expect_crosses_as<pyconc::queue::Empty>(std::make_exception_ptr(pyconc::queue::Empty("e")), "e");
  expect_crosses_as<pyconc::futures::CancelledError>(std::make_exception_ptr(pyconc::futures::CancelledError()), "");
  expect_crosses_as<std::out_of_range>(std::make_exception_ptr(std::out_of_range("index 9")), "index 9");
  expect_crosses_as<std::runtime_error>(std::make_exception_ptr(std::runtime_error("실패!")), "실패!");
}

TEST(PickleExceptions, UnknownTypesArriveAsRemoteError) {
  const auto back = pickle::loads_exception(pickle::dumps_exception(std::make_exception_ptr(InventoryError("empty shelf"))));
  try {
    std::rethrow_exception(back);
  } catch (const pickle::RemoteError& e) {
    EXPECT_EQ(e.remote_type(), "InventoryError");
    EXPECT_STREQ(e.what(), "InventoryError: empty shelf");
  }
  const auto thrown_int = pickle::loads_exception(pickle::dumps_exception(std::make_exception_ptr(42)));
  EXPECT_THROW(std::rethrow_exception(thrown_int), pickle::RemoteError);
}

TEST(PickleExceptions, RegisteredTypesKeepTheirType) {
  pickle::register_exception<PlainCppError>();
  expect_crosses_as<PlainCppError>(std::make_exception_ptr(PlainCppError("mine")), "mine");
}

TEST(PickleExceptions, SystemExitKeepsItsCode) {
  auto back = pickle::loads_exception(pickle::dumps_exception(std::make_exception_ptr(pyconc::SystemExit(3))));
  try {
    std::rethrow_exception(back);
  } catch (const pyconc::SystemExit& e) {
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_FALSE(e.has_message());
  }
  back = pickle::loads_exception(pickle::dumps_exception(std::make_exception_ptr(pyconc::SystemExit("bye"))));
  try {
    std::rethrow_exception(back);
  } catch (const pyconc::SystemExit& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_STREQ(e.what(), "bye");
  }
}

}  // namespace
