// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import Synchronization

/// A cancellation flag that one thread sets and the thread doing the work
/// notices promptly: a transfer waiting in `curl_multi_poll` and a sleeping
/// backoff are both woken at once.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    /// Wakes whoever is waiting on behalf of this token; nil when nobody waits.
    private let waker = Locked<(@Sendable () -> Void)?>(nil)
    private let sleeper = Sleeper()

    public init() {}

    public var isCancelled: Bool { flag.load(ordering: .acquiring) }

    /// Sets the flag and wakes the waiting thread. Safe from any thread, any number of times.
    public func cancel() {
        flag.store(true, ordering: .releasing)
        waker.withLock { $0?() }
        listeners.withLock { for l in $0.all { l.tell() } }
        sleeper.wake()
    }

    public func checkCancelled() throws(ModelsError) {
        if isCancelled { throw ModelsError(.cancelled, "cancelled by the caller") }
    }

    /// Runs `body` with `wake` installed as the way to interrupt it. The waker is
    /// removed, under the same lock `cancel` takes, before this returns, so it is
    /// never called once the resource it touches is gone.
    func whileWaiting<T, E: Error>(wake: @escaping @Sendable () -> Void, _ body: () throws(E) -> T) throws(E) -> T {
        waker.withLock { $0 = wake }
        defer { waker.withLock { $0 = nil } }
        return try body()
    }

    /// Engine calls told of a cancel, by key: one token may serve many calls at once.
    private let listeners = Locked<(next: Int, all: [(key: Int, tell: @Sendable () -> Void)])>((0, []))

    /// Calls `tell` on the cancelling thread when the token is cancelled, until
    /// `removeListener(key)` with the key returned.
    package func addListener(_ tell: @escaping @Sendable () -> Void) -> Int {
        listeners.withLock {
            $0.next += 1
            $0.all.append(($0.next, tell))
            return $0.next
        }
    }

    package func removeListener(_ key: Int) {
        listeners.withLock { $0.all.removeAll { $0.key == key } }
    }

    /// Sleeps up to `ms`, returning early (with `.cancelled`) when cancelled.
    public func sleep(ms: Int64) throws(ModelsError) {
        try checkCancelled()
        guard ms > 0 else { return }
        sleeper.wait(ms: ms) { self.isCancelled }
        try checkCancelled()
    }
}

/// A pthread condition variable for sleeps that `cancel()` can cut short.
private final class Sleeper: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    func wait(ms: Int64, until done: () -> Bool) {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let ns = Int64(deadline.tv_nsec) + (ms % 1000) * 1_000_000
        deadline.tv_sec += Int(ms / 1000) + Int(ns / 1_000_000_000)
        deadline.tv_nsec = Int(ns % 1_000_000_000)
        pthread_mutex_lock(&mutex)
        while !done() {
            if pthread_cond_timedwait(&cond, &mutex, &deadline) == ETIMEDOUT { break }
        }
        pthread_mutex_unlock(&mutex)
    }

    func wake() {
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }
}
