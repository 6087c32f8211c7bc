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
package final class Locked<State>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Touched only with `mutex` held.
    private var state: State

    package init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the state with the lock held. `body` must not take this lock again.
    package func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
