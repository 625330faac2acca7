#pragma once
/// @file
/// Turns per-message outcomes into cumulative commits, for brokers whose acks are
/// one position per partition (Kafka-like logs): the commit position only covers
/// the contiguous settled prefix, so a failure is never skipped by a later success.
///
/// @code
/// brook::commit_tracker t;
/// t.delivered(0, 5);                 // taken from the broker, now in flight
/// t.delivered(0, 6);
/// t.delivered(0, 7);
/// t.settled(0, 7);                   // nullopt: 5 and 6 are still in flight
/// t.settled(0, 6);                   // nullopt
/// t.settled(0, 5);                   // 8: the next offset to consume
/// for (auto [partition, position] : t.take_commits())
///   driver.commit(partition, position);
///
/// t.delivered(0, 8);
/// t.delivered(0, 9);
/// if (auto seek_to = t.failed(0, 8)) // 8 must be redelivered: 8 and 9 are forgotten
///   driver.seek(0, *seek_to);        // deliveries above 8 are now ignored until 8 comes again
/// @endcode
///
/// Rules, per partition (partitions are independent):
/// - Offsets are delivered in increasing order; gaps are allowed (compacted topics,
///   transaction markers) and never block: the position is the last settled offset + 1
///   of the settled prefix of what was delivered.
/// - Settling is final (ack, reject, dead letter). The first outcome of a delivery wins:
///   a second `settled` or a `failed` after `settled` is ignored, and so is an outcome for
///   an offset that is not tracked (never delivered, already committed, or forgotten).
/// - Redelivery after a seek: `failed(p, n)` (nack) forgets offsets >= n, settled or not,
///   because the driver seeks back to n and the broker delivers all of them again (at least
///   once: settled ones run again); offsets below n stay in flight. Until a delivery at or
///   below n (and not below the commit position) arrives, `delivered` refuses offsets above
///   n: messages fetched before the seek; it returns false and the driver drops them.
///   Leftovers below the seek target are not recognized: a driver drops what it fetched
///   before a seek, or keeps only what lies above the target (the rest of a batch).
/// - A delivery at or below the newest tracked offset without a `failed` (the driver sought
///   back for its own reasons) forgets the tracked offsets from there on in the same way.
/// - A delivery below the commit position is refused (false): it was settled for good.
/// - The commit position never goes back. Outcomes are keyed by offset: a late outcome of a
///   forgotten delivery is ignored before the redelivery and counts for it after (the message
///   was processed, so at least once holds).
/// - If the broker cannot serve n any more (retention), the driver treats the partition as
///   reassigned: `revoke(p)`, then deliver from where the broker resumes.
///
/// Memory is O(tracked offsets) per partition: the lowest unsettled offset and what was
/// delivered after it. In-order delivery and settlement cost amortized O(1) per call;
/// out-of-order settlement O(log in-flight).
///
/// @warning Not thread-safe: owned by one actor or event loop thread, like the driver that
///          calls it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace brook {

/// Tracks delivered offsets per partition and reports commit positions (next offset to
/// consume). See the file comment for the rules.
class commit_tracker {
public:
  using partition_id = std::int32_t;
  using offset_type = std::int64_t;

  /// The message at `offset` was taken from the broker and is now in flight.
  /// Returns false if the delivery is not tracked and should be dropped unprocessed: it was
  /// fetched before a seek that `failed` asked for, or it is below the commit position.
  bool delivered(partition_id partition, offset_type offset);

  /// The message is done for good (acked, rejected or dead-lettered). Returns the new commit
  /// position when the committable prefix advanced, otherwise nullopt.
  std::optional<offset_type> settled(partition_id partition, offset_type offset);

  /// The message must be redelivered (nack). Returns the offset to seek the partition back
  /// to (`offset` itself: lower offsets are still in flight), or nullopt if the outcome is
  /// ignored (offset not tracked or already settled) and no seek is needed.
  std::optional<offset_type> failed(partition_id partition, offset_type offset);

  /// The current commit position (last contiguous settled offset + 1), if any.
  std::optional<offset_type> committable(partition_id partition) const;

  /// Positions that advanced since the last call, one per partition (coalesced), in the
  /// order the partitions first advanced.
  std::vector<std::pair<partition_id, offset_type>> take_commits();

  /// The partition was revoked: forget it. Returns the position `take_commits` would still
  /// have reported for it, so a rebalance callback can commit it before giving it up.
  /// Outcomes for its offsets are ignored from now on; a later `delivered` starts afresh.
  std::optional<offset_type> revoke(partition_id partition);

  /// Messages of the partition delivered and neither settled nor forgotten.
  std::size_t in_flight(partition_id partition) const;

private:
  struct slot {
    offset_type offset;
    bool settled;
  };

