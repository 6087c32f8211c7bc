// SPDX-License-Identifier: Apache-2.0
import Glibc

/// A value guarded by a pthread mutex, with the `withLock` shape of
/// Synchronization's `Mutex`.
///
/// Why not `Mutex`: on Linux it locks with raw futex syscalls, which
/// ThreadSanitizer cannot see, so every access under it is reported as a
/// "Swift access race" (a false positive, reproducible with a ten-line
/// program on Swift 6.3). pthread mutexes are intercepted by TSAN, so the
/// core's locking is checked for real (scripts/tsan). Uncontended, both cost
/// one atomic operation.
///
/// Public (not `package`) and `withLock` inlinable: the layers above lock on
/// every request, and Swift 6.3 does not inline or specialise a method of a
/// `package` type in another module, even an `@inlinable` one (a generic call
/// per lock: +2 % instructions per `models_chat`).
public final class Locked<State>: @unchecked Sendable {
    @usableFromInline let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Touched only with `mutex` held.
    @usableFromInline var state: State

    public init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the state with the lock held. `body` must not take this lock again.
    @inlinable public func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
