#include "supervisor/cluster_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace vsr::supervisor {

std::filesystem::path cluster_file_path(const std::filesystem::path& data) { return data / "cluster"; }

std::optional<ClusterFile> read_cluster_file(const std::filesystem::path& data) {
  const auto path = cluster_file_path(data);
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    throw std::runtime_error("cannot read " + path.string());
  }
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  ClusterFile file;
  try {
    file.name = fields.at("name");
    file.cluster_id = std::stoull(fields.at("cluster_id"));
    file.replicas = static_cast<std::uint32_t>(std::stoul(fields.at("replicas")));
  } catch (const std::exception&) {
    throw std::runtime_error(path.string() +
                             " is malformed (expected name, cluster_id and replicas); if this "
                             "directory holds no cluster you need, remove it");
  }
  return file;
}

void write_cluster_file(const std::filesystem::path& data, const ClusterFile& file) {
  const auto path = cluster_file_path(data);
  const auto temporary = path.string() + ".tmp";
  std::ostringstream text;
  text << "name=" << file.name << "\ncluster_id=" << file.cluster_id
       << "\nreplicas=" << file.replicas << "\n";
  const std::string bytes = text.str();
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
      ::fsync(fd) != 0 || ::close(fd) != 0) {
    throw std::runtime_error("cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path);
  const int dir = ::open(data.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace vsr::supervisor
