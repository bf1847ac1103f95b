#include "trainer/data/packing.h"

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>

namespace trainrt::trainer {

bool ParsePackingStrategy(const std::string& name, PackingStrategy& out) {
  if (name == "bfd") return out = PackingStrategy::kBfd, true;
  if (name == "bfd_split") return out = PackingStrategy::kBfdSplit, true;
  if (name == "wrapped") return out = PackingStrategy::kWrapped, true;
  return false;
}

std::vector<std::vector<size_t>> BestFitDecreasing(const std::vector<size_t>& lengths, size_t capacity) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> bins;
  // Room left -> the bins with that room, in the order they came to have it (TRL's deques).
  std::map<size_t, std::deque<size_t>> by_room;
  for (size_t i : order) {
    size_t bin;
    auto fit = by_room.lower_bound(lengths[i]);
    if (fit != by_room.end()) {
      bin = fit->second.front();
      fit->second.pop_front();
      const size_t room = fit->first;
      if (fit->second.empty()) by_room.erase(fit);
      if (room > lengths[i]) by_room[room - lengths[i]].push_back(bin);
    } else {
      bin = bins.size();
      bins.emplace_back();
      if (capacity > lengths[i]) by_room[capacity - lengths[i]].push_back(bin);
    }
    bins[bin].push_back(i);
  }
  return bins;
}

std::vector<std::pair<size_t, size_t>> CutIntoPieces(size_t length, size_t capacity) {
  std::vector<std::pair<size_t, size_t>> pieces;
  for (size_t begin = 0; begin < length; begin += capacity) pieces.emplace_back(begin, std::min(length, begin + capacity));
  return pieces;
}

}  // namespace trainrt::trainer
