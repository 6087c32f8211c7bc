// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport

/// What an attempt running on one of the engine's worker threads reports to
/// its call, which reads it on the engine's thread.
struct OffThreadReport: @unchecked Sendable { // made on a worker, read once on the engine's thread (handed over under the inbox's lock)
    enum Kind {
        case answer(ChatAnswer)
        /// A chunk's bytes, with a NUL after them.
        case chunk([UInt8])
        case thinking([UInt8])
        /// The stream ended cleanly with this usage.
        case ended(usage: (input: Int64, output: Int64))
        case failed(ModelsError, usage: (input: Int64, output: Int64))
    }

    /// The attempt's token: the call ignores reports of an attempt it gave up.
    let attempt: Cancellation
    let kind: Kind
}

/// An attempt of a provider that is a function of the embedding program
/// (`CallbackProvider`: it blocks until it answers), run on a worker thread.
/// It talks to its call only through `Engine.post`; `token` cancelled (the
/// call gave up the attempt) stops a stream at its next chunk.
enum OffThreadAttempt {
    static func job(_ provider: any ChatProvider, _ call: ChatCall, stream: Bool, thinking: Bool,
                    token: Cancellation, engine: Engine, id: UInt64) -> () -> Void {
        return {
            func post(_ kind: OffThreadReport.Kind) { engine.post(id, OffThreadReport(attempt: token, kind: kind)) }
            guard stream else {
                do throws(ModelsError) { post(.answer(try provider.chat(call))) } catch { post(.failed(error, usage: (0, 0))) }
                return
            }
            var open: (any ProviderStream)?
            do throws(ModelsError) {
                let opened = try provider.openStream(call)
                open = opened
                let outlet = ChunkOutlet(push: { bytes in
                    var copy = [UInt8](bytes)
                    copy.append(0)
                    post(.chunk(copy))
                    return !token.isCancelled
                }, onThinking: thinking ? { text in post(.thinking([UInt8](text))) } : nil)
                while try opened.pump(outlet) { try token.checkCancelled() }
                let usage = opened.usage
                opened.close()
                post(.ended(usage: usage))
            } catch {
                let usage = open?.usage ?? (0, 0)
                open?.close()
                post(.failed(error, usage: usage))
            }
        }
    }
}

extension OffThreadAttempt {
    /// An embeddings attempt of a provider that blocks.
    static func job(_ provider: any ChatProvider, _ call: EmbeddingsCall, token: Cancellation, engine: Engine,
                    id: UInt64) -> () -> Void {
        return {
            let kind: OffThreadReport.Kind
            do throws(ModelsError) { kind = .answer(try provider.embed(call)) } catch { kind = .failed(error, usage: (0, 0)) }
            engine.post(id, OffThreadReport(attempt: token, kind: kind))
        }
    }
}
