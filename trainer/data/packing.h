// Packing: many short examples in one training row, as TRL's SFTTrainer packs them (trl's
// pack_dataset). Best-fit decreasing keeps every example whole in one row (positions restart per
// example and attention stays inside it, so packing changes speed, not what is learned); wrapped
// cuts the concatenated stream into rows regardless of example boundaries. Index arithmetic only:
// no libtorch here.
#ifndef TRAINRT_TRAINER_DATA_PACKING_H_
#define TRAINRT_TRAINER_DATA_PACKING_H_

#include <cstddef>
#include <string>
#include <vector>

namespace trainrt::trainer {

enum class PackingStrategy {
  kBfd,       // best-fit decreasing; an example longer than a row keeps its first row's worth
  kBfdSplit,  // best-fit decreasing; a longer example is split into row-sized fragments first
  kWrapped,   // concatenate and cut every `row` ids; rows cross example boundaries
};

// "bfd", "bfd_split", "wrapped" (SFTConfig's packing_strategy); false for anything else.
bool ParsePackingStrategy(const std::string& name, PackingStrategy& out);

// TRL packs the examples of each datasets.map batch on its own: 1000 examples.
inline constexpr size_t kPackingBlock = 1000;

// Best-fit decreasing: the indices of `lengths` (each in 1..capacity) grouped into bins whose
// lengths sum to at most `capacity`. Examples are taken longest first (ties in index order); each
// goes to the open bin with the least room that still fits it, the earliest such bin on ties,
// else to a new bin. Bins come in the order they were opened, their examples in the order added:
// TRL's _pack_bfd exactly.
std::vector<std::vector<size_t>> BestFitDecreasing(const std::vector<size_t>& lengths, size_t capacity);

// [begin, end) ranges cutting a sequence of `length` ids into pieces of `capacity` and a shorter
// last piece (TRL's bfd_split fragments and its wrapped rows).
std::vector<std::pair<size_t, size_t>> CutIntoPieces(size_t length, size_t capacity);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DATA_PACKING_H_
