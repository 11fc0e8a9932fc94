#include "core/fd_watchers.hpp"

#include <string>

#include "aio/errors.hpp"
#include "core/loop_internals.hpp"
#include "io/backend.hpp"

namespace aio {

namespace detail {

void start_on(EventLoop& loop, IoOp& op) {
  LoopInternals::backend(loop).start(op);
}

// The loop is closing: its ready queue was discarded already, so no completion is queued.
FdWatchers::~FdWatchers() {
  for (auto* map : {&readers_, &writers_}) {
    for (auto& [fd, w] : *map) LoopInternals::backend(loop_).cancel(*w);
    map->clear();
  }
}

void FdWatchers::add(int fd, bool write, std::function<void()> fn) {
  if (fd < 0) throw std::invalid_argument("invalid file descriptor: " + std::to_string(fd));
  auto& map = write ? writers_ : readers_;
  if (auto it = map.find(fd); it != map.end()) {
    it->second->fn = std::move(fn);
    return;
  }
  auto w = std::make_unique<Watcher>();
  w->loop = &loop_;
  w->fd = fd;
  w->kind = write ? IoKind::writable : IoKind::readable;
  w->fn = std::move(fn);
  w->arm();  // first: a descriptor the backend refuses (epoll: a regular file) leaves no entry
  map.emplace(fd, std::move(w));
}

bool FdWatchers::remove(int fd, bool write) {
  auto& map = write ? writers_ : readers_;
  auto it = map.find(fd);
  if (it == map.end()) return false;
  std::unique_ptr<Watcher> w = std::move(it->second);
  map.erase(it);
  const bool withdrawn = LoopInternals::backend(loop_).cancel(*w);
  if (w->running || !withdrawn) {
    // Running now, or its completion is queued: it frees itself when run() ends.
    w.release()->removed = true;
  }
  return true;
}

namespace {

// A socket an open transport reads and writes is not the caller's to watch: both would fire
// (asyncio's _ensure_fd_no_transport).
void ensure_fd_no_transport(EventLoop& loop, int fd) {
  for (const LoopResource* r = LoopInternals::resources(loop); r;
       r = LoopInternals::next_resource(r)) {
    if (r->transport_fd() == fd) {
      throw RuntimeError("File descriptor " + std::to_string(fd) + " is used by transport " +
                         r->transport_repr());
    }
  }
}

}  // namespace

}  // namespace detail

void EventLoop::add_reader(int fd, std::function<void()> fn) {
  check_open();
  detail::ensure_fd_no_transport(*this, fd);
  if (!watchers_) watchers_ = std::make_unique<detail::FdWatchers>(*this);
  watchers_->add(fd, false, std::move(fn));
}

bool EventLoop::remove_reader(int fd) {
  detail::ensure_fd_no_transport(*this, fd);
  return watchers_ && watchers_->remove(fd, false);
}

void EventLoop::add_writer(int fd, std::function<void()> fn) {
  check_open();
  detail::ensure_fd_no_transport(*this, fd);
  if (!watchers_) watchers_ = std::make_unique<detail::FdWatchers>(*this);
  watchers_->add(fd, true, std::move(fn));
}

bool EventLoop::remove_writer(int fd) {
  detail::ensure_fd_no_transport(*this, fd);
  return watchers_ && watchers_->remove(fd, true);
}

}  // namespace aio
