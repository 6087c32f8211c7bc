// SPDX-License-Identifier: Apache-2.0
import Glibc

/// hiredis writes with write(2), which raises SIGPIPE when Redis has closed
/// the connection, and SIGPIPE's default action ends the process: a library
/// must not do that to its host. Around each talk with Redis the signal is
/// blocked on this thread, and one it raised is taken back before unblocking.
enum SignalGuard {
    static func withoutSIGPIPE<R>(_ body: () -> R) -> R {
        var pipe = sigset_t(), old = sigset_t(), pending = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        sigpending(&pending)
        // A SIGPIPE already pending (not ours) is left alone.
        let wasPending = sigismember(&pending, SIGPIPE) == 1
        pthread_sigmask(SIG_BLOCK, &pipe, &old)
        defer {
            if !wasPending {
                sigpending(&pending)
                if sigismember(&pending, SIGPIPE) == 1 {
                    var zero = timespec(tv_sec: 0, tv_nsec: 0)
                    _ = sigtimedwait(&pipe, nil, &zero)
                }
            }
            pthread_sigmask(SIG_SETMASK, &old, nil)
        }
        return body()
    }
}
