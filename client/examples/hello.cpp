// Stores a greeting in a running vsr-shm cluster and reads it back.
#include <vsr/client.h>
#include <iostream>

int main(int argc, char** argv) {
  vsr::client::Client kv({.cluster = argc > 1 ? argv[1] : "default"});
  vsr::client::Result r = kv.put("greeting", "hello, world");
  if (r.ok()) r = kv.get("greeting");
  if (!r.ok()) std::cerr << "hello: " << to_string(r.status) << ": " << r.message << '\n';
  if (r.ok()) std::cout << *r.value << '\n';
  return r.ok() ? 0 : 1;
}
