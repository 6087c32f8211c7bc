// SPDX-License-Identifier: Apache-2.0
import Models
import ModelsCore

/// How often a pull stream was resumed (`stream_recovery: "resume"`); 0 when it was not.
@_cdecl("models_stream_resumes")
public func models_stream_resumes(_ s: OpaquePointer?) -> Int32 {
    guard let s, let resumed = StreamObject.from(s).stream?.resumed else { return 0 }
    return Int32(clamping: resumed.count)
}

/// `{"count": n, "parts": [...]}` for a resumed pull stream (the caller frees it); NULL when it was not resumed.
@_cdecl("models_stream_resumed")
public func models_stream_resumed(_ s: OpaquePointer?) -> UnsafeMutablePointer<CChar>? {
    guard let s, let resumed = StreamObject.from(s).stream?.resumed else { return nil }
    return CStrings.copy(resumed.summary)
}
