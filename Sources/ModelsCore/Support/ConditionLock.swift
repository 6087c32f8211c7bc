// SPDX-License-Identifier: Apache-2.0
import Glibc

/// State guarded by a pthread mutex with a condition variable, for threads that
/// must wait for another thread's result (Synchronization's `Mutex` has no
/// condition, and the core uses neither Foundation nor Dispatch).
public final class ConditionLock<State>: @unchecked Sendable {
    @usableFromInline let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    @usableFromInline let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Touched only with `mutex` held.
    @usableFromInline var state: State

    public init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` on the state under the lock.
    @inlinable public func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Runs `body` on the state under the lock, then wakes every waiting thread
    /// so each can look at what changed.
    @inlinable public func update<R>(_ body: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let result = body(&state)
        pthread_cond_broadcast(condition)
        return result
    }

    /// Calls `decide` under the lock until it returns a value, sleeping on the
    /// condition in between (the lock is released while asleep). `decide` may
    /// throw to stop waiting.
    @inlinable public func wait<R, E: Error>(until decide: (inout State) throws(E) -> R?) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let result = try decide(&state) { return result }
            pthread_cond_wait(condition, mutex)
        }
    }

    /// Wakes every waiting thread without changing the state (a cancellation
    /// wants its thread to look again).
    public func wakeAll() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
