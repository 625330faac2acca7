#include <gtest/gtest.h>

#include <algorithm>
#include <brook/commit_tracker.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using brook::commit_tracker;
using commits = std::vector<std::pair<std::int32_t, std::int64_t>>;

TEST(commit_tracker, nothing_committable_before_a_settlement) {
  commit_tracker t;
  EXPECT_EQ(t.committable(0), std::nullopt);
  t.delivered(0, 3);
  EXPECT_EQ(t.committable(0), std::nullopt);
  EXPECT_EQ(t.in_flight(0), 1u);
  EXPECT_TRUE(t.take_commits().empty());
}

TEST(commit_tracker, in_order_settlement_commits_each_offset) {
  commit_tracker t;
  for (std::int64_t o = 0; o < 5; ++o) {
    EXPECT_TRUE(t.delivered(0, o));
    EXPECT_EQ(t.settled(0, o), o + 1);
  }
  EXPECT_EQ(t.committable(0), 5);
  EXPECT_EQ(t.in_flight(0), 0u);
  EXPECT_EQ(t.take_commits(), (commits{{0, 5}}));
}

TEST(commit_tracker, out_of_order_settlement_waits_for_the_lowest) {
  commit_tracker t;
  t.delivered(0, 5);
  t.delivered(0, 6);
  t.delivered(0, 7);
  EXPECT_EQ(t.settled(0, 7), std::nullopt);
  EXPECT_EQ(t.settled(0, 6), std::nullopt);
  EXPECT_EQ(t.committable(0), std::nullopt);
  EXPECT_TRUE(t.take_commits().empty());
  EXPECT_EQ(t.in_flight(0), 1u);
  EXPECT_EQ(t.settled(0, 5), 8);
  EXPECT_EQ(t.take_commits(), (commits{{0, 8}}));
}

TEST(commit_tracker, gaps_between_delivered_offsets_do_not_block) {
  commit_tracker t;
  t.delivered(0, 10);
  t.delivered(0, 12);
  t.delivered(0, 15);
  EXPECT_EQ(t.settled(0, 10), 11);
  EXPECT_EQ(t.settled(0, 15), std::nullopt);
  EXPECT_EQ(t.committable(0), 11);
  EXPECT_EQ(t.settled(0, 12), 16);
  EXPECT_EQ(t.committable(0), 16);
}

TEST(commit_tracker, settling_everything_with_gaps_commits_past_the_last) {
  commit_tracker t;
  for (std::int64_t o : {10, 12, 15})
    t.delivered(0, o);
  t.settled(0, 15);
  t.settled(0, 12);
  EXPECT_EQ(t.settled(0, 10), 16);
  EXPECT_EQ(t.take_commits(), (commits{{0, 16}}));
}

TEST(commit_tracker, duplicate_and_unknown_settlements_are_ignored) {
  commit_tracker t;
  EXPECT_EQ(t.settled(9, 1), std::nullopt);  // unknown partition
  t.delivered(0, 10);
  t.delivered(0, 12);
  EXPECT_EQ(t.settled(0, 12), std::nullopt);
  EXPECT_EQ(t.settled(0, 12), std::nullopt);  // duplicate
  EXPECT_EQ(t.settled(0, 11), std::nullopt);  // a gap: never delivered
  EXPECT_EQ(t.settled(0, 9), std::nullopt);   // below the first delivery
  EXPECT_EQ(t.settled(0, 13), std::nullopt);  // above the last delivery
  EXPECT_EQ(t.in_flight(0), 1u);
  EXPECT_EQ(t.settled(0, 10), 13);
  EXPECT_EQ(t.settled(0, 10), std::nullopt);  // already committed
  EXPECT_EQ(t.committable(0), 13);
}

TEST(commit_tracker, a_failure_blocks_the_prefix_until_redelivered_and_settled) {
  commit_tracker t;
  for (std::int64_t o = 1; o <= 5; ++o)
    t.delivered(0, o);
  t.settled(0, 4);
  EXPECT_EQ(t.failed(0, 3), 3);              // seek back to 3
  EXPECT_EQ(t.in_flight(0), 2u);             // 1 and 2; 3, 4 and 5 are forgotten
  EXPECT_EQ(t.settled(0, 5), std::nullopt);  // late outcome of a forgotten delivery
  EXPECT_EQ(t.settled(0, 1), 2);
  EXPECT_EQ(t.settled(0, 2), 3);
  EXPECT_EQ(t.committable(0), 3);
  // 4 was fetched before the seek: refused, the driver drops it.
  EXPECT_FALSE(t.delivered(0, 4));
  EXPECT_EQ(t.settled(0, 4), std::nullopt);
  EXPECT_EQ(t.committable(0), 3);
  // The redelivery after the seek.
  EXPECT_TRUE(t.delivered(0, 3));
  EXPECT_TRUE(t.delivered(0, 4));
  EXPECT_TRUE(t.delivered(0, 5));
  EXPECT_EQ(t.settled(0, 5), std::nullopt);
  EXPECT_EQ(t.settled(0, 4), std::nullopt);
  EXPECT_EQ(t.committable(0), 3);
  EXPECT_EQ(t.settled(0, 3), 6);
  EXPECT_EQ(t.take_commits(), (commits{{0, 6}}));
}