  struct partition_state {
    std::deque<slot> slots;  // increasing offsets; the front is unsettled
    std::size_t unsettled = 0;
    std::optional<offset_type> position;  // never decreases
    std::optional<offset_type> rewind;    // seek target of a failure not yet redelivered
    bool reported = true;                 // position handed out by take_commits
  };
  /// The partition and slot index of a tracked, unsettled `offset`, or a null partition.
  std::pair<partition_state*, std::size_t> unsettled_slot(partition_id partition,
                                                          offset_type offset);

  // Index of `offset` in `slots`, or slots.size(). Without gaps the offset sits at its
  // distance from the front, so the common case skips the binary search.
  static std::size_t find(const std::deque<slot>& slots, offset_type offset);
  // Forgets the slots at or above `offset`.
  static void truncate(partition_state& st, offset_type offset);

  std::unordered_map<partition_id, partition_state> partitions_;
  std::vector<partition_id> advanced_;  // may hold revoked or repeated ids: checked on take
};

inline std::size_t commit_tracker::find(const std::deque<slot>& slots, offset_type offset) {
  if (slots.empty() || offset < slots.front().offset || offset > slots.back().offset)
    return slots.size();
  auto guess = static_cast<std::size_t>(offset - slots.front().offset);
  if (guess < slots.size() && slots[guess].offset == offset)
    return guess;
  auto it = std::lower_bound(slots.begin(), slots.end(), offset,
                             [](const slot& s, offset_type o) { return s.offset < o; });
  if (it == slots.end() || it->offset != offset)
    return slots.size();
  return static_cast<std::size_t>(it - slots.begin());
}

inline void commit_tracker::truncate(partition_state& st, offset_type offset) {
  while (!st.slots.empty() && st.slots.back().offset >= offset) {
    if (!st.slots.back().settled)
      --st.unsettled;
    st.slots.pop_back();
  }
}

inline bool commit_tracker::delivered(partition_id partition, offset_type offset) {
  auto& st = partitions_[partition];
  // Below the position says nothing about the pending seek: a leftover of an older one.
  if ((st.position && offset < *st.position) || (st.rewind && offset > *st.rewind))
    return false;
  st.rewind.reset();
  if (!st.slots.empty() && offset <= st.slots.back().offset)
    truncate(st, offset);
  st.slots.push_back(slot{offset, false});
  ++st.unsettled;
  return true;
}

inline std::pair<commit_tracker::partition_state*, std::size_t> commit_tracker::unsettled_slot(
    partition_id partition, offset_type offset) {
  auto found = partitions_.find(partition);
  if (found == partitions_.end())
    return {nullptr, 0};
  auto& st = found->second;
  auto i = find(st.slots, offset);
  if (i == st.slots.size() || st.slots[i].settled)
    return {nullptr, 0};
  return {&st, i};
}

inline std::optional<commit_tracker::offset_type> commit_tracker::settled(partition_id partition,
                                                                          offset_type offset) {
  auto [found, i] = unsettled_slot(partition, offset);
  if (!found)
    return std::nullopt;
  auto& st = *found;
  st.slots[i].settled = true;
  --st.unsettled;
  if (i != 0)
    return std::nullopt;
  while (!st.slots.empty() && st.slots.front().settled) {
    st.position = st.slots.front().offset + 1;
    st.slots.pop_front();
  }
  if (st.reported) {
    st.reported = false;
    advanced_.push_back(partition);
  }
  return st.position;
}

inline std::optional<commit_tracker::offset_type> commit_tracker::failed(partition_id partition,
                                                                         offset_type offset) {
  auto [found, i] = unsettled_slot(partition, offset);
  if (!found)
    return std::nullopt;
  auto& st = *found;
  truncate(st, offset);
  // Deliveries above `offset` are refused while this is set, so a pending rewind is always
  // above any tracked offset: `offset` is the lower one.
  st.rewind = offset;
  return offset;
}

inline std::optional<commit_tracker::offset_type> commit_tracker::committable(
    partition_id partition) const {
  auto found = partitions_.find(partition);
  if (found == partitions_.end())
    return std::nullopt;
  return found->second.position;
}

inline std::vector<std::pair<commit_tracker::partition_id, commit_tracker::offset_type>>
commit_tracker::take_commits() {
  std::vector<std::pair<partition_id, offset_type>> out;
  out.reserve(advanced_.size());
  for (auto partition : advanced_) {
    auto found = partitions_.find(partition);
    if (found == partitions_.end() || found->second.reported)
      continue;
    found->second.reported = true;
    out.emplace_back(partition, *found->second.position);
  }
  advanced_.clear();
  return out;
}

inline std::optional<commit_tracker::offset_type> commit_tracker::revoke(partition_id partition) {
  auto found = partitions_.find(partition);
  if (found == partitions_.end())
    return std::nullopt;
  std::optional<offset_type> pending;
  if (!found->second.reported)
    pending = found->second.position;
  partitions_.erase(found);
  return pending;
}

inline std::size_t commit_tracker::in_flight(partition_id partition) const {
  auto found = partitions_.find(partition);
  return found == partitions_.end() ? 0 : found->second.unsettled;
}

}  // namespace brook
