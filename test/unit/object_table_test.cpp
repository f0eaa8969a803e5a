// The owner's table of objects: what it tells the release callback about
// borrowed objects and copies in other stores.

#include <doctest/doctest.h>

#include <vector>

#include "object_table.hpp"

using namespace caraway;

namespace {

struct released {
  wire::object_id id;
  core::object_location where;
};

struct table_fixture {
  std::vector<released> log;
  core::object_table table{
    [this](const wire::object_id& id, const core::object_location& where) {
      log.push_back({id, where});
    }};
};

} // namespace

TEST_CASE("a borrowed object is reported to the owner when let go") {
  table_fixture f;
  wire::object_id id{9, 1};
  CHECK(f.table.add_borrowed(id));
  CHECK_FALSE(f.table.add_borrowed(id)); // a second holder, same entry
  CHECK(f.table.lookup(id).st == core::object_table::state::pending);
  f.table.complete(id, wire::make_buffer("abc", 3), false, {},
                   {"", nullptr});
  f.table.remove_ref(id);
  CHECK(f.log.empty());
  f.table.remove_ref(id);
  REQUIRE(f.log.size() == 1);
  CHECK(f.log[0].id == id);
  CHECK(f.log[0].where.borrowed); // completing kept what it was
}

TEST_CASE("an owner that is known only after the entry is gone is refused") {
  table_fixture f;
  wire::object_id id{9, 2};
  f.table.add_borrowed(id);
  f.table.remove_ref(id);
  CHECK_FALSE(f.table.set_owner(id, nullptr));
  CHECK_FALSE(f.table.add_copy(id, nullptr));
  REQUIRE(f.log.size() == 1);
  CHECK(f.log[0].where.borrowed);
}

TEST_CASE("an owned object with copies elsewhere lists them when freed") {
  table_fixture f;
  wire::object_id id{9, 3};
  f.table.add_ready(id, wire::make_buffer("x", 1), false, {});
  CHECK(f.table.add_copy(id, nullptr));
  CHECK(f.table.add_copy(id, nullptr));
  f.table.remove_ref(id);
  REQUIRE(f.log.size() == 1);
  CHECK_FALSE(f.log[0].where.borrowed);
  CHECK(f.log[0].where.copies.size() == 2);
}

TEST_CASE("an object known only by reference fails as lost, not pending") {
  table_fixture f;
  wire::object_id id{9, 4};
  CHECK_FALSE(f.table.add_ref_known(id));
  f.table.add_ref(id);
  auto snap = f.table.lookup(id);
  CHECK(snap.st == core::object_table::state::failed);
  CHECK(snap.error.kind == wire::error_kind::object_lost);
}

TEST_CASE("a ready object shows what it contains to borrowers") {
  table_fixture f;
  wire::object_id inner{9, 5};
  wire::object_id outer{9, 6};
  f.table.add_ready(inner, wire::make_buffer("i", 1), false, {});
  f.table.add_pending(outer);
  f.table.complete(outer, wire::make_buffer("o", 1), false, {inner});
  auto snap = f.table.lookup(outer);
  REQUIRE(snap.contains.size() == 1);
  CHECK(snap.contains[0] == inner);
}