TEST(commit_tracker, failure_of_the_only_message_and_its_retry) {
  commit_tracker t;
  t.delivered(0, 0);
  EXPECT_EQ(t.failed(0, 0), 0);
  EXPECT_EQ(t.in_flight(0), 0u);
  EXPECT_EQ(t.committable(0), std::nullopt);
  EXPECT_FALSE(t.delivered(0, 1));
  EXPECT_TRUE(t.delivered(0, 0));
  EXPECT_EQ(t.failed(0, 0), 0);  // fails again
  EXPECT_TRUE(t.delivered(0, 0));
  EXPECT_EQ(t.settled(0, 0), 1);
}

TEST(commit_tracker, ignored_failures_need_no_seek) {
  commit_tracker t;
  EXPECT_EQ(t.failed(3, 0), std::nullopt);  // unknown partition
  t.delivered(0, 1);
  t.delivered(0, 2);
  t.settled(0, 2);
  EXPECT_EQ(t.failed(0, 2), std::nullopt);  // already settled: the first outcome wins
  EXPECT_EQ(t.failed(0, 7), std::nullopt);  // never delivered
  EXPECT_EQ(t.failed(0, 1), 1);
  EXPECT_EQ(t.failed(0, 1), std::nullopt);  // forgotten by the first failure
}

TEST(commit_tracker, a_lower_failure_while_a_rewind_is_pending_moves_the_seek_down) {
  commit_tracker t;
  for (std::int64_t o = 1; o <= 10; ++o)
    t.delivered(0, o);
  EXPECT_EQ(t.failed(0, 7), 7);
  EXPECT_EQ(t.failed(0, 4), 4);
  EXPECT_EQ(t.failed(0, 8), std::nullopt);
  EXPECT_FALSE(t.delivered(0, 7));  // fetched after the seek to 7, before the seek to 4
  EXPECT_TRUE(t.delivered(0, 4));
  EXPECT_EQ(t.in_flight(0), 4u);  // 1, 2, 3 and the new 4
}

TEST(commit_tracker, a_leftover_below_the_position_does_not_end_a_pending_rewind) {
  commit_tracker t;
  for (std::int64_t o = 1; o <= 6; ++o)
    t.delivered(0, o);
  EXPECT_EQ(t.settled(0, 1), 2);
  EXPECT_EQ(t.failed(0, 4), 4);
  EXPECT_FALSE(t.delivered(0, 1));  // a leftover of an older seek, below the position
  EXPECT_FALSE(t.delivered(0, 5));  // still fetched before the seek to 4
  EXPECT_TRUE(t.delivered(0, 4));
}

TEST(commit_tracker, a_seek_without_failure_forgets_from_the_redelivered_offset) {
  commit_tracker t;
  for (std::int64_t o = 1; o <= 5; ++o)
    t.delivered(0, o);
  EXPECT_EQ(t.settled(0, 1), 2);
  t.settled(0, 4);
  // The driver sought back to 3 for its own reasons: 3, 4, 5 come again.
  EXPECT_TRUE(t.delivered(0, 3));
  EXPECT_EQ(t.in_flight(0), 2u);  // 2 and the new 3
  EXPECT_EQ(t.settled(0, 2), 3);
  EXPECT_TRUE(t.delivered(0, 4));
  EXPECT_EQ(t.settled(0, 4), std::nullopt);  // settled again: needed, 3 is still open
  EXPECT_EQ(t.settled(0, 3), 5);
  // Below the commit position: settled for good, not tracked again, no regression.
  EXPECT_FALSE(t.delivered(0, 2));
  EXPECT_EQ(t.settled(0, 2), std::nullopt);
  EXPECT_EQ(t.committable(0), 5);
  EXPECT_EQ(t.in_flight(0), 0u);
}

