// SPDX-License-Identifier: Apache-2.0
import Models
import ModelsCore

/// The `size` first member of a struct the caller fills in (models.h).
///
/// Each struct has one version so far, so its size is the only one accepted:
/// a smaller size is not a version we know, and a larger one comes from a
/// newer header whose extra members we cannot interpret (refused while at 0.x).
/// The size is read before the rest, so a short struct is never read past its end.
enum StructSize {
    static func check(_ table: UnsafeRawPointer, expected: Int, what: String, type: String) throws(ModelsError) {
        let size = table.loadUnaligned(as: Int.self)
        guard size == expected else {
            throw .invalidArgument("\(what) is \(UInt(bitPattern: size)), not sizeof(\(type)) = \(expected): "
                + "set it to sizeof(\(type)) and build against this version's models.h")
        }
    }
}
