#include "check/state_cache.h"

#include <algorithm>

#include "common/assert.h"

namespace vsr::check {
namespace {

std::uint64_t mix(std::uint64_t x) {
  // The splitmix64 finaliser: every input bit affects every output bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t configuration_hash(std::uint64_t set_hash, StateId state) {
  return mix(set_hash ^ (std::uint64_t{state} * 0x9e3779b97f4a7c15ULL));
}

}  // namespace

LinearizedSet::LinearizedSet(std::size_t ops) : words_((ops + 63) / 64, 0), zobrist_(ops) {
  // A fixed seed keeps runs reproducible; the words only need to look independent.
  for (std::size_t i = 0; i < ops; ++i)
    zobrist_[i] = mix(0x5851f42d4c957f2dULL + i);
}

void LinearizedSet::set(std::uint32_t op) {
  VSR_ASSERT(!test(op));
  words_[op / 64] |= std::uint64_t{1} << (op % 64);
  hash_ ^= zobrist_[op];
}

void LinearizedSet::clear(std::uint32_t op) {
  VSR_ASSERT(test(op));
  words_[op / 64] &= ~(std::uint64_t{1} << (op % 64));
  hash_ ^= zobrist_[op];
}

bool LinearizedSet::test(std::uint32_t op) const {
  VSR_ASSERT(op / 64 < words_.size());
  return (words_[op / 64] >> (op % 64)) & 1;
}

StateCache::StateCache() : set_(0, Hash{}, Equal{&arena_}) {}

bool StateCache::Equal::operator()(const Entry& a, const Entry& b) const {
  return a.hash == b.hash && a.state == b.state && a.first == b.first && a.count == b.count &&
         std::equal(arena->begin() + a.offset, arena->begin() + a.offset + a.count,
                    arena->begin() + b.offset);
}

bool StateCache::Equal::operator()(const Probe& p, const Entry& e) const {
  return p.hash == e.hash && p.state == e.state && p.first == e.first && p.count == e.count &&
         std::equal(p.words, p.words + p.count, arena->begin() + e.offset);
}

StateCache::Probe StateCache::probe(const LinearizedSet& linearized, StateId state) {
  const std::vector<std::uint64_t>& words = linearized.words();
  std::size_t first = 0;
  while (first < words.size() && words[first] == ~std::uint64_t{0})
    ++first;
  std::size_t end = words.size();
  while (end > first && words[end - 1] == 0)
    --end;
  return Probe{configuration_hash(linearized.hash(), state), words.data() + first,
               static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(end - first), state};
}

bool StateCache::contains(const LinearizedSet& linearized, StateId state) const {
  return set_.contains(probe(linearized, state));
}

bool StateCache::insert(const LinearizedSet& linearized, StateId state) {
  const Probe p = probe(linearized, state);
  if (set_.contains(p)) return false;
  const Entry entry{p.hash, arena_.size(), p.first, p.count, state};
  arena_.insert(arena_.end(), p.words, p.words + p.count);
  const bool inserted = set_.insert(entry).second;
  VSR_ASSERT(inserted);
  return true;
}

std::size_t StateCache::bytes() const {
  return arena_.capacity() * sizeof(std::uint64_t) + set_.bucket_count() * (sizeof(Entry) + 1);
}

}  // namespace vsr::check
