// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore

/// A few threads that run what cannot run on the engine's thread: the
/// attempts of providers that are functions of the embedding program
/// (`CallbackProvider`: C and Python providers), which block until they
/// answer. A job reports back through `Engine.post` (the inbox and the
/// eventfd), never by touching a call.
///
/// Threads are made when a job finds none idle, up to `maxThreads` (then jobs
/// wait their turn), and end when the engine is freed.
final class EngineWorkers: @unchecked Sendable { // the queue and counts live under `state`'s lock; jobs run on the workers alone
    typealias Job = () -> Void

    private struct Queue {
        var jobs: [Job] = []
        var head = 0
        var idle = 0
        var threads = 0
        var stopping = false
    }

    static let maxThreads = 32
    private let state = ConditionLock(Queue())

    /// Queues `job`; false when no thread could run it (none exists and none can be made).
    func run(_ job: @escaping Job) -> Bool {
        let start = state.update { q -> Bool in
            q.jobs.append(job)
            // A thread more when the jobs waiting outnumber the idle threads.
            guard q.jobs.count - q.head > q.idle, q.threads < Self.maxThreads else { return false }
            q.threads += 1
            return true
        }
        guard start else { return true }
        if spawn() { return true }
        let none = state.update { q -> Bool in
            q.threads -= 1
            guard q.threads == 0 else { return false }
            q.jobs.removeLast()
            return true
        }
        return !none
    }

    /// Lets the threads end once the jobs queued are done.
    func stop() {
        state.update { $0.stopping = true }
    }

    private func spawn() -> Bool {
        var t = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let me = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&t, &attributes, { arg in
            let workers = Unmanaged<EngineWorkers>.fromOpaque(arg!).takeRetainedValue()
            workers.work()
            return nil
        }, me) == 0 else {
            Unmanaged<EngineWorkers>.fromOpaque(me).release()
            return false
        }
        return true
    }

    private func work() {
        while true {
            var waiting = false
            let job = state.wait { q -> Job?? in
                if q.head < q.jobs.count {
                    if waiting { q.idle -= 1 }
                    let job = q.jobs[q.head]
                    q.head += 1
                    if q.head == q.jobs.count { q.jobs.removeAll(keepingCapacity: true); q.head = 0 }
                    return .some(job)
                }
                if q.stopping {
                    if waiting { q.idle -= 1 }
                    q.threads -= 1
                    return .some(nil)
                }
                if !waiting { q.idle += 1; waiting = true }
                return nil
            }
            guard let job else { return }
            job()
        }
    }
}
