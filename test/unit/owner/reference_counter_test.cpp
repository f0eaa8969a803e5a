// The owner's reference counter: holders by kind, cascades through contained
// objects, borrowed objects.

#include <doctest/doctest.h>

#include "owner/reference_counter.hpp"

using namespace caraway;
using owner::freed_object;
using owner::ref_kind;
using owner::reference_counter;

namespace {

const wire::object_id outer{1, 1};
const wire::object_id inner{1, 2};
const wire::object_id borrowed{2, 1};

std::vector<wire::object_id> ids(const std::vector<freed_object>& xs) {
  std::vector<wire::object_id> result;
  for (auto& x : xs)
    result.push_back(x.id);
  return result;
}

} // namespace

TEST_CASE("reference_counter frees an object when its last holder goes") {
  reference_counter rc;
  std::vector<freed_object> freed;
  rc.add_owned(outer);
  CHECK(rc.add(outer, ref_kind::submitted));
  CHECK(rc.add(outer, ref_kind::borrower));
  auto counts = rc.counts(outer);
  CHECK(counts[ref_kind::local] == 1);
  CHECK(counts[ref_kind::submitted] == 1);
  CHECK(counts[ref_kind::borrower] == 1);
  CHECK(counts.total() == 3);
  CHECK(rc.remove(outer, ref_kind::local, freed));
  CHECK(rc.remove(outer, ref_kind::submitted, freed));
  CHECK(freed.empty());
  CHECK(rc.remove(outer, ref_kind::borrower, freed));
  CHECK(ids(freed) == std::vector<wire::object_id>{outer});
  CHECK_FALSE(rc.has(outer));
}

TEST_CASE("reference_counter ignores a release of a kind nobody holds") {
  reference_counter rc;
  std::vector<freed_object> freed;
  rc.add_owned(outer);
  // A peer releasing a borrow it never made must not free a local ref.
  CHECK_FALSE(rc.remove(outer, ref_kind::borrower, freed));
  CHECK(rc.has(outer));
  CHECK_FALSE(rc.remove(inner, ref_kind::local, freed)); // unknown
  CHECK_FALSE(rc.add(inner, ref_kind::local));
  CHECK(freed.empty());
}

TEST_CASE("reference_counter frees contained objects with their container") {
  reference_counter rc;
  std::vector<freed_object> freed;
  rc.add_owned(inner);
  rc.add_owned(outer);
  rc.convert(inner, ref_kind::local, ref_kind::contained);
  rc.set_contains(outer, {inner});
  CHECK(rc.contains(outer) == std::vector<wire::object_id>{inner});
  SUBCASE("nothing else holds the inner object") {
    rc.remove(outer, ref_kind::local, freed);
    CHECK(ids(freed) == std::vector<wire::object_id>{outer, inner});
  }
  SUBCASE("a local ref keeps the inner object") {
    rc.add(inner, ref_kind::local);
    rc.remove(outer, ref_kind::local, freed);
    CHECK(ids(freed) == std::vector<wire::object_id>{outer});
    CHECK(rc.counts(inner)[ref_kind::contained] == 0);
    CHECK(rc.counts(inner)[ref_kind::local] == 1);
  }
}

TEST_CASE("reference_counter frees a long chain of nested objects") {
  reference_counter rc;
  std::vector<freed_object> freed;
  constexpr uint64_t n = 100000;
  for (uint64_t i = 1; i <= n; ++i) {
    rc.add_owned({1, i});
    if (i > 1) {
      rc.convert({1, i - 1}, ref_kind::local, ref_kind::contained);
      rc.set_contains({1, i}, {{1, i - 1}});
    }
  }
  rc.remove({1, n}, ref_kind::local, freed);
  CHECK(freed.size() == n);
  CHECK(rc.size() == 0);
}

TEST_CASE("reference_counter tracks borrowed objects and their owners") {
  reference_counter rc;
  std::vector<freed_object> freed;
  CHECK(rc.add_borrowed(borrowed));
  CHECK_FALSE(rc.add_borrowed(borrowed)); // a second holder, same entry
  CHECK(rc.counts(borrowed)[ref_kind::local] == 2);
  // No owner known yet: nothing is borrowed from an owner.
  CHECK(rc.borrowed_from(caf::actor_addr{}).empty());
  rc.remove(borrowed, ref_kind::local, freed);
  rc.remove(borrowed, ref_kind::local, freed);
  REQUIRE(freed.size() == 1);
  CHECK(freed[0].borrowed);
  CHECK_FALSE(rc.set_owner(borrowed, wire::owner_actor{})); // gone here
}
