// One replica's Viewstamped Replication protocol (VRR, Liskov & Cowling 2012), as a
// deterministic state machine: no system calls, clocks, threads or randomness of
// its own. Inputs: step(message), on_request(client, request), tick(), flush(),
// hint_replica_down(id). Outputs: writes through the Journal during the call, and
// messages and replies in output(), to be sent after the journal is synced.
//
// The rules it implements are ../docs/vr-rules.md; each handler names its rule.
// The code is split by sub-protocol: replica.cpp (dispatch, timers, shared helpers),
// normal.cpp (4.1), view_change.cpp (4.2), state_transfer.cpp (5.1, 5.2),
// recovery.cpp (4.3 and repair of faulty entries).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>

#include <boost/unordered/unordered_flat_map.hpp>

#include "replica/core/client_table.h"
#include "replica/core/config.h"
#include "replica/core/message.h"
#include "replica/core/output.h"
#include "replica/core/state_machine.h"
#include "replica/journal/journal.h"

namespace vsr {

// How the replica starts, decided by its driver from Journal::open().
struct Boot {
  enum class Kind {
    restart,  // the journal opened ok: rejoin in the persisted view
    recover,  // no trustworthy state (wiped, corrupt): the journal was formatted
              // untrustworthy, and the replica runs the recovery protocol
  };
  Kind kind = Kind::restart;
  Bytes checkpoint_state;   // restart: state machine + client table at the checkpoint
  std::uint64_t nonce = 0;  // recover: fresh for every run of this replica
};

class Replica {
 public:
  Replica(const ReplicaConfig& config, journal::Journal& journal, StateMachine& state_machine,
          const Boot& boot);

  void step(const Message& message);
  // By value: an accepted request is moved into the queue (the driver passes the one it
  // decoded; a caller keeping its own pays the copy).
  void on_request(ClientId client, Request request);
  // Orders the requests queued since the last flush (the primary's batching point).
  void flush();
  void tick();
  // The driver's report that this replica's log is durable through `op`, from a sync
  // that began when the journal's rewrite count was `rewrites` (a report from before a
  // rewrite is ignored: the sync may predate the entries now at those ops). Counts as
  // the primary's own PrepareOk when config().self_durability_reported.
  void on_durable(OpNumber op, std::uint64_t rewrites);
  // self_durability_reported: whether the primary's own vote is needed now, so its
  // driver should sync the log without waiting. False while f+1 backups keep up on
  // their own (they alone commit each batch: one device flush less per batch); true when
  // fewer do (a backup lagging, or reported dead by hint_replica_down() and not heard
  // from since) or when the commit number has not moved for two whole tick intervals
  // with ops pending. The driver also syncs now and then regardless.
  bool wants_durable() const;
  // Advisory: the supervisor saw this replica die. Never needed for safety.
  void hint_replica_down(ReplicaId replica);

  Output& output() { return output_; }

  // Observers (for the driver's status board, the simulator and tests).
  ReplicaId id() const { return config_.self; }
  Status status() const { return status_; }
  ViewChangeCause view_change_cause() const { return view_change_cause_; }
  ViewNumber view() const { return view_; }
  ViewNumber last_normal_view() const { return last_normal_view_; }
  OpNumber op() const { return log().head(); }
  OpNumber commit() const { return commit_; }
  bool is_primary() const { return primary_of(view_) == config_.self; }
  ReplicaId primary_of(ViewNumber view) const;
  const ClientTable& client_table() const { return table_; }
  const journal::Journal& journal() const { return journal_; }
  const ReplicaConfig& config() const { return config_; }
  std::size_t queued_requests() const { return queue_.size(); }

 private:
  struct Queued {
    ClientId client = 0;
    Request request;
  };

