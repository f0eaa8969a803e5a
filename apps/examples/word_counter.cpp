// A stateful actor: text arrives in chunks, the actor keeps a running count
// of every word, and callers ask it for the most frequent ones. Results come
// back as a user struct that crosses the wire through its `inspect`.

#include <caraway/caraway.hpp>

#include <caf/meta/type_name.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

/// How often one word occurred.
struct word_count {
  std::string word;
  int64_t count = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, word_count& x) {
  return f(caf::meta::type_name("word_count"), x.word, x.count);
}

/// Counts words over all chunks it has seen.
class word_counter {
public:
  word_counter() = default;

  /// Counts the words of `chunk`, ignoring case and punctuation; returns how
  /// many words the chunk had.
  int64_t add_chunk(const std::string& chunk) {
    std::istringstream in{chunk};
    std::string token;
    int64_t words = 0;
    while (in >> token) {
      std::string word;
      for (unsigned char c : token)
        if (std::isalpha(c) || c == '\'')
          word += static_cast<char>(std::tolower(c));
      if (word.empty())
        continue;
      ++counts_[word];
      ++words;
    }
    total_ += words;
    return words;
  }

  int64_t total() const {
    return total_;
  }

  int64_t distinct() const {
    return static_cast<int64_t>(counts_.size());
  }

  /// The `n` most frequent words; ties go alphabetically so that the output
  /// does not depend on hashing or arrival order.
  std::vector<word_count> top(int64_t n) const {
    std::vector<word_count> result;
    for (auto& [word, count] : counts_)
      result.push_back({word, count});
    std::stable_sort(result.begin(), result.end(),
                     [](const word_count& x, const word_count& y) {
                       return x.count > y.count;
                     });
    if (static_cast<int64_t>(result.size()) > n)
      result.resize(static_cast<size_t>(n));
    return result;
  }

private:
  std::map<std::string, int64_t> counts_;
  int64_t total_ = 0;
};

CARAWAY_ACTOR(word_counter, caraway::ctor<>, &word_counter::add_chunk,
              &word_counter::total, &word_counter::distinct, &word_counter::top)

#ifndef CARAWAY_TASK_LIBRARY

namespace {

// Fixed input keeps the counts, and thus the test, stable.
constexpr const char* text[] = {
  "The quick brown fox jumps over the lazy dog.",
  "The dog sleeps; the fox runs into the forest.",
  "A fox is quick, a dog is lazy, and the forest is quiet.",
  "In the forest the fox finds the river and the dog finds the fox.",
  "Quick thinking saves the fox: it jumps the river, the dog does not.",
};

} // namespace

int main(int argc, char** argv) try {
  auto session = caraway::init(argc, argv);
  auto counter = caraway::actor<word_counter>().remote();
  // All chunks go out at once; the actor applies them one at a time, so its
  // map needs no lock.
  std::vector<caraway::object_ref<int64_t>> chunks;
  for (auto line : text)
    chunks.emplace_back(
      counter.task(&word_counter::add_chunk).remote(std::string{line}));
  auto per_chunk = caraway::get(chunks);
  for (size_t i = 0; i < per_chunk.size(); ++i)
    std::cout << "chunk " << i << ": " << per_chunk[i] << " words\n";
  auto total = caraway::get(counter.task(&word_counter::total).remote());
  auto distinct = caraway::get(counter.task(&word_counter::distinct).remote());
  std::cout << "total words: " << total << ", distinct: " << distinct << '\n';
  std::cout << "top words:\n";
  auto top = caraway::get(counter.task(&word_counter::top).remote(int64_t{5}));
  for (auto& x : top)
    std::cout << "  " << x.word << ": " << x.count << '\n';
} catch (const caraway::error& e) {
  // Cannot reach the cluster, a task failed, ...: say so, not abort().
  std::cerr << "word_counter: " << e.what() << '\n';
  return 1;
}

#endif
