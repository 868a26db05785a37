#include "supervisor/control.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace vsr::supervisor {

namespace {

constexpr std::size_t kMaxRequestBytes = 4096;

sockaddr_un address_of(const std::string& cluster, socklen_t& length) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string name = control_socket_name(cluster);
  // Abstract namespace: a leading NUL, no file.
  std::memcpy(address.sun_path + 1, name.data(), std::min(name.size(), sizeof(address.sun_path) - 1));
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return address;
}

bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

std::string control_socket_name(const std::string& cluster) { return "vsr-shm/" + cluster; }

std::optional<ControlServer> ControlServer::bind(const std::string& cluster) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  socklen_t length = 0;
  const sockaddr_un address = address_of(cluster, length);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return ControlServer(fd);
}

ControlServer::ControlServer(ControlServer&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
ControlServer& ControlServer::operator=(ControlServer&& other) noexcept {
  std::swap(fd_, other.fd_);
  return *this;
}
ControlServer::~ControlServer() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<ControlServer::Request> ControlServer::accept() {
  Request request;
  request.fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (request.fd < 0) return std::nullopt;
  ucred peer{};
  socklen_t size = sizeof(peer);
  if (::getsockopt(request.fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 ||
      (peer.uid != ::getuid() && peer.uid != 0)) {
    answer(request, false, "permission denied: the supervisor serves only its own user\n");
    return std::nullopt;
  }
  // One line, bounded, with a deadline: a silent peer cannot hold the supervisor.
  std::string line;
  char buffer[512];
  while (line.size() < kMaxRequestBytes && line.find('\n') == std::string::npos) {
    pollfd p{request.fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    const ssize_t n = ::recv(request.fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    line.append(buffer, static_cast<std::size_t>(n));
  }
  const auto end = line.find('\n');
  if (end == std::string::npos) {
    answer(request, false, "malformed request: expected one line\n");
    return std::nullopt;
  }
  request.words = split(line.substr(0, end));
  if (request.words.empty()) {
    answer(request, false, "empty request\n");
    return std::nullopt;
  }
  return request;
}

void ControlServer::answer(Request& request, bool ok, const std::string& text) {
  if (request.fd < 0) return;
  write_all(request.fd, (ok ? "ok\n" : "error\n") + text);
  ::close(request.fd);
  request.fd = -1;
}

std::optional<ControlReply> send_command(const std::string& cluster,
                                         const std::vector<std::string>& words, int timeout_ms) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  socklen_t length = 0;
  const sockaddr_un address = address_of(cluster, length);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + w;
  line += "\n";
  ControlReply reply;
  if (!write_all(fd, line)) {
    ::close(fd);
    return ControlReply{false, "the supervisor closed the connection\n"};
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      ::close(fd);
      return ControlReply{false, "the supervisor did not answer within " +
                                     std::to_string(timeout_ms / 1000) + " s\n"};
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = text.find('\n');
  reply.ok = text.substr(0, end) == "ok";
  reply.text = end == std::string::npos ? std::string() : text.substr(end + 1);
  return reply;
}

}  // namespace vsr::supervisor
