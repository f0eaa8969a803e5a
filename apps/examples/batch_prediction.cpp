// Batch inference with a coordinator actor. The coordinator puts the model
// into the object store once and hands every prediction task a ref to it, so
// the 128 KiB of weights are not copied into each of the many task specs.
// Some inputs are malformed on purpose: their tasks throw, and the
// coordinator counts them as failed instead of giving up on the batch.

#include <caraway/caraway.hpp>

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int64_t num_features = 128;
constexpr int64_t num_classes = 128;
constexpr int64_t batch_size = 100;

} // namespace

/// Scores `input` against every class of a linear `model` (one row of
/// weights per class) and returns the best class.
int64_t predict(const std::vector<double>& model,
                const std::vector<double>& input) {
  if (static_cast<int64_t>(input.size()) != num_features)
    throw std::invalid_argument("expected " + std::to_string(num_features)
                                + " features, got "
                                + std::to_string(input.size()));
  int64_t best = 0;
  double best_score = 0;
  for (int64_t c = 0; c < num_classes; ++c) {
    double score = 0;
    for (int64_t f = 0; f < num_features; ++f)
      score += model[c * num_features + f] * input[f];
    if (c == 0 || score > best_score) {
      best = c;
      best_score = score;
    }
  }
  return best;
}

CARAWAY_REMOTE(predict)

/// What one batch came to.
struct batch_report {
  int64_t batch = 0;
  int64_t completed = 0;
  int64_t failed = 0;
  std::string first_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_report& x) {
  return f(caf::meta::type_name("batch_report"), x.batch, x.completed, x.failed,
           x.first_error);
}

/// Owns the model and runs batches of predictions against it.
class coordinator {
public:
  explicit coordinator(int64_t seed) {
    std::vector<double> weights(num_classes * num_features);
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i] = static_cast<double>((i * 7919 + seed) % 1000) / 1000.0;
    // Above the inline threshold, so the weights live in the object store
    // and tasks read them there.
    model_ = caraway::put(weights);
  }

  /// Predicts every input of batch `batch`; every 25th input is malformed.
  batch_report run_batch(int64_t batch) {
    std::vector<caraway::object_ref<int64_t>> results;
    for (int64_t i = 0; i < batch_size; ++i) {
      auto n = i % 25 == 7 ? num_features / 2 : num_features;
      std::vector<double> input(n);
      for (int64_t f = 0; f < n; ++f)
        input[f] = static_cast<double>((batch * 31 + i * 17 + f) % 10);
      results.emplace_back(caraway::task(predict).remote(model_, input));
    }
    batch_report report;
    report.batch = batch;
    // One get per task: a get of all results would stop at the first error.
    for (auto& ref : results) {
      try {
        caraway::get(ref);
        ++report.completed;
      } catch (const caraway::task_error& e) {
        if (report.failed++ == 0)
          report.first_error = e.type_name() + ": " + e.message();
      }
    }
    ++batches_;
    return report;
  }

  int64_t batches() const {
    return batches_;
  }

private:
  caraway::object_ref<std::vector<double>> model_;
  int64_t batches_ = 0;
};

CARAWAY_ACTOR(coordinator, caraway::ctor<int64_t>, &coordinator::run_batch,
              &coordinator::batches)

#ifndef CARAWAY_TASK_LIBRARY
int main(int argc, char** argv) try {
  auto session = caraway::init(argc, argv);
  auto coord = caraway::actor<coordinator>(int64_t{42}).remote();
  // The coordinator runs one call at a time, so the batches queue up and
  // run in order.
  std::vector<caraway::object_ref<batch_report>> reports;
  for (int64_t b = 0; b < 3; ++b)
    reports.emplace_back(coord.task(&coordinator::run_batch).remote(b));
  int64_t completed = 0;
  int64_t failed = 0;
  // Each report as soon as its batch is done, with a progress bar on
  // stderr.
  for (auto& ref :
       caraway::as_completed(reports, caraway::progress("batches"))) {
    auto r = caraway::get(ref);
    std::cout << "batch " << r.batch << ": " << r.completed << " completed, "
              << r.failed << " failed\n";
    if (!r.first_error.empty())
      std::cout << "  first failure: " << r.first_error << '\n';
    completed += r.completed;
    failed += r.failed;
  }
  auto batches = caraway::get(coord.task(&coordinator::batches).remote());
  std::cout << "total: " << batches << " batches, " << completed
            << " completed, " << failed << " failed\n";
  // The coordinator is alive, so its model still occupies the store.
  auto st = caraway::object_store_stats();
  std::cout << "object store: " << st.objects << " object(s), "
            << st.used_bytes / 1024 << " KiB\n";
} catch (const caraway::error& e) {
  // Cannot reach the cluster, a task failed, ...: say so, not abort().
  std::cerr << "batch_prediction: " << e.what() << '\n';
  return 1;
}
#endif
