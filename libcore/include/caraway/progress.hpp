#pragma once

// Progress of a driver waiting on many refs, and the refs in the order they
// complete:
//
//   for (auto& r : caraway::as_completed(refs, caraway::progress("predict")))
//     use(caraway::get(r));
//
// On a terminal the bar is redrawn in place on stderr; otherwise it prints a
// plain line at most once a second and when all are done.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caraway/api.hpp"
#include "caraway/object_ref.hpp"

namespace caraway {

class progress {
public:
  using clock = std::chrono::steady_clock;

  /// Draws on stderr, in place if stderr is a terminal.
  explicit progress(std::string label);

  /// Draws on `out` (which must outlive this), in place if `tty`; `now`
  /// tells the time (tests pass their own clock).
  progress(std::string label, std::ostream& out, bool tty,
           std::function<clock::time_point()> now = clock::now);

  /// `total` items to go; the clock starts now.
  void start(size_t total);

  /// `n` more are done; redraws when it is time.
  void advance(size_t n = 1);

  /// The last line, once: when all are done, or when stopped early.
  void finish();

  /// "predict 40/100 [########------------] 40% 20.0/s ETA 3s"
  std::string line() const;

  size_t done() const {
    return done_;
  }

private:
  void draw(bool last);

  std::string label_;
  std::ostream* out_;
  bool tty_;
  std::function<clock::time_point()> now_;
  size_t total_ = 0;
  size_t done_ = 0;
  clock::time_point started_;
  clock::time_point drawn_;
  bool finished_ = false;
};

/// The refs of `refs` in the order they complete (a failed task's ref
/// counts as complete: its get throws), each as soon as it does. The
/// progress bar, if given, advances with each.
template <class T>
class completion {
public:
  class iterator {
  public:
    using value_type = object_ref<T>;
    using reference = object_ref<T>&;
    using pointer = object_ref<T>*;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;

    explicit iterator(completion* owner) : owner_(owner) {
      if (!owner_->next())
        owner_ = nullptr;
    }

    reference operator*() const {
      return owner_->current_;
    }

    pointer operator->() const {
      return &owner_->current_;
    }

    iterator& operator++() {
      if (!owner_->next())
        owner_ = nullptr;
      return *this;
    }

    friend bool operator==(const iterator& x, const iterator& y) {
      return x.owner_ == y.owner_;
    }

    friend bool operator!=(const iterator& x, const iterator& y) {
      return !(x == y);
    }

  private:
    completion* owner_ = nullptr;
  };

  completion(std::vector<object_ref<T>> refs,
             std::shared_ptr<progress> bar)
    : pending_(std::move(refs)), bar_(std::move(bar)) {
    if (bar_)
      bar_->start(pending_.size());
  }

  iterator begin() {
    return iterator{this};
  }

  iterator end() {
    return {};
  }

private:
  // Moves on to the next ref that completed, waiting if none has; false
  // once all came.
  bool next() {
    if (yielded_ && bar_)
      bar_->advance();
    yielded_ = false;
    if (ready_.empty() && !pending_.empty()) {
      // One wait for the first, then every other one ready by now.
      auto first = wait(pending_, 1);
      for (auto& r : first.ready)
        ready_.push_back(std::move(r));
      pending_ = std::move(first.pending);
      if (!pending_.empty()) {
        auto more = wait(pending_, pending_.size(), std::chrono::seconds(0));
        for (auto& r : more.ready)
          ready_.push_back(std::move(r));
        pending_ = std::move(more.pending);
      }
    }
    if (ready_.empty()) {
      if (bar_)
        bar_->finish();
      return false;
    }
    current_ = std::move(ready_.front());
    ready_.pop_front();
    yielded_ = true;
    return true;
  }

  std::vector<object_ref<T>> pending_;
  std::deque<object_ref<T>> ready_;
  object_ref<T> current_;
  bool yielded_ = false;
  std::shared_ptr<progress> bar_;
};

template <class T>
completion<T> as_completed(std::vector<object_ref<T>> refs) {
  return completion<T>{std::move(refs), nullptr};
}

template <class T>
completion<T> as_completed(std::vector<object_ref<T>> refs, progress bar) {
  return completion<T>{std::move(refs),
                       std::make_shared<progress>(std::move(bar))};
}

} // namespace caraway
