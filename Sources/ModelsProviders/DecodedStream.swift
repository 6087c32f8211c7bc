// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// A provider's event stream read by the blocking path: the transfer's body
/// goes through the provider's `StreamDecoder`, the same one the engine feeds,
/// so both paths turn a provider's events into chunks alike. The end marker
/// ends the stream; a body that ends before it is the decoder's `endedEarly`.
final class DecodedStream<Decoder: StreamDecoder>: ProviderStream {
    private let transfer: HTTPTransfer
    private let decoder: Decoder

    init(transfer: HTTPTransfer, decoder: Decoder) {
        self.transfer = transfer
        self.decoder = decoder
    }

    deinit { transfer.close() }

    var usage: (input: Int64, output: Int64) { decoder.usage }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !decoder.finished else { return false }
        let more = try transfer.pump { bytes throws(ModelsError) in
            try self.decoder.feed(bytes, to: outlet, onEvent: self.transfer.noteEvent)
        }
        if decoder.finished {
            transfer.finishQuietly()
            return false
        }
        if !more { throw decoder.endedEarly }
        return true
    }

    func close() { transfer.close() }

    func pauseAfterThisRead() { transfer.pauseAfterThisRead() }
}

/// A `DecodedStream` for a decoder known only as `any StreamDecoder` (an
/// exchange's): the call opens the existential, so the stream is specialised.
func decodedStream<Decoder: StreamDecoder>(_ transfer: HTTPTransfer, _ decoder: Decoder) -> any ProviderStream {
    DecodedStream(transfer: transfer, decoder: decoder)
}
