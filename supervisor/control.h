// The supervisor's control channel: an abstract Unix socket named after the cluster.
//
// Abstract, so the kernel removes it when the supervisor dies (a crashed supervisor
// leaves no socket file behind, and "none running" is a failed connect); binding it
// is also what makes a second supervisor of the same cluster refuse to start. Only
// processes of the same user (or root) are served (SO_PEERCRED).
//
// Protocol: the client sends one line (command and arguments, space-separated) and
// reads the reply to end of stream: a first line "ok" or "error", then text.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vsr::supervisor {

std::string control_socket_name(const std::string& cluster);

class ControlServer {
 public:
  // Binds the cluster's control socket; nullopt if another process holds it.
  static std::optional<ControlServer> bind(const std::string& cluster);
  ControlServer(ControlServer&&) noexcept;
  ControlServer& operator=(ControlServer&&) noexcept;
  ~ControlServer();
  int fd() const { return fd_; }

  // A connected request, ready to be answered once.
  struct Request {
    int fd = -1;
    std::vector<std::string> words;
  };
  // Accepts one connection and reads its request line (bounded); nullopt if the peer
  // is not allowed or sent nothing usable (it has then been answered and closed).
  std::optional<Request> accept();
  static void answer(Request& request, bool ok, const std::string& text);

 private:
  explicit ControlServer(int fd) : fd_(fd) {}
  int fd_ = -1;
};

struct ControlReply {
  bool ok = false;
  std::string text;
};

// Sends one command to the cluster's supervisor. nullopt: no supervisor is running.
std::optional<ControlReply> send_command(const std::string& cluster,
                                         const std::vector<std::string>& words,
                                         int timeout_ms = 15000);

}  // namespace vsr::supervisor