  // ---- replica.cpp: shared helpers ----
  const journal::LogRing& log() const { return journal_.log(); }
  void send(ReplicaId to, Message message);
  void broadcast(Message message);
  void reply(ClientId client, Reply reply);
  // A replica holding a faulty entry vouches for nothing about its log: no
  // PrepareOk or RecoveryResponse until the entry is repaired, and a DoViewChange
  // only without its log (complete_view_change says when that counts). It may still
  // send StartViewChange and move views: that only promises to refuse Prepares of
  // older views, a promise its persisted view keeps.
  bool holds_whole_log() const { return log().faulty().empty(); }
  // Every per-view counter and timer starts afresh, on every path into a view. (R#9, R#10)
  void reset_view_state();
  std::uint32_t jittered(std::uint32_t base);
  std::uint64_t next_random();
  void restore_state(ByteView state);
  Bytes encode_state() const;
  void note_heard_from(ReplicaId replica);

  // ---- normal.cpp (VRR 4.1) ----
  void on_prepare(const Prepare& m);
  void on_prepare_ok(const PrepareOk& m);
  void on_commit(const Commit& m);
  void append_prepare(const Prepare& m);
  void send_prepare_ok(OpNumber op);
  void try_commit();
  // How far the primary's own log counts as acknowledged (op() when the driver syncs
  // before every input, else what on_durable() reported and no rewrite undid).
  OpNumber self_acked() const;
  // Executes every held entry up to `target`, strictly in order. (R#10 nit)
  void commit_through(OpNumber target);
  void execute(const journal::EntryView& entry);
  void prepare_batch();
  // Sends a new Prepare (for op(), just appended) to every backup, or only to the
  // quorum's worth that acknowledged furthest (ReplicaConfig::prepare_fanout).
  void fan_out(Prepare prepare, std::size_t requests);
  // How many backups' acks a new entry needs to commit.
  std::uint32_t backups_for_new_entry() const;
  // Sends backup r, in order, the Prepares of the held ops after sent_[r] up to
  // `through` (the last one moved from `last`, if given and it is that op).
  void send_prepares_through(ReplicaId r, OpNumber through, Prepare* last = nullptr);
  // Brings every backup up to `through` (deferred Prepares, quorum_first).
  void catch_up_backups(OpNumber through);
  // A Prepare of our held entry at op `o` (a copy of its body); nullopt if faulty or
  // compacted into our checkpoint.
  std::optional<Prepare> prepare_from_log(OpNumber o) const;
  void primary_tick();
  void backup_tick();
  std::uint32_t backups_needed() const;

  // ---- view_change.cpp (VRR 4.2) ----
  void start_view_change(ViewNumber view, ViewChangeCause cause);
  void on_start_view_change(const StartViewChange& m);
  void on_do_view_change(const DoViewChange& m);
  void on_start_view(const StartView& m);
  void maybe_send_do_view_change();
  DoViewChange make_do_view_change() const;
  void complete_view_change();
  void become_primary(OpNumber commit);
  StartView make_start_view(OpNumber start) const;
  void view_change_tick();

  // ---- state_transfer.cpp (VRR 5.1, 5.2) ----
  void learn_newer_view(ViewNumber view);
  void request_state();
  void on_get_state(const GetState& m);
  void on_new_state(const NewState& m);
  // Makes the log equal to this suffix from its start on; false if it does not chain.
  bool adopt_suffix(const LogSuffix& suffix, ViewNumber view, ViewNumber last_normal_view);
  bool install(const NewState& m, ViewNumber view);
  // Extends base with tail's entries after base.end(), if tail chains there.
  static bool append_tail(LogSuffix& base, const LogSuffix& tail);
  LogSuffix suffix_after(OpNumber start, OpNumber end) const;
  void maybe_checkpoint();
  void state_transfer_tick();

  // ---- recovery.cpp (VRR 4.3; repair) ----
  void start_recovery();
  void on_recovery(const Recovery& m);
  void on_recovery_response(const RecoveryResponse& m);
  void on_request_entry(const RequestEntry& m);
  void on_entry_repair(const EntryRepair& m);
  void on_entry_nack(const EntryNack& m);
  void maybe_drop_torn_tail();
  void recovery_tick();
  void repair_tick();

