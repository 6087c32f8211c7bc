// SPDX-License-Identifier: Apache-2.0

/// A Swift object lent to C as an opaque pointer (`models_router *`,
/// `models_stream *`, ...). `handle` hands C one retained reference, `from`
/// borrows the object back without touching the count, and `release` drops the
/// reference C held (the object dies unless Swift code still holds it).
protocol OpaqueHandle: AnyObject {}

extension OpaqueHandle {
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer) -> Self {
        Unmanaged<Self>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    static func release(_ handle: OpaquePointer) {
        Unmanaged<Self>.fromOpaque(UnsafeRawPointer(handle)).release()
    }
}
