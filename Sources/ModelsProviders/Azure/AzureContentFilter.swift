// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Azure OpenAI's content filter stopping an answer: a 200 whose choices end
/// with `"finish_reason": "content_filter"`. (A prompt the filter refuses is an
/// HTTP 400 with the code `content_filter`, which `ErrorKind.refusal` reads.)
/// Both become a `content_policy` error, so `content_policy_fallbacks` apply.
enum AzureContentFilter {
    /// The error for an answer whose every choice the filter stopped; nil for
    /// any other answer. Cheap for the usual answer: only a body that holds
    /// the string `"content_filter"` (quotes included; Azure's
    /// `"content_filter_results"` does not match) is parsed.
    static func refusal(inAnswer bytes: [UInt8], provider: String) -> ModelsError? {
        guard contains(bytes, marker), let json = try? JSON.parse(bytes), let choices = json["choices"]?.array,
              !choices.isEmpty,
              choices.allSatisfy({ $0["finish_reason"]?.string == "content_filter" }) else { return nil }
        return error(provider: provider)
    }

    /// The error for a stream chunk with a choice the filter stopped; nil otherwise.
    static func refusal(inChunk bytes: UnsafeRawBufferPointer, provider: String) -> ModelsError? {
        guard contains(bytes, marker), let json = try? JSON.parse(bytes), let choices = json["choices"]?.array,
              choices.contains(where: { $0["finish_reason"]?.string == "content_filter" }) else { return nil }
        return error(provider: provider)
    }

    static func error(provider: String) -> ModelsError {
        ModelsError(.api, "\(provider) stopped the answer: its content filter flagged it (finish_reason \"content_filter\")",
                    kind: .contentPolicy)
    }

    private static let marker = Array(#""content_filter""#.utf8)

    static func contains<C: Collection>(_ bytes: C, _ needle: [UInt8]) -> Bool where C.Element == UInt8, C.Index == Int {
        guard bytes.count >= needle.count else { return false }
        let first = needle[0]
        var i = bytes.startIndex
        let last = bytes.endIndex - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