  ReplicaConfig config_;
  journal::Journal& journal_;
  StateMachine& state_machine_;
  ClientTable table_;
  Output output_;

  Status status_ = Status::normal;
  ViewNumber view_;
  ViewNumber last_normal_view_;
  OpNumber commit_;      // every op up to here is executed (commit_ <= op)
  OpNumber commit_max_;  // highest commit number heard in this view (may be > op)

  std::uint64_t now_ = 0;  // ticks since start (for "recently heard", never for safety)
  std::uint64_t random_state_ = 0;
  std::uint32_t view_change_timeout_ = 0;  // jittered per view

  // Primary.
  std::deque<Queued> queue_;
  std::array<OpNumber, kMaxReplicas> acked_{};  // highest op each backup acked in this view
  // Highest op whose Prepare went to each backup in this view. Our log at the view's
  // start counts as sent: a new primary's StartView carried it; a primary restarted in
  // its view does not know, and a backup short of entries gets them from the retry in
  // primary_tick() (uncommitted ones) or asks for state (its gap, R#4).
  std::array<OpNumber, kMaxReplicas> sent_{};
  std::bitset<kMaxReplicas> team_;  // the backups the last quorum_first Prepare went to
  // Backups the supervisor reported dead in this view, until they ack again: not counted
  // as keeping up by wants_durable(). (Advisory, like every hint: no vote depends on it.)
  std::bitset<kMaxReplicas> reported_down_;
  // self_durability_reported: our log is durable through durable_op_ as long as the
  // journal's rewrite count is still durable_rewrites_.
  OpNumber durable_op_;
  std::uint64_t durable_rewrites_ = 0;
  OpNumber commit_at_last_tick_;            // primary: commit_ at the previous tick
  std::uint32_t commit_stalled_ticks_ = 0;  // ticks the commit number stood with ops pending
  // Touched by every request and every reply: open addressing, no node per entry.
  template <typename K, typename V>
  using FlatMap = boost::unordered_flat_map<K, V, std::hash<K>>;
  FlatMap<SessionId, ClientId> reply_to_;
  FlatMap<std::uint64_t, ClientId> register_reply_to_;  // by nonce
  FlatMap<SessionId, RequestNumber> in_flight_;
  std::uint32_t ticks_since_prepare_ = 0;
  std::uint32_t ticks_since_retry_ = 0;

  // Backup.
  std::uint32_t ticks_since_primary_ = 0;
  std::map<OpNumber, Prepare> future_;  // Prepares past a gap, bounded by the pipeline
  std::uint32_t gap_ticks_ = 0;

  // View change.
  std::bitset<kMaxReplicas> start_view_change_from_;
  std::map<ReplicaId, DoViewChange> do_view_change_from_;
  bool do_view_change_sent_ = false;
  std::uint32_t view_change_ticks_ = 0;
  ViewChangeCause view_change_cause_ = ViewChangeCause::none;
  // The new primary chose a log but lacks committed entries below it: it fetched
  // them from the log's owner (GetState committed_only) and waits here.
  std::optional<DoViewChange> awaiting_committed_;
  OpNumber awaiting_commit_;

  // State transfer and recovery.
  std::uint32_t state_transfer_ticks_ = 0;
  std::uint32_t state_transfer_attempt_ = 0;
  std::uint64_t nonce_ = 0;
  std::map<ReplicaId, RecoveryResponse> recovery_responses_;
  std::optional<ViewNumber> recovery_view_;
  std::uint32_t recovery_ticks_ = 0;
  std::uint32_t repair_ticks_ = 0;
  std::uint32_t repair_rounds_ = 0;
  // For each of our faulty entries, the latest view each replica nacked it from (0:
  // none); only views after last_normal_view count (recovery.cpp, maybe_drop_torn_tail).
  std::map<OpNumber, std::array<ViewNumber, kMaxReplicas>> nacks_;

  std::array<std::uint64_t, kMaxReplicas> last_heard_{};
};

}  // namespace vsr
