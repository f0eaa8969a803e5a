#include "dashboard.hpp"

#include <caf/all.hpp>

#include "api.hpp"
#include "caraway/wire/interfaces.hpp"
#include "http_service.hpp"

// The page's files, embedded at build time (dashboard_assets.cpp).
namespace caraway::runtime::assets {
extern const char index_html[];
extern const char dashboard_js[];
extern const char dashboard_css[];
} // namespace caraway::runtime::assets

namespace caraway::runtime {

namespace {

// The head's tables through a blocking actor, each question bounded.
class gcs_source : public views::state_source {
public:
  gcs_source(caf::actor_system& sys, const wire::gcs_actor& gcs,
             std::chrono::milliseconds timeout)
    : self_(sys), gcs_(gcs), timeout_(timeout) {
    // nop
  }

  bool nodes(std::vector<wire::node_info>& out) override {
    return ask(self_, gcs_, timeout_, out, wire::nodes_atom::value);
  }

  bool actors(std::vector<wire::actor_info>& out) override {
    return ask(self_, gcs_, timeout_, out, wire::actors_atom::value);
  }

  bool jobs(std::map<uint64_t, std::string>& out) override {
    return ask(self_, gcs_, timeout_, out, wire::jobs_atom::value);
  }

  bool groups(std::vector<wire::placement_group_info>& out) override {
    return ask(self_, gcs_, timeout_, out, wire::group_atom::value);
  }

  bool tasks(std::vector<wire::task_info>& out) override {
    return ask(self_, gcs_, timeout_, out, wire::tasks_atom::value);
  }

  bool objects(uint32_t limit, std::vector<wire::object_info>& out,
               uint64_t& total, uint32_t& silent) override {
    return ask_all(self_, gcs_, timeout_, std::tie(out, total, silent),
                   wire::objects_atom::value, limit);
  }

private:
  caf::scoped_actor self_;
  const wire::gcs_actor& gcs_;
  std::chrono::milliseconds timeout_;
};

} // namespace

struct dashboard_server::impl {
  caf::actor_system& sys;
  wire::gcs_actor gcs;
  std::chrono::milliseconds timeout;
  http_service http;

  impl(caf::actor_system& sys, wire::gcs_actor gcs, const std::string& host,
       uint16_t port, uint32_t timeout_ms)
    : sys(sys),
      gcs(std::move(gcs)),
      timeout(timeout_ms),
      http("the dashboard", host, port) {
    // nop
  }

  void api(const httplib::Request& req, httplib::Response& res) {
    views::api_request ask;
    ask.path = req.path;
    auto n = req.get_param_value_count("filter");
    for (size_t i = 0; i < n; ++i)
      ask.filters.push_back(req.get_param_value("filter", i));
    if (req.has_param("limit")) {
      auto text = req.get_param_value("limit");
      char* end = nullptr;
      auto limit = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || limit <= 0) {
        res.status = 400;
        res.set_content("{\"error\":\"limit must be a positive number\"}\n",
                        "application/json");
        return;
      }
      ask.limit = static_cast<size_t>(limit);
    }
    gcs_source head{sys, gcs, timeout};
    auto reply = views::answer_api(head, ask);
    res.status = reply.status;
    for (auto& [key, value] : reply.headers)
      res.set_header(key, value);
    // The page polls: a stale answer would hide a change.
    res.set_header("Cache-Control", "no-store");
    res.set_content(reply.body, reply.content_type);
  }
};

dashboard_server::dashboard_server(caf::actor_system& sys, wire::gcs_actor gcs,
                                   const std::string& host, uint16_t port,
                                   uint32_t timeout_ms)
  : impl_(std::make_unique<impl>(sys, std::move(gcs), host, port, timeout_ms)) {
  auto* state = impl_.get();
  auto& server = state->http.server();
  // The page loads nothing but its own files, cannot be framed, and no
  // answer is taken for another type than it says.
  server.set_default_headers(
    {{"Content-Security-Policy",
      "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"},
     {"X-Content-Type-Options", "nosniff"},
     {"X-Frame-Options", "DENY"},
     {"Referrer-Policy", "no-referrer"}});
  auto file = [&server](const char* path, const char* text, const char* type) {
    server.Get(path,
               [text, type](const httplib::Request&, httplib::Response& res) {
                 res.set_content(text, type);
               });
  };
  file("/", assets::index_html, "text/html; charset=utf-8");
  file("/index.html", assets::index_html, "text/html; charset=utf-8");
  file("/dashboard.js", assets::dashboard_js, "text/javascript; charset=utf-8");
  file("/dashboard.css", assets::dashboard_css, "text/css; charset=utf-8");
  server.Get(R"(/api(/.*)?)",
             [state](const httplib::Request& req, httplib::Response& res) {
               state->api(req, res);
             });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty())
      res.set_content("{\"error\":\"no such page\"}\n", "application/json");
  });
  state->http.start();
}

dashboard_server::~dashboard_server() = default;

uint16_t dashboard_server::port() const {
  return impl_->http.port();
}

} // namespace caraway::runtime