TEST(commit_tracker, partitions_are_independent_and_commits_coalesce) {
  commit_tracker t;
  t.delivered(1, 100);
  t.delivered(0, 0);
  t.delivered(0, 1);
  t.delivered(2, 7);
  EXPECT_EQ(t.failed(2, 7), 7);
  EXPECT_EQ(t.settled(1, 100), 101);
  EXPECT_EQ(t.settled(0, 0), 1);
  EXPECT_EQ(t.settled(0, 1), 2);
  EXPECT_EQ(t.committable(2), std::nullopt);
  EXPECT_EQ(t.in_flight(2), 0u);
  EXPECT_EQ(t.take_commits(), (commits{{1, 101}, {0, 2}}));
  EXPECT_TRUE(t.take_commits().empty());
  t.delivered(0, 2);
  t.settled(0, 2);
  EXPECT_EQ(t.take_commits(), (commits{{0, 3}}));
}

TEST(commit_tracker, revoke_forgets_the_partition_and_returns_what_was_not_taken) {
  commit_tracker t;
  t.delivered(0, 0);
  t.delivered(0, 1);
  t.delivered(1, 0);
  t.settled(0, 0);
  t.settled(1, 0);
  EXPECT_EQ(t.revoke(0), 1);
  EXPECT_EQ(t.revoke(0), std::nullopt);
  EXPECT_EQ(t.in_flight(0), 0u);
  EXPECT_EQ(t.committable(0), std::nullopt);
  EXPECT_EQ(t.settled(0, 1), std::nullopt);
  EXPECT_EQ(t.take_commits(), (commits{{1, 1}}));
  EXPECT_EQ(t.revoke(1), std::nullopt);  // already taken
  // Assigned again: starts afresh from the committed position.
  t.delivered(0, 1);
  EXPECT_EQ(t.settled(0, 1), 2);
  EXPECT_EQ(t.take_commits(), (commits{{0, 2}}));
}

TEST(commit_tracker, a_long_in_order_stream_keeps_a_bounded_window) {
  commit_tracker t;
  constexpr std::int64_t window = 64;
  for (std::int64_t o = 0; o < 200000; ++o) {
    t.delivered(0, o);
    if (o >= window - 1) {
      ASSERT_EQ(t.settled(0, o - window + 1), o - window + 2);
    }
    ASSERT_LE(t.in_flight(0), static_cast<std::size_t>(window));
  }
}

// A naive tracker that applies the documented rules with a map and linear scans; the real
// one must give the same answers.
class reference_tracker {
public:
  bool delivered(std::int32_t p, std::int64_t o) {
    auto& st = parts_[p];
    if (st.position && o < *st.position)
      return false;
    if (st.rewind && o > *st.rewind)
      return false;
    st.rewind.reset();
    st.slots.erase(st.slots.lower_bound(o), st.slots.end());
    st.slots[o] = false;
    return true;
  }
  std::optional<std::int64_t> settled(std::int32_t p, std::int64_t o) {
    auto& st = parts_[p];
    auto it = st.slots.find(o);
    if (it == st.slots.end() || it->second)
      return std::nullopt;
    it->second = true;
    auto before = st.position;
    while (!st.slots.empty() && st.slots.begin()->second) {
      st.position = st.slots.begin()->first + 1;
      st.slots.erase(st.slots.begin());
    }
    if (st.position == before)
      return std::nullopt;
    return st.position;
  }
  std::optional<std::int64_t> failed(std::int32_t p, std::int64_t o) {
    auto& st = parts_[p];
    auto it = st.slots.find(o);
    if (it == st.slots.end() || it->second)
      return std::nullopt;
    st.slots.erase(it, st.slots.end());
    st.rewind = o;
    return o;
  }
  std::optional<std::int64_t> committable(std::int32_t p) { return parts_[p].position; }
  std::size_t in_flight(std::int32_t p) {
    std::size_t n = 0;
    for (auto& [o, s] : parts_[p].slots)
      n += s ? 0 : 1;
    return n;
  }

private:
  struct state {
    std::map<std::int64_t, bool> slots;
    std::optional<std::int64_t> position;
    std::optional<std::int64_t> rewind;
  };
  std::map<std::int32_t, state> parts_;
};

