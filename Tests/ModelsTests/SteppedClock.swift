// SPDX-License-Identifier: Apache-2.0
import Synchronization
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// A clock that moves only when a test moves it, so time-based tests never sleep.
final class SteppedClock: Sendable {
    private let ms: Mutex<Int64>

    init(_ start: Int64 = 1_000_000) { ms = Mutex(start) }

    var nowMs: Int64 { ms.withLock { $0 } }
    var now: NowMs { { [self] in self.nowMs } }

    func advance(_ delta: Int64) { ms.withLock { $0 += delta } }
}
