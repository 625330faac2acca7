#include <brook/broker.hpp>
#include <brook/router.hpp>
#include <cctype>

#include "broker_core.hpp"

namespace brook {

namespace detail {

std::string default_handler_name(std::string_view address) {
  std::string out = "Handle";
  bool upper = true;
  for (char c : address) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  return out;
}

}  // namespace detail

router::router(std::string prefix)
    : prefix_(std::move(prefix)), deps_(std::make_shared<dependency_registry>()) {}

router::~router() = default;

subscription_spec router::default_spec(std::string address) const {
  subscription_spec s;
  s.address = std::move(address);
  return s;
}

subscriber_builder router::subscriber(std::string address) {
  return subscriber(default_spec(std::move(address)));
}

subscriber_builder router::subscriber(subscription_spec spec) {
  auto d = std::make_shared<detail::subscriber_decl>();
  d->spec = std::move(spec);
  d->spec.address = prefix_ + d->spec.address;
  d->deps = deps_;
  subs_.push_back(d);
  adopt(*d);
  return subscriber_builder{
      d, [this](std::string address) { return make_publisher_decl(std::move(address)); }};
}

std::shared_ptr<detail::publisher_decl> router::make_publisher_decl(std::string address) {
  auto p = std::make_shared<detail::publisher_decl>();
  p->address = prefix_ + address;
  pubs_.push_back(p);
  adopt(*p);
  return p;
}

brook::publisher router::publisher(std::string address, driver_spec driver) {
  auto p = make_publisher_decl(std::move(address));
  p->driver = std::move(driver);
  return brook::publisher{p};
}

router& router::middleware(middleware_ptr m) {
  mws_.push_back(std::move(m));
  return *this;
}

router& router::include_router(router& child) {
  child.deps_->set_parent(deps_);
  for (auto& s : child.subs_) {
    s->spec.address = prefix_ + s->spec.address;
    // The child router's own middlewares wrap its subscribers' ones.
    s->middlewares.insert(s->middlewares.begin(), child.mws_.begin(), child.mws_.end());
    subs_.push_back(s);
    adopt(*s);
  }
  for (auto& p : child.pubs_) {
    p->address = prefix_ + p->address;
    pubs_.push_back(p);
    adopt(*p);
  }
  child.subs_.clear();
  child.pubs_.clear();
  return *this;
}

broker& broker::max_publish_in_flight(std::size_t n) {
  core_->window.set_limit(n);
  return *this;
}

broker& broker::max_publish_bytes(std::size_t n) {
  core_->max_body_bytes = n;
  return *this;
}

broker::broker(std::shared_ptr<transport> t)
    : core_(std::make_shared<detail::broker_core>(std::move(t))) {}

broker::~broker() = default;

std::shared_ptr<transport> broker::get_transport() const {
  return core_->get_transport();
}

std::shared_ptr<transport> broker::swap_transport(std::shared_ptr<transport> t) {
  return core_->swap_transport(std::move(t));
}

std::string_view broker::protocol() const noexcept {
  return core_->get_transport()->protocol();
}

asyncapi::server_spec broker::server() const {
  auto t = core_->get_transport();
  asyncapi::server_spec s;
  s.url = t->url();
  s.protocol = std::string{t->protocol()};
  return s;
}

void broker::adopt(detail::subscriber_decl& d) {
  if (d.name.empty())
    d.name = detail::default_handler_name(d.spec.address);
}

void broker::adopt(detail::publisher_decl& p) {
  p.core = core_;
}

}  // namespace brook