// A simulated Kafka-like driver: per partition a log with random gaps, a fetch buffer that a
// seek does not always clear (messages fetched before the seek still come out of it), handlers
// that settle or fail in random order, late outcomes of superseded deliveries, spontaneous
// seeks back, duplicate and bogus outcomes.
// What the runs exercised, so a change to the simulation cannot quietly stop testing a rule.
struct sim_stats {
  std::size_t failures = 0;
  std::size_t refused_stale = 0;  // fetched before a seek, above its target
  std::size_t refused_below = 0;  // below the commit position
  std::size_t went_back = 0;      // accepted at or below an offset accepted before
  std::size_t max_in_flight = 0;
};

void run_simulation(std::uint32_t seed, sim_stats& stats) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng{seed};
  auto chance = [&](double p) { return std::uniform_real_distribution<double>{0, 1}(rng) < p; };
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng);
  };

  constexpr std::int32_t partitions = 3;
  struct partition_sim {
    std::vector<std::int64_t> log;             // offsets that exist, increasing, with gaps
    std::size_t cursor = 0;                    // index in log of the next fetch
    std::vector<std::int64_t> buffer;          // fetched, not yet handed to the tracker
    std::optional<std::int64_t> pending_seek;  // asked for by failed(), not yet redelivered
    std::optional<std::int64_t> last_accepted;
    std::set<std::int64_t> ever_settled;      // processed for good by some handler
    std::size_t settled_prefix = 0;           // log[0, settled_prefix) are all in ever_settled
    std::optional<std::int64_t> last_commit;  // from settled() and committable()
    std::optional<std::int64_t> last_taken;   // from take_commits()
  };
  std::vector<partition_sim> sims(partitions);
  for (auto& s : sims) {
    std::int64_t o = static_cast<std::int64_t>(pick(1000));
    auto n = 50 + pick(300);
    for (std::size_t i = 0; i < n; ++i) {
      s.log.push_back(o);
      o += chance(0.7) ? 1 : 1 + static_cast<std::int64_t>(pick(5));
    }
  }
  struct copy {
    std::int32_t partition;
    std::int64_t offset;
  };
  std::vector<copy> handlers;               // accepted deliveries whose handler has not finished
  const std::size_t window = 1 + pick(64);  // credit: at most this many handlers busy

  commit_tracker t;
  reference_tracker ref;

  auto seek = [&](partition_sim& s, std::int64_t to) {
    s.cursor =
        static_cast<std::size_t>(std::lower_bound(s.log.begin(), s.log.end(), to) - s.log.begin());
    // A driver may hand over messages it fetched before the seek; they are all above the seek
    // target when it seeks back from what it delivered. Otherwise it must drop them.
    bool above = std::all_of(s.buffer.begin(), s.buffer.end(), [&](auto o) { return o > to; });
    if (!above || chance(0.5))
      s.buffer.clear();
  };
  auto check_commit = [&](std::int32_t p, std::optional<std::int64_t> pos) {
    if (!pos)
      return;
    auto& s = sims[static_cast<std::size_t>(p)];
    // (a) monotonic.
    if (s.last_commit) {
      ASSERT_GE(*pos, *s.last_commit) << "partition " << p;
    }
    s.last_commit = pos;
    // (b) never past an offset that no handler had settled yet.
    while (s.settled_prefix < s.log.size() && s.ever_settled.count(s.log[s.settled_prefix]))
      ++s.settled_prefix;
    if (s.settled_prefix < s.log.size()) {
      ASSERT_LE(*pos, s.log[s.settled_prefix])
          << "partition " << p << " skipped an unsettled offset";
    }
  };
  auto take = [&] {
    std::set<std::int32_t> seen;
    for (auto [p, pos] : t.take_commits()) {
      ASSERT_TRUE(seen.insert(p).second) << "two commits for partition " << p;
      auto& s = sims[static_cast<std::size_t>(p)];
      if (s.last_taken) {
        ASSERT_GT(pos, *s.last_taken) << "partition " << p;
      }
      s.last_taken = pos;
      ASSERT_EQ(std::optional<std::int64_t>{pos}, t.committable(p));
      check_commit(p, pos);
    }
  };

  const std::size_t fail_until = 4000;  // then handlers stop failing and the driver seeking
  for (std::size_t step = 0;; ++step) {
    bool work_left = !handlers.empty();
    for (auto& s : sims)
      work_left = work_left || s.cursor < s.log.size() || !s.buffer.empty();
    if (!work_left)
      break;
    ASSERT_LT(step, 200000u) << "no progress";
    auto p = static_cast<std::int32_t>(pick(partitions));
    auto& s = sims[static_cast<std::size_t>(p)];
    double r = std::uniform_real_distribution<double>{0, 1}(rng);
    if (r < 0.25) {  // fetch a few
      for (auto n = pick(4); n > 0 && s.cursor < s.log.size(); --n)
        s.buffer.push_back(s.log[s.cursor++]);
    } else if (r < 0.55) {  // hand the oldest fetched message to the tracker
      if (s.buffer.empty() || handlers.size() >= window)
        continue;
      auto o = s.buffer.front();
      s.buffer.erase(s.buffer.begin());
      auto position = t.committable(p);
      auto accepted = t.delivered(p, o);
      ASSERT_EQ(accepted, ref.delivered(p, o)) << "delivered(" << p << ", " << o << ")";
      if (accepted) {
        if (s.last_accepted && o <= *s.last_accepted)
          ++stats.went_back;
        s.last_accepted = o;
        handlers.push_back({p, o});
        stats.max_in_flight = std::max(stats.max_in_flight, handlers.size());
        s.pending_seek.reset();
      } else if (position && o < *position) {
        ++stats.refused_below;
      } else {
        ++stats.refused_stale;
      }
    } else if (r < 0.9) {  // a handler finishes
      if (handlers.empty())
        continue;
      auto i = pick(handlers.size());
      auto c = handlers[i];
      handlers.erase(handlers.begin() + static_cast<std::ptrdiff_t>(i));
      auto& cs = sims[static_cast<std::size_t>(c.partition)];
      if (step < fail_until && chance(0.15)) {
        auto seek_to = t.failed(c.partition, c.offset);
        ASSERT_EQ(seek_to, ref.failed(c.partition, c.offset));
        if (seek_to) {
          ++stats.failures;
          seek(cs, *seek_to);
          cs.pending_seek = seek_to;
        }
      } else {
        cs.ever_settled.insert(c.offset);
        auto pos = t.settled(c.partition, c.offset);
        ASSERT_EQ(pos, ref.settled(c.partition, c.offset));
        check_commit(c.partition, pos);
        if (chance(0.05)) {  // a duplicate outcome
          ASSERT_EQ(t.settled(c.partition, c.offset), std::nullopt);
        }
      }
    } else if (r < 0.92) {  // a bogus outcome: an offset in a gap of the log, or past its end
      auto o = s.log.front() + static_cast<std::int64_t>(pick(2000));
      if (std::binary_search(s.log.begin(), s.log.end(), o))
        continue;
      ASSERT_EQ(chance(0.5) ? t.settled(p, o) : t.failed(p, o), std::nullopt);
    } else if (r < 0.95) {  // the driver seeks back for its own reasons
      if (step >= fail_until)
        continue;
      // Never past what it has not handed over yet, nor past a seek a failure asked for.
      auto limit = s.cursor < s.log.size() ? s.log[s.cursor] : s.log.back() + 1;
      for (auto o : s.buffer)
        limit = std::min(limit, o);
      if (s.pending_seek)
        limit = std::min(limit, *s.pending_seek);
      auto below = static_cast<std::size_t>(std::upper_bound(s.log.begin(), s.log.end(), limit) -
                                            s.log.begin());
      if (below == 0)
        continue;
      seek(s, s.log[pick(below)]);
    } else {
      take();
    }
    ASSERT_EQ(t.committable(p), ref.committable(p));
    ASSERT_EQ(t.in_flight(p), ref.in_flight(p));
    check_commit(p, t.committable(p));
    if (::testing::Test::HasFatalFailure())
      return;
  }
  take();
  if (::testing::Test::HasFatalFailure())
    return;
  // (c) everything settled: the commit is the last offset + 1.
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto& s = sims[static_cast<std::size_t>(p)];
    EXPECT_EQ(t.committable(p), s.log.back() + 1) << "partition " << p;
    EXPECT_EQ(s.last_taken, s.log.back() + 1) << "partition " << p;
    EXPECT_EQ(t.in_flight(p), 0u);
  }
}

TEST(commit_tracker, randomized_driver_with_seeks_and_redelivery) {
  sim_stats stats;
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    run_simulation(seed, stats);
    if (HasFatalFailure())
      return;
  }
  EXPECT_GT(stats.failures, 1000u);
  EXPECT_GT(stats.refused_stale, 1000u);
  EXPECT_GT(stats.refused_below, 1000u);
  EXPECT_GT(stats.went_back, 1000u);
  EXPECT_GE(stats.max_in_flight, 32u);
  std::printf(
      "failures %zu, stale refused %zu, below refused %zu, went back %zu, in flight <= %zu\n",
      stats.failures, stats.refused_stale, stats.refused_below, stats.went_back,
      stats.max_in_flight);
}

}  // namespace
